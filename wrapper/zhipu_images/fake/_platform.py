"""The fake platform's behaviour, independent of how requests reach it.

``FakePlatform.handle`` maps one request to one reply: routing, auth, the
request's checks (``_request_checks``), the scripted and configured
simulations (``_settings``), and the success bodies with URLs that point back
at the fake. The adapters (httpx transport, respx mock, HTTP server) only carry
bytes and apply ``reply.delay`` and ``reply.drop``, then call ``finish``.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import heapq
import json
import random
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import define, field, frozen

from .._config import PLATFORM_MODELS
from ._answers import MESSAGES, OPENAI_CODES, OPENAI_MESSAGES, STATUS, UNAVAILABLE_HTML, ZAI_MESSAGES
from ._png import make_png
from ._request_checks import Rejection, checked_body, checked_task_body
from ._settings import POLL_FAULTS, TASK_ONLY_FAULTS, Fault, checked_fault_rates, checked_latency, known_fault

ZHIPU_PATH = "/api/paas/v4/images/generations"
#: the task API: a submission answers at once with a task id; the result is fetched by that id
ZHIPU_TASK_PATH = "/api/paas/v4/async/images/generations"
TASK_RESULT_PREFIX = "/api/paas/v4/async-result/"
OPENAI_PATH = "/v1/images/generations"
FILES_PREFIX = "/files/"
#: ``/files/<request id>/<seed>-<W>x<H>.png``: the pixels follow the prompt (seed), and the request id
#: makes each generation's URL unique, as the platform's are (n requests for one prompt: n files).
_FILE = re.compile(r"/files/fake-[0-9]{1,12}/([0-9a-f]{16})-([0-9]{1,5})x([0-9]{1,5})\.png")


@frozen
class FakeRequest:
    """A request as any adapter receives it. ``origin`` is ``scheme://host[:port]``."""

    method: str
    path: str
    origin: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@define
class FakeReply:
    status: int
    body: bytes
    headers: dict[str, str] = field(factory=lambda: {"content-type": "application/json"})
    #: the simulated latency: seconds from the request's arrival to its answer (the HTTP server counts its own
    #: reading and checking in it; the in-process adapters, whose checking takes microseconds, wait it whole)
    delay: float = 0.0
    #: close the connection without answering
    drop: bool = False
    #: the key whose in-flight slot ``finish`` releases
    slot: str | None = None


@frozen
class FakeTask:
    """A task as the fake keeps it, for the server's life: whose it is, when it is done, and how it ends."""

    id: str
    token: str
    model: str
    ready_at: float
    #: ``SUCCESS`` or ``FAIL`` (a scripted ``task_fail``), from ``ready_at`` on
    outcome: str
    #: the image's path under the fake's origin (the URL is made with the origin each poll arrives on)
    image_path: str


@frozen
class RecordedRequest:
    """What the fake received. The Authorization header is never kept."""

    method: str
    path: str
    json: Any
    status: int
    api_key_given: bool
    received_at: float


