"""``ImagesClient``: validate, send, retry, cap concurrency, download.

``_ClientBase`` holds everything that is not I/O, shared with
``AsyncImagesClient`` (``_async_client.py``), so the two cannot drift apart;
each adds only its own loop (threads or tasks).

Requests are built with the generated models (``_wire``, loaded by the first
request) and sent with the client's own httpx client; responses are read by ``_responses``, which is
tolerant where the generated parsers raise (generated/README.md).
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import quote

import httpx

from . import _deadline as deadline
from . import _exceptions as exc
from ._bounded import ACCEPT_ENCODING
from ._concurrency import Limiter
from ._config import PLATFORM_MODELS, PLATFORM_NAMES, Endpoints, resolve_endpoints
from ._limits import resolve_concurrency
from ._log_guard import guard
from ._options import NOT_GIVEN, NotGiven, call_timeout, checked_int, checked_seconds, checked_timeout, shown
from ._reading import BODY_FAILURES, AnswerReader, broken_answer, decoder_for, raw_chunks
from ._redact import secret_forms
from ._responses import Answer, error_from_response, result_from_response
from ._results import PROCESSING, GeneratedImage, ImagesResult, ImageTask
from ._retry import RetryPolicy, transport_error
from ._tasks import Poller, TaskDurations, checked_task_id, task_from_result, task_from_submission
from ._tls import context as tls_context
from ._validation import ImageRequest, checked_extra_body, validate_request

if TYPE_CHECKING:
    from ._download import AtomicImageFile
    from ._shared_budget import SharedBudget

#: Seconds a shared-budget lease lives unless renewed (a killed process's slots return within it).
DEFAULT_LEASE = 30.0

# Module-level so tests can observe the waits without waiting.
_sleep = time.sleep
_T = TypeVar("_T")

#: What a rejected key's error adds: a key of the other platform is refused here.
_PER_PLATFORM = "keys are per platform (a BigModel key is refused by Z.AI and the other way round)"

DEFAULT_TIMEOUT = 60.0  # hd images take ~20 s (seeds 000/001): leave room for a slow one
#: Default cap on one downloaded image. A 2048x2048 RGBA PNG is at most ~16 MiB.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: Default cap on one API answer, decoded. A URL answer is a few hundred bytes; inline (b64_json)
#: images get room for n images of max_download_bytes on top (``_ClientBase._answer_cap``).
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
#: Image hosts get no key, and are asked only for encodings that can be inflated with a bound.
DOWNLOAD_HEADERS = {"Accept-Encoding": ACCEPT_ENCODING}


class _ClientBase:
    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        openai_base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        max_concurrency: int | str | None,
        max_download_bytes: int,
        max_response_bytes: int,
        shared_budget: str | None,
        shared_budget_lease: float,
        shared_budget_fallback: bool,
        platform: str | None = None,
    ) -> None:
        self._endpoints: Endpoints = resolve_endpoints(api_key, base_url, openai_base_url, platform=platform)
        self._headers = {"Authorization": f"Bearer {self._endpoints.api_key}", "Accept-Encoding": ACCEPT_ENCODING}
        self._secret_forms = secret_forms(self._endpoints.api_key)
        guard(self, self._endpoints.api_key)
        #: the endpoints, parsed once: httpx parses a URL given as text on every request (~5% of a request)
        self._parsed_urls = {
            url: httpx.URL(url) for url in (self._endpoints.zhipu_url, self._endpoints.openai_url) if url is not None
        }
        self._retry = RetryPolicy(max_retries=checked_int("max_retries", max_retries, minimum=0))
        self.max_concurrency = resolve_concurrency(max_concurrency)
        self.max_download_bytes = checked_int("max_download_bytes", max_download_bytes, minimum=1)
        self.max_response_bytes = checked_int("max_response_bytes", max_response_bytes, minimum=1024)
        self._timeout = checked_timeout(timeout)
        self._limits = httpx.Limits(max_connections=max(100, self.max_concurrency or 0), max_keepalive_connections=20)
        self._budget = self._shared_budget(shared_budget, shared_budget_lease, shared_budget_fallback)
        #: how long this client's tasks took: when to poll the next ones
        self._durations = TaskDurations()
        self._closed = False
        #: task id -> the shared-budget lease its task holds until it is seen done
        self._task_leases: dict[str, str | None] = {}

    def _hold_lease(self, task_id: str, lease: str | None) -> None:
        if self._budget is not None:
            self._task_leases[task_id] = lease

    def _drop_leases(self) -> list[str | None]:
        leases, self._task_leases = list(self._task_leases.values()), {}
        return leases

    def _check_open(self) -> None:
        if self._closed:
            raise exc.ConfigurationError(
                f"this {type(self).__name__} is closed (close() or the end of its `with` block): make a new one; "
                "nothing was sent"
            )

    def _shared_budget(self, url: object, lease: object, fallback: bool) -> SharedBudget | None:
        """The Redis budget for ``url`` (None: none), its leases scored in the account's limit."""
        if url is None:
            return None
        if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
            raise exc.ConfigurationError(
                f"shared_budget: expected a Redis URL such as redis://host:6379/0, got {shown(url)}"
            )
        if self.max_concurrency is None:
            raise exc.ConfigurationError(
                "shared_budget needs max_concurrency: the account's limit to share, e.g. max_concurrency='V0'"
            )
        if isinstance(lease, bool) or not isinstance(lease, int | float):
            raise exc.ConfigurationError(f"shared_budget_lease: must be seconds, got {shown(lease)}")
        from ._shared_budget import SharedBudget  # imports redis: only when a budget is asked for

        return SharedBudget(url, self._endpoints.api_key, self.max_concurrency, lease=float(lease), fallback=fallback)

    @property
    def base_url(self) -> str:
        return self._endpoints.zhipu_url.removesuffix("/images/generations")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, api_key='***', max_concurrency={self.max_concurrency})"
        )

    def _prepare(
        self, prompt: str, model: str, params: dict[str, Any], extra_body: Mapping[str, Any] | None
    ) -> tuple[ImageRequest, str, dict[str, Any]]:
        # The generated client is loaded by the first request, not by `import zhipu_images`:
        # services import this at start-up, and ~25 ms of it is the generated models.
        from ._wire import request_body

        self._check_open()
        request = validate_request(model, prompt, **params)
        url = self.endpoint_for(request)
        body = request_body(request)
        if extra_body is not None:
            body.update(checked_extra_body(extra_body))
        return request, url, body

    def _prepare_task(
        self,
        prompt: str,
        model: str,
        params: dict[str, Any],
        extra_body: Mapping[str, Any] | None,
        request_id: str | None,
    ) -> tuple[ImageRequest, dict[str, Any]]:
        from ._tasks import checked_request_id, validate_task_request
        from ._wire import task_body

        self._check_open()
        request = self._served(validate_task_request(model, prompt, **params))
        body = task_body(request)
        if extra_body is not None:
            body.update(checked_extra_body(extra_body))
        if request_id is not None:
            body["request_id"] = checked_request_id(request_id)
        return request, body

    def _already_submitted(
        self, error: exc.BadRequestError, request: ImageRequest, request_id: str | None
    ) -> ImageTask:
        """The task a 1231 ("a request with this id already exists") answer to ``request_id`` means; else raise."""
        if request_id is None or error.code != "1231":
            raise error
        return ImageTask(
            id=request_id,
            request_id=request_id,
            model=request.model,
            status=PROCESSING,
            request=request,
            submitted_at=time.monotonic(),
        )

    @property
    def platform(self) -> str:
        """``"bigmodel"`` or ``"zai"``: whose rules and models apply (``platform=``, or the base URL's host)."""
        return self._endpoints.platform

    def _served(self, request: ImageRequest) -> ImageRequest:
        """``request`` if its platform serves its model; else the error that names the platform, nothing sent."""
        served = PLATFORM_MODELS.get(self.platform)
        if served is None or request.rules.provider != "zhipu" or request.model in served:
            return request
        name = PLATFORM_NAMES[self.platform]
        models = ", ".join(sorted(served))
        raise exc.RequestValidationError(
            "model",
            "platform",
            f"{request.model} is not served by {name}; it serves {models}",
            value=request.model,
            suggestion=f"use one of those, or the platform that serves {request.model} (platform='bigmodel')",
        )

    def _platform_hint(self, error: BaseException) -> None:
        """A rejected key: say that keys are per platform, and whose URL this is (never the key)."""
        if isinstance(error, exc.AuthenticationError) and not error.args[0].endswith(_PER_PLATFORM):
            name = PLATFORM_NAMES[self.platform]
            error.args = (f"{error.args[0]}. This client is set for {name}, at {self.base_url}: {_PER_PLATFORM}",)

    @property
    def _task_url(self) -> str:
        return self.base_url + "/async/images/generations"

    def _result_url(self, task_id: str) -> str:
        return f"{self.base_url}/async-result/{quote(task_id, safe='')}"

    def _poller(self, task: object, timeout: object, poll_interval: object) -> Poller:
        return Poller(
            task if isinstance(task, ImageTask) else checked_task_id(task),
            self._durations,
            now=time.monotonic(),
            timeout=checked_seconds("timeout", timeout, zero=True),
            poll_interval=checked_seconds("poll_interval", poll_interval, zero=False),
        )

    def _read_submission(self, answer: Answer, request: ImageRequest) -> ImageTask:
        return task_from_submission(answer, request, time.monotonic(), redact=self._endpoints.api_key)

    def _read_task(self, answer: Answer, task_id: str, known: ImageTask | None) -> ImageTask:
        return task_from_result(answer, task_id, known, redact=self._endpoints.api_key)

    def endpoint_for(self, request: ImageRequest) -> str:
        """The URL ``request`` (from ``validate_request``) would be sent to.

        Raises ``ConfigurationError`` when no endpoint serves its model (dall-e-*
        without an OpenAI-compatible base URL), and ``RequestValidationError`` when the platform does not
        (cogview-4 on Z.AI), so a batch can find out before sending anything.
        """
        return self._endpoints.url_for(self._served(request).rules.provider, request.model)

    def _copies(self, request: ImageRequest) -> int:
        """How many requests serve ``n``: Zhipu returns one image per request; OpenAI takes ``n``."""
        return request.n if request.rules.provider == "zhipu" else 1

    def _start_download(
        self, image: GeneratedImage | str, dest: str | os.PathLike[str], filename: str | None, max_bytes: int | None
    ) -> Path | tuple[httpx.URL, AtomicImageFile]:
        """Everything before the network: a b64 image is saved at once; a URL is checked and a target opened."""
        # Imported on first download: generate() alone never needs it.
        from ._download import AtomicImageFile, checked_stem, checked_url, decode_b64, save_bytes

        self._check_open()
        if isinstance(image, str):  # a URL kept from an earlier result (they stay valid for 30 days)
            image = GeneratedImage(url=image)
        elif not isinstance(image, GeneratedImage):
            raise exc.DownloadError(f"image: expected one of result.images or an image URL, got {type(image).__name__}")
        for name in ("url", "b64_json"):  # a GeneratedImage made by hand may hold anything
            value = getattr(image, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"image.{name}: expected a string or None, got {type(value).__name__}")
        cap = self.max_download_bytes if max_bytes is None else checked_int("max_bytes", max_bytes, minimum=1)
        stem = checked_stem(filename, image)
        if image.b64_json is not None:
            return save_bytes(decode_b64(image, cap), dest, stem, cap)
        if image.url is None:
            raise exc.DownloadError("the image has neither url nor b64_json")
        return checked_url(image.url), AtomicImageFile(dest, stem, cap)

    def _answer_cap(self, request: ImageRequest) -> int:
        """The decoded size one answer may have: inline images need room for n of them, base64-encoded."""
        if request.response_format == "b64_json":
            return self.max_response_bytes + request.n * (self.max_download_bytes * 4 // 3 + 4)
        return self.max_response_bytes

    def _reader(self, response: httpx.Response, cap: int) -> AnswerReader:
        return AnswerReader(response, cap, self._secret_forms)

    def _broken(self, response: httpx.Response, failure: BaseException, cap: int) -> Answer:
        return broken_answer(response, failure, cap)

    def _read(self, answer: Answer, request: ImageRequest) -> ImagesResult:
        key = self._endpoints.api_key
        if answer.status_code == 200:
            return result_from_response(answer, request, redact=key)
        raise error_from_response(answer, redact=key)


def merge(outcomes: Sequence[ImagesResult | BaseException], request: ImageRequest) -> ImagesResult:
    """One result from the n single-image results; the first error is raised with the successes attached."""
    results = [o for o in outcomes if isinstance(o, ImagesResult)]
    merged = ImagesResult(
        created=min((r.created for r in results if r.created is not None), default=None),
        images=tuple(image for r in results for image in r.images),
        content_filter=tuple(note for r in results for note in r.content_filter),
        request=request,
        request_ids=tuple(rid for r in results for rid in r.request_ids),
        extra=results[0].extra if results else {},
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            if isinstance(outcome, exc.ImagesError) and results:
                outcome.partial_result = merged
            raise outcome
    return merged


class ImagesClient(_ClientBase):
    """Synchronous client. Thread-safe: ``max_concurrency`` caps in-flight requests across all threads.

    An ``http_client`` you pass is used as is (its timeout, proxies, TLS) and
    left open; one the client creates is closed by ``close()`` or ``with``, and
    honours ``proxy=`` (a URL or an ``httpx.Proxy``) or else the proxy variables
    (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``), as httpx does.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        openai_base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        max_concurrency: int | str | None = None,
        http_client: httpx.Client | None = None,
        proxy: str | httpx.Proxy | None = None,
        max_download_bytes: int = DEFAULT_MAX_BYTES,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        shared_budget: str | None = None,
        shared_budget_lease: float = DEFAULT_LEASE,
        shared_budget_fallback: bool = False,
        platform: str | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            openai_base_url,
            timeout,
            max_retries,
            max_concurrency,
            max_download_bytes,
            max_response_bytes,
            shared_budget,
            shared_budget_lease,
            shared_budget_fallback,
            platform,
        )
        if http_client is not None and proxy is not None:
            raise exc.ConfigurationError(
                "proxy: set the proxy on the http_client you pass (httpx's proxy= or mounts=), not on both"
            )
        self._proxy = proxy
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(f"http_client: expected an httpx.Client, got {type(http_client).__name__}")
        self._owns_http = http_client is None
        self._tls: ssl.SSLContext | None = None
        self._http = http_client or self._own_http()
        self._images: httpx.Client | None = http_client
        self._images_lock = threading.Lock()
        self._limiter = Limiter(self.max_concurrency) if self.max_concurrency else None

    @property
    def _image_http(self) -> httpx.Client:
        """Downloads get a pool of their own, made on the first one (an ``http_client`` passed in serves both).

        httpx scans every connection of a pool, with a system call for each idle one, on each request and
        each answer: image connections in the generation pool slowed every generation. And a slow image
        host then cannot hold the connections generation needs.
        """
        with self._images_lock:
            if self._images is None:
                self._images = self._own_http()
            return self._images

    def _own_http(self) -> httpx.Client:
        """An httpx client of this one's own (``_transports``, which imports httpcore: ``import zhipu_images``
        does not need it), honouring ``proxy`` or the proxy variables; they share one TLS context, which takes
        ~50 ms to make."""
        from ._transports.clients import sync_client

        if self._tls is None:
            self._tls = tls_context()
        return sync_client(self._timeout, self._limits, self._tls, self._proxy)

    def generate(
        self,
        prompt: str,
        *,
        model: str = "glm-image",
        size: str | tuple[int, int] | None = None,
        quality: str | None = None,
        n: int | None = None,
        style: str | None = None,
        response_format: str | None = None,
        user_id: str | None = None,
        watermark_enabled: bool | None = None,
        extra_body: Mapping[str, Any] | None = None,
        allow_unknown_model: bool = False,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
    ) -> ImagesResult:
        """Validate, then generate. Raises ``RequestValidationError`` before sending anything invalid.

        ``extra_body`` adds JSON fields this version does not know yet (a parameter
        the platform added since); the fields it checks cannot be set through it.
        ``timeout`` overrides the client's for this call (each of its requests).
        ``allow_unknown_model`` sends a model this version and its spec do not know (checked by the
        schema only, with an ``UnspecifiedModelWarning``).
        """
        params = {
            "size": size,
            "quality": quality,
            "n": n,
            "style": style,
            "response_format": response_format,
            "user_id": user_id,
            "watermark_enabled": watermark_enabled,
            "allow_unknown_model": allow_unknown_model,
        }
        request, url, body = self._prepare(prompt, model, params, extra_body)
        limit = call_timeout(timeout)
        copies = self._copies(request)
        cap = self._answer_cap(request)

        def parse(answer: Answer) -> ImagesResult:
            return self._read(answer, request)

        if copies == 1:
            return self._send("POST", url, body, cap, parse, limit)
        from concurrent.futures import ThreadPoolExecutor  # only n > 1 needs threads

        outcomes: list[ImagesResult | BaseException] = []
        with ThreadPoolExecutor(max_workers=copies, thread_name_prefix="zhipu-images") as pool:
            futures = [pool.submit(self._send, "POST", url, body, cap, parse, limit) for _ in range(copies)]
            for future in futures:
                error = future.exception()
                outcomes.append(error if error is not None else future.result())
        return merge(outcomes, request)

    def submit(
        self,
        prompt: str,
        *,
        model: str = "glm-image",
        size: str | tuple[int, int] | None = None,
        quality: str | None = None,
        user_id: str | None = None,
        watermark_enabled: bool | None = None,
        request_id: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
    ) -> ImageTask:
        """Submit a generation to the task API and return its task at once; ``wait`` fetches its images.

        Checked as ``generate`` checks, plus the task API's rules (glm-image only, quality hd only): a
        ``RequestValidationError`` before anything is sent. The task is paid for once submitted: keep its ``id``
        (``wait(id)`` works from any process, for as long as the platform keeps it). Retried as ``generate``:
        only when no answer arrived at all.

        ``request_id`` (6-64 printable characters, unique per task) is sent for the platform to use as the
        task's request id: recorded before submitting, it lets a process that died before the answer arrived
        find the task by it (``wait(request_id)``) instead of paying again. A platform that already has a task
        of that id answers 1231; the task of that id is returned then."""
        params = {"size": size, "quality": quality, "user_id": user_id, "watermark_enabled": watermark_enabled}
        request, body = self._prepare_task(prompt, model, params, extra_body, request_id)

        def parse(answer: Answer) -> ImageTask:
            return self._read_submission(answer, request)

        limit = call_timeout(timeout)
        lease = None
        if self._budget is not None:  # a task holds its slot of the account's budget until it is done
            wait = deadline.deadline_seconds(limit or self._http.timeout)
            lease = self._budget.acquire(None if wait is None else time.monotonic() + wait)
        try:
            try:
                task = self._send("POST", self._task_url, body, self.max_response_bytes, parse, limit, budget=False)
            except exc.BadRequestError as error:
                task = self._already_submitted(error, request, request_id)
        except BaseException:
            if self._budget is not None:
                self._budget.release(lease)
            raise
        self._hold_lease(task.id, lease)
        return task

    def task(self, task: ImageTask | str) -> ImageTask:
        """The task's state now, fetched once (``status``; ``images`` once it is ``SUCCESS``).

        A ``FAIL`` is returned as a state here (``wait`` raises it); an id the platform does not know raises
        ``TaskNotFoundError``."""
        known = task if isinstance(task, ImageTask) else None
        task_id = checked_task_id(task)
        self._check_open()
        answer = self._exchange("GET", self._result_url(task_id), None, self.max_response_bytes, None)
        try:
            state = self._read_task(answer, task_id, known)
        except exc.ImagesError as error:
            error.task_id = task_id
            self._platform_hint(error)
            if isinstance(error, exc.TaskNotFoundError) and self._budget is not None:
                self._budget.release(self._task_leases.pop(task_id, None))
            raise
        if state.done and self._budget is not None:
            self._budget.release(self._task_leases.pop(task_id, None))
        return state

    def wait(
        self, task: ImageTask | str, *, timeout: float | None = None, poll_interval: float | None = None
    ) -> ImagesResult:
        """Poll the task until it succeeds; return its images, shaped as ``generate`` returns them.

        Polls are free: one that fails for network reasons, a server error or a rate limit is made again.
        ``timeout`` bounds the whole wait (None: no limit): ``TaskTimeoutError`` then carries ``task_id``, and
        the task goes on, paid for. ``FAIL`` raises ``TaskFailedError``. ``poll_interval`` fixes the gap between
        polls; by default the first poll comes when this client's earlier tasks of the model were done, then
        the gap grows."""
        poller = self._poller(task, timeout, poll_interval)
        while True:
            _sleep(poller.delay(time.monotonic()))
            try:
                state = self.task(poller.known or poller.task_id)
            except exc.ImagesError as error:
                poller.failed(error, time.monotonic())
                continue
            done = poller.answered(state, time.monotonic())
            if done is not None:
                return done.result()

    def _send(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        cap: int,
        parse: Callable[[Answer], _T],
        limit: httpx.Timeout | None,
        budget: bool = True,
    ) -> _T:
        attempt, waited = 0, 0.0
        while True:
            try:
                return self._send_once(method, url, body, cap, parse, limit, budget)
            except (exc.APIError, exc.APIConnectionError) as error:
                delay = self._retry.delay(error, attempt, waited)
                if delay is None:
                    self._platform_hint(error)
                    raise
            _sleep(delay)
            attempt, waited = attempt + 1, waited + delay

    def _send_once(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        cap: int,
        parse: Callable[[Answer], _T],
        limit: httpx.Timeout | None,
        budget: bool = True,
    ) -> _T:
        """One attempt, within the cap; ``budget``: in the shared budget too (False: the caller holds a lease)."""
        if self._limiter is None:  # the common, uncapped case: nothing more on the hot path
            return parse(self._exchange(method, url, body, cap, limit))
        wait = deadline.deadline_seconds(limit or self._http.timeout)
        epoch = self._limiter.acquire(wait)
        outcome: BaseException | None = None
        token = None
        try:
            if self._budget is not None and budget:
                token = self._budget.acquire(None if wait is None else time.monotonic() + wait)
            return parse(self._exchange(method, url, body, cap, limit))
        except BaseException as error:
            outcome = error
            raise
        finally:
            if self._budget is not None and budget:
                self._budget.release(token)
            self._limiter.release(epoch, outcome)

    def _exchange(
        self, method: str, url: str, body: dict[str, Any] | None, cap: int, limit: httpx.Timeout | None
    ) -> Answer:
        timeout = limit or self._http.timeout
        at = deadline.expiry(timeout)
        outgoing = self._http.build_request(
            method, self._parsed_urls.get(url, url), json=body, headers=self._headers, timeout=timeout
        )
        token = deadline.enter(at)
        try:
            try:
                response = self._http.send(outgoing, stream=True)
            except httpx.RequestError as error:  # nothing of an answer arrived
                raise transport_error(error) from error
            try:  # the status line arrived: from here on, nothing is sent again
                reader = self._reader(response, cap)
                for chunk in raw_chunks(response):
                    reader.feed(chunk)
                    deadline.check(at)
                return reader.answer()
            except BODY_FAILURES as failure:
                return self._broken(response, failure, cap)
            finally:
                response.close()
        finally:
            deadline.leave(token)

    def download(
        self,
        image: GeneratedImage | str,
        dest: str | os.PathLike[str],
        *,
        filename: str | None = None,
        max_bytes: int | None = None,
    ) -> Path:
        """Save one image (from ``result.images``, or an image URL) into the folder ``dest``; return its path.

        Never leaves a partial file. The whole download ends within the client's timeout."""
        started = self._start_download(image, dest, filename, max_bytes)
        if isinstance(started, Path):
            return started
        url, target = started
        http = self._image_http
        at = deadline.expiry(http.timeout)
        token = deadline.enter(at)
        try:
            with http.stream("GET", url, headers=DOWNLOAD_HEADERS, follow_redirects=True) as response:
                target.check_status(response.status_code)
                decoder = decoder_for(response, target.max_bytes)
                for chunk in raw_chunks(response):
                    for piece in decoder.feed(chunk):
                        target.write(piece)
                    deadline.check(at)
                target.write(decoder.flush())
            return target.commit()
        except BODY_FAILURES as failure:
            target.abort()
            raise target.failed(failure) from failure
        except BaseException:
            target.abort()
            raise
        finally:
            deadline.leave(token)

    def close(self) -> None:
        self._closed = True
        if self._budget is not None:
            for lease in self._drop_leases():
                self._budget.release(lease)
            self._budget.close()
        if self._owns_http:
            self._http.close()
            if self._images is not None:
                self._images.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["ImagesClient"]