class FakePlatform:
    """A stand-in for the Zhipu image API and an OpenAI-compatible one. Thread-safe.

    Settings are plain attributes, changeable at any time from a test:
    ``api_key`` (None: any Bearer token is accepted), ``content_filter_words``,
    ``concurrency_limit`` (per key, like the account tiers), ``retry_after``,
    ``latency`` (seconds, or a ``(low, high)`` range), ``balance_exhausted``,
    ``overloaded``, ``image_urls_expired`` (the image files answer 404, as the
    platform's do after 30 days), ``fault_rates`` (fault -> probability per
    generation request, for soak tests of another client's retries).
    ``fail_next`` scripts faults for the next requests; ``seed`` makes the
    random latency and random faults repeatable.

    The task API: a submission is checked and charged like a generation and answered at once with a task id;
    the task stays ``PROCESSING`` for the latency (holding one of its key's ``concurrency_limit`` slots), then
    ends ``SUCCESS`` with an image URL, or ``FAIL`` for a ``task_fail`` fault. Tasks are kept for the
    platform's life; an id it never issued (or another key's) is answered as the platform answers a bad id.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        content_filter_words: Iterable[str] = ("违禁", "forbidden-word"),
        concurrency_limit: int | None = None,
        retry_after: float | None = None,
        latency: float | tuple[float, float] = 0.0,
        balance_exhausted: bool = False,
        overloaded: bool = False,
        image_urls_expired: bool = False,
        fault_rates: Mapping[str, float] | None = None,
        seed: int | None = None,
        record_limit: int = 1000,
        platform: str = "bigmodel",
    ) -> None:
        if platform not in ("bigmodel", "zai"):
            raise ValueError(f"platform must be 'bigmodel' or 'zai', got {platform!r}")
        #: "zai": answer as Z.AI does (its models, English messages, 1002 for a wrong key)
        self.platform = platform
        self.api_key = api_key
        self.content_filter_words = tuple(content_filter_words)
        self.concurrency_limit = concurrency_limit
        self.retry_after = retry_after
        self._latency = checked_latency(latency)
        self.balance_exhausted = balance_exhausted
        self.overloaded = overloaded
        self.image_urls_expired = image_urls_expired
        self.fault_rates = fault_rates or {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._faults: collections.deque[Fault] = collections.deque()
        self._poll_faults: collections.deque[Fault] = collections.deque()
        self._tasks: dict[str, FakeTask] = {}
        #: key -> when each of its processing tasks is done (a heap): they hold its concurrency slots
        self._processing: dict[str, list[float]] = {}
        self._in_flight: collections.Counter[str] = collections.Counter()
        self._records: collections.deque[RecordedRequest] = collections.deque(maxlen=record_limit)
        self._ids = 0
        #: the most generation requests ever in flight at once, over all keys
        self.max_in_flight = 0
        #: generation requests received since creation or ``reset`` (``requests`` keeps only the last ones)
        self.received = 0
        #: generation requests answered 200: what the platform would have billed
        self.generated = 0
        #: task submissions accepted (answered 200 with a task id): what it would have billed for tasks
        self.tasks_submitted = 0
        #: task results asked for (polls), answered or not
        self.polls = 0
        #: of those, answered 1302 because the key had ``concurrency_limit`` requests in flight
        self.rate_limited = 0
        #: seconds of simulated latency given to the generations answered 200, in all (a benchmark's ideal
        #: time is this over the concurrency limit)
        self.latency_total = 0.0

    # --- scripting and inspection -------------------------------------------------

    def fail_next(self, fault: Fault, times: int = 1, *, on: str = "generation") -> None:
        """Answer the next ``times`` generation requests (task submissions included) with ``fault``, queued
        after earlier ones; ``task_fail`` is met by the next task submission only, which is accepted and ends
        ``FAIL``. ``on="poll"``: the next polls of a task's result instead (``rate_limit``, ``server_error``,
        ``unavailable``, ``drop``)."""
        checked = known_fault(fault)
        if on == "poll" and checked not in POLL_FAULTS:
            raise ValueError(f"a poll cannot meet {fault!r}; choose from {', '.join(sorted(POLL_FAULTS))}")
        if on not in ("generation", "poll"):
            raise ValueError(f"on must be 'generation' or 'poll', got {on!r}")
        with self._lock:
            (self._poll_faults if on == "poll" else self._faults).extend([checked] * times)

    @property
    def latency(self) -> float | tuple[float, float]:
        return self._latency

    @latency.setter
    def latency(self, value: float | tuple[float, float]) -> None:
        self._latency = checked_latency(value)

    @property
    def fault_rates(self) -> Mapping[Fault, float]:
        return self._fault_rates

    @fault_rates.setter
    def fault_rates(self, rates: Mapping[str, float]) -> None:
        self._fault_rates = checked_fault_rates(rates)

    def _next_fault(self, task: bool) -> Fault | None:
        """The scripted fault for this request, else one drawn from ``fault_rates``, else None. A task-only
        fault is left for the next task submission by a sync generation, and drawn as none for it."""
        with self._lock:
            if self._faults and (task or self._faults[0] not in TASK_ONLY_FAULTS):
                return self._faults.popleft()
            if not self._fault_rates:
                return None
            draw = self._random.random()
        for fault, rate in self._fault_rates.items():
            if draw < rate:
                return fault if task or fault not in TASK_ONLY_FAULTS else None
            draw -= rate
        return None

    @property
    def requests(self) -> list[RecordedRequest]:
        """The generation requests received, oldest first (the last ``record_limit`` of them)."""
        with self._lock:
            return list(self._records)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return sum(self._in_flight.values())

    def warm_up(self) -> None:
        """Do now what the first generation request would otherwise do on its way: import jsonschema, load
        the specs and build their validators, read the spec's models (54-85 ms). A server calls it before it
        says it is listening, so that its first answers are as quick as the rest: a client started at once
        (a benchmark, a test with a short timeout) met a server still setting itself up. Touches no counter."""
        checked_body("zhipu", {"model": "glm-image", "prompt": "warm-up"})
        checked_body("openai", {"prompt": "warm-up"})

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._records.clear()
            self._poll_faults.clear()
            self.max_in_flight = 0
            self.received = 0
            self.generated = 0
            self.tasks_submitted = 0
            self.polls = 0
            self.rate_limited = 0
            self.latency_total = 0.0

    # --- the behaviour ------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeReply:
        if request.method == "GET" and request.path.startswith(FILES_PREFIX):
            return self._file(request.path)
        if request.path.startswith(TASK_RESULT_PREFIX):
            return self._task_result(request)
        provider = {ZHIPU_PATH: "zhipu", OPENAI_PATH: "openai", ZHIPU_TASK_PATH: "zhipu"}.get(request.path)
        if provider is None:
            return self._error("zhipu", "1222", f"{request.method} {request.path}: {MESSAGES['1222']}")
        if request.method != "POST":
            reply = self._error(provider, "1222", f"{request.method} is not allowed here; use POST")
            reply.status = 405
            reply.headers["allow"] = "POST"
            return reply
        body = _json_or_none(request.body)
        task = request.path == ZHIPU_TASK_PATH
        reply = self._generate(provider, request, body, task)
        with self._lock:
            self.received += 1
            if not task:  # an accepted task is counted where it is kept (``_submitted``)
                self.generated += reply.status == 200
            self._records.append(
                RecordedRequest(
                    method=request.method,
                    path=request.path,
                    json=body,
                    status=reply.status,
                    api_key_given="authorization" in request.headers,
                    received_at=time.time(),
                )
            )
        return reply

    def finish(self, reply: FakeReply) -> None:
        """Release the in-flight slot a reply holds; adapters call it once the reply is sent or dropped."""
        if reply.slot is not None:
            with self._lock:
                self._in_flight[reply.slot] -= 1
            reply.slot = None

    def _token(self, provider: str, request: FakeRequest) -> str | FakeReply:
        """The request's key, or the platform's answer to a missing or wrong one."""
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token:
            return self._error(provider, "1001")
        if self.api_key is not None and token != self.api_key:
            return self._error(provider, "1002" if self.platform == "zai" else "401")
        return token

    def _processing_tasks(self, token: str, now: float) -> int:
        """The key's tasks still processing (those done are let go here). Under the lock."""
        done = self._processing.get(token)
        while done and done[0] <= now:
            heapq.heappop(done)
        return len(done) if done else 0

    def _busy(self, token: str, now: float) -> int:
        """The key's requests in flight and tasks still processing. Under the lock."""
        return self._in_flight[token] + self._processing_tasks(token, now)

    def _generate(self, provider: str, request: FakeRequest, body: Any, task: bool = False) -> FakeReply:
        token = self._token(provider, request)
        if isinstance(token, FakeReply):
            return token
        # DECISION: parameters are checked before balance and faults, as the platform was seen to (a bad
        # parameter is answered 1214 even with no balance: ../shared/reference).
        try:
            prompt, images = checked_task_body(body) if task else checked_body(provider, body)
        except Rejection as rejection:
            said = rejection.english if self.platform == "zai" else rejection.message_for(provider)
            return self._error(provider, rejection.code, said, rejection.field)
        served = PLATFORM_MODELS.get(self.platform)
        if provider == "zhipu" and served is not None and str(body.get("model", "")).lower() not in served:
            return self._error(provider, "1211")
        fault = self._next_fault(task)
        if fault == "drop":
            return FakeReply(status=0, body=b"", drop=True)
        if fault == "unavailable":  # not the platform's contract (HTML, no code): the conformance report names it
            return FakeReply(status=503, body=UNAVAILABLE_HTML, headers={"content-type": "text/html"})
        fault_codes = {"rate_limit": "1302", "overloaded": "1305", "no_balance": "1113", "server_error": "500"}
        if fault in fault_codes:
            return self._error(provider, fault_codes[fault])
        if self.balance_exhausted:
            return self._error(provider, "1113")
        if self.overloaded:
            return self._error(provider, "1305")
        if fault == "content_filter" or any(word in prompt for word in self.content_filter_words):
            return self._error(provider, "1301")
        now = time.monotonic()
        with self._lock:
            if self.concurrency_limit is not None and self._busy(token, now) >= self.concurrency_limit:
                limited = True
            else:
                limited = False
                self._in_flight[token] += 1
                processing = sum(self._processing_tasks(key, now) for key in self._processing)
                self.max_in_flight = max(self.max_in_flight, sum(self._in_flight.values()) + processing)
            self._ids += 1
            request_id = f"fake-{self._ids}"
        if limited:
            with self._lock:
                self.rate_limited += 1
            return self._error(provider, "1302")
        delay = float(self.latency if isinstance(self.latency, (int, float)) else self._random.uniform(*self.latency))
        with self._lock:
            self.latency_total += delay
        if task:
            wanted = body.get("request_id") if isinstance(body.get("request_id"), str) else None
            return self._submitted(token, request_id, wanted, images, prompt, now + delay, fault == "task_fail")
        payload = self._success(provider, request.origin, prompt, images, request_id)
        return FakeReply(
            status=200,
            body=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"content-type": "application/json", "x-request-id": request_id},
            delay=delay,
            slot=token,
        )

    def _submitted(
        self,
        token: str,
        request_id: str,
        wanted: str | None,
        images: dict[str, Any],
        prompt: str,
        ready_at: float,
        fails: bool,
    ) -> FakeReply:
        """Keep the task (its slot moves from the submission to the task until it is done) and answer its id,
        shaped as the platform's (``id`` equal to ``request_id``, as a real task answered: ../shared/reference).

        DECISION: a ``request_id`` the client sends is the task's request id (the spec: "submitted by the user
        in the client request, or generated by the platform") and so, as observed, its id; a second task with
        one already used is answered 1231 ("a request with this id already exists", the code table)."""
        seed = hashlib.sha256(prompt.encode()).hexdigest()[:16]
        task_id = wanted or time.strftime("%Y%m%d%H%M%S") + f"{int(request_id[5:]):016x}"
        kept = FakeTask(
            id=task_id,
            token=token,
            model="glm-image",
            ready_at=ready_at,
            outcome="FAIL" if fails else "SUCCESS",
            image_path=f"{FILES_PREFIX}{request_id}/{seed}-{images['width']}x{images['height']}.png",
        )
        with self._lock:  # one section: two submissions of one id cannot both be kept
            self._in_flight[token] -= 1
            taken = task_id in self._tasks
            if not taken:
                self._tasks[task_id] = kept
                self.tasks_submitted += 1
                heapq.heappush(self._processing.setdefault(token, []), ready_at)
        if taken:
            return self._error("zhipu", "1231")
        body = {"model": kept.model, "id": task_id, "request_id": task_id, "task_status": "PROCESSING"}
        return FakeReply(status=200, body=json.dumps(body).encode(), headers={"content-type": "application/json"})

    def _task_result(self, request: FakeRequest) -> FakeReply:
        with self._lock:
            self.polls += 1
            fault = self._poll_faults.popleft() if self._poll_faults else None
        token = self._token("zhipu", request)
        if isinstance(token, FakeReply):
            return token
        if request.method != "GET":
            reply = self._error("zhipu", "1222", f"{request.method} is not allowed here; use GET")
            reply.status, reply.headers["allow"] = 405, "GET"
            return reply
        if fault == "drop":
            return FakeReply(status=0, body=b"", drop=True)
        if fault == "unavailable":
            return FakeReply(status=503, body=UNAVAILABLE_HTML, headers={"content-type": "text/html"})
        if fault in ("rate_limit", "server_error"):
            return self._error("zhipu", "1302" if fault == "rate_limit" else "500")
        task_id = request.path[len(TASK_RESULT_PREFIX) :]
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or task.token != token:
            # DECISION: no answer to an unknown id was published; the id is the request's one parameter, so the
            # fake answers as the platform answers a bad parameter (1214, HTTP 400 in the code table).
            return self._error("zhipu", "1214", None, "id")
        status = task.outcome if time.monotonic() >= task.ready_at else "PROCESSING"
        body: dict[str, Any] = {"id": task.id, "model": task.model, "task_status": status, "request_id": task.id}
        if status == "SUCCESS":
            body["image_result"] = [{"url": request.origin + task.image_path}]
        return FakeReply(status=200, body=json.dumps(body).encode(), headers={"content-type": "application/json"})

    def _success(self, provider: str, origin: str, prompt: str, images: dict[str, Any], request_id: str) -> Any:
        seed = hashlib.sha256(prompt.encode()).hexdigest()[:16]
        width, height = images["width"], images["height"]
        data: list[dict[str, Any]] = []
        for index in range(images["count"]):
            item_seed = seed if index == 0 else hashlib.sha256(f"{prompt}#{index}".encode()).hexdigest()[:16]
            if images["b64"]:
                item = {"b64_json": base64.b64encode(make_png(width, height, item_seed)).decode()}
            else:
                item = {"url": f"{origin}{FILES_PREFIX}{request_id}/{item_seed}-{width}x{height}.png"}
            if images["revised"]:
                item["revised_prompt"] = prompt
            data.append(item)
        if provider == "openai":
            return {"created": int(time.time()), "data": data}
        # DECISION: no `id`: the spec has none and the platform's published answers carry none.
        return {"created": int(time.time()), "data": data, "content_filter": [{"role": "assistant", "level": 3}]}

    def _file(self, path: str) -> FakeReply:
        match = _FILE.fullmatch(path)
        if not match or int(match[2]) * int(match[3]) > 2**22 or self.image_urls_expired:
            return self._error("zhipu", "1222", f"GET {path}: no such image")
        png = make_png(int(match[2]), int(match[3]), match[1])
        return FakeReply(status=200, body=png, headers={"content-type": "image/png"})

    def _error(self, provider: str, code: str, message: str | None = None, field: str | None = None) -> FakeReply:
        headers = {"content-type": "application/json"}
        # DECISION: 1302/1305 carry no Retry-After, as the platform's do (../shared/reference); clients must
        # back off on their own. `retry_after` (a number) sends one, for clients that want to test theirs.
        if code in ("1302", "1305") and self.retry_after is not None:
            headers["retry-after"] = f"{self.retry_after:g}"
        if provider == "openai":
            text = message or OPENAI_MESSAGES.get(code, "Invalid request.")
            status, kind, openai_code = OPENAI_CODES.get(code, (400, "invalid_request_error", None))
            body: Any = {"error": {"message": text, "type": kind, "param": field, "code": openai_code}}
        else:
            status = STATUS.get(code, 400)
            words = ZAI_MESSAGES if self.platform == "zai" else MESSAGES
            body = {"error": {"code": code, "message": message or words.get(code, "error")}}
            if code == "1301":  # the image model's published answer: which side was filtered, beside the error
                body = {"contentFilter": [{"level": 2, "role": "user"}], **body}
            body["request_id"] = self._error_id()  # error bodies carry one, as the platform's do
        return FakeReply(status=status, body=json.dumps(body, ensure_ascii=False).encode(), headers=headers)

    def _error_id(self) -> str:
        """A request id shaped like the platform's: a timestamp, then hex (``2025123015094741f21922e94943cc``)."""
        with self._lock:
            self._ids += 1
            serial = self._ids
        return time.strftime("%Y%m%d%H%M%S") + f"{serial:016x}"


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # not JSON, or nested deeper than it can be read: not a request
        return None
