"""Sending the probes and judging the answers.

Raw httpx, not the library's client: the probes break the rules on purpose,
and the library would refuse to send them. Answers are read within a size cap
and every error answer is also checked against the spec's error schema; a
success is checked against the response schema, and its image is fetched and
checked to be a PNG of the requested size. A refusal probe that the endpoint
*accepts* may have been billed: the report says so, and it counts against
``allow_paid``; with none left the run stops there (an endpoint that accepts
what it must refuse would bill every probe after it).
A paid task probe is followed to its end by polling, within the probe's time.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
from attrs import frozen

from .._redact import safe_text
from .._spec_schemas import schema_problem
from ._catalogue import MADE_UP_KEY, PRICES_CNY, Probe

#: The most of an answer read (an image answer is a URL; a PNG of 2048x2048 is under 16 MiB).
MAX_ANSWER = 4 * 1024 * 1024
MAX_IMAGE = 64 * 1024 * 1024
_ERROR_SCHEMA = {"zhipu": "Error", "openai": "ErrorResponse"}
_SUCCESS_SCHEMA = {"zhipu": "ImageGenerationResponse", "openai": "ImageResponse"}
#: Seconds between polls of a paid task probe's result.
TASK_POLL = 2.0
#: Seconds a paid probe's image may take to arrive whole.
IMAGE_TIMEOUT = 120.0


@frozen
class Outcome:
    """One probe's verdict: the four fields a report has, and whether a generation may have been billed."""

    probe: str
    expected: str
    observed: str
    ok: bool
    billed: bool = False
    #: the prose rule the probe breaks (``Probe.rule``), for reports on mocks that enforce only the schema
    rule: str | None = None
    #: the business code answered, if any
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"probe": self.probe, "expected": self.expected, "observed": self.observed, "ok": self.ok}


@frozen
class Endpoints:
    zhipu: str
    openai: str | None
    api_key: str | None


class _TooSlow(Exception):
    """An answer still arriving at its probe's deadline (a read timeout bounds each read, not the whole)."""


def _read(response: httpx.Response, cap: int, deadline: float) -> bytes | None:
    """The body, or None if it is over ``cap`` (the rest is not read); ``_TooSlow`` past ``deadline``."""
    parts, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            return None
        if time.monotonic() > deadline:
            raise _TooSlow
        parts.append(chunk)
    return b"".join(parts)


def _headers(probe: Probe, key: str | None) -> dict[str, str]:
    if probe.auth == "none":
        return {}
    token = MADE_UP_KEY if probe.auth == "made_up" else (key or "zhipu-images-conformance-no-key")
    return {"Authorization": f"Bearer {token}"}


def run_probes(
    probes: Iterable[Probe], endpoints: Endpoints, *, allow_paid: int = 0, timeout: float = 120.0
) -> Iterator[Outcome]:
    """Send each probe (at most ``allow_paid`` paid ones; the others are reported as not run) and judge it."""
    paid_left = allow_paid
    stopped = False
    with httpx.Client(timeout=timeout) as client:
        for probe in probes:
            url = endpoints.zhipu if probe.provider == "zhipu" else endpoints.openai
            if url is None:
                continue
            if stopped:
                why = "not run: a refusal probe was accepted (may have been billed) past --allow-paid; the run stopped"
                yield Outcome(probe.name, probe.expected, why, False)
                continue
            if probe.paid:
                if paid_left <= 0:
                    yield Outcome(probe.name, probe.expected, "not run: it is billed (--allow-paid N)", True)
                    continue
                paid_left -= 1
            outcome = _judge(client, probe, _url(probe, url), endpoints.api_key, timeout)
            if outcome.billed and not probe.paid:  # a refusal probe generated: it counts as a paid one
                stopped = paid_left <= 0
                paid_left -= 1
            yield outcome


def _url(probe: Probe, generation_url: str) -> str:
    """Where the probe goes: the generation URL as given, or the task API's paths beside it."""
    base = generation_url.removesuffix("/images/generations")
    if probe.operation == "task":
        return f"{base}/async/images/generations"
    if probe.operation == "task_result":
        return f"{base}/async-result/{probe.body['id']}"
    return generation_url


def _judge(client: httpx.Client, probe: Probe, url: str, key: str | None, timeout: float) -> Outcome:
    code: str | None = None

    def outcome(observed: str, ok: bool, billed: bool = False) -> Outcome:
        shown = safe_text(observed, key, limit=500)
        return Outcome(probe.name, probe.expected, shown, ok, billed, probe.rule, code)

    status = 0
    try:
        method, body_sent = ("GET", None) if probe.operation == "task_result" else ("POST", probe.body)
        deadline = time.monotonic() + timeout
        with client.stream(method, url, json=body_sent, headers=_headers(probe, key)) as response:
            status = response.status_code
            body = _read(response, MAX_ANSWER, deadline)
            content_type = response.headers.get("content-type", "")
    except httpx.HTTPError as error:
        return outcome(f"no answer ({type(error).__name__})", False)
    except _TooSlow:
        return outcome(f"HTTP {status}, its answer still arriving after {timeout:g} s", False, billed=status == 200)
    if body is None:
        return outcome(f"HTTP {status} with an answer over {MAX_ANSWER} bytes", False, billed=status == 200)
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return outcome(f"HTTP {status}, not JSON ({content_type or 'no content type'}): a contract break", False)
    if probe.paid and probe.operation == "task":
        return _judge_task(client, probe, url, status, data, outcome, _headers(probe, key), timeout)
    if probe.paid:
        return _judge_success(client, probe, status, data, outcome)
    if status == 200 and probe.operation == "task_result":
        return outcome("HTTP 200: an id never issued was answered as a task", False)
    if status == 200 and probe.auth != "key":  # no account to bill: the endpoint does not check keys
        return outcome("HTTP 200: accepted without a valid key, an image was generated", False)
    if status == 200:
        return outcome("HTTP 200: accepted, an image was generated (may have been billed)", False, billed=True)
    code = _code(data)
    observed = f"HTTP {status}" + (f", code {code}" if code else ", no business code")
    problem = schema_problem(probe.provider, _ERROR_SCHEMA[probe.provider], data)
    if problem is not None:
        return outcome(f"{observed}; the body does not match the spec's error schema ({problem})", False)
    holds = status in probe.statuses and (probe.codes is None or code in probe.codes)
    return outcome(observed, holds)


def _code(data: Any) -> str | None:
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None


def _judge_success(
    client: httpx.Client,
    probe: Probe,
    status: int,
    data: Any,
    outcome: Callable[..., Outcome],
    schema: str | None = "",
) -> Outcome:
    """A paid generation's answer, and its image. ``schema``: the response schema to check ("": the provider's
    own; None: checked already)."""
    price = PRICES_CNY.get(str(probe.body.get("model")))
    cost = f"{price:.2f} CNY" if price is not None else "price not documented"
    if status != 200:
        return outcome(f"HTTP {status}, code {_code(data) or '-'}", False)
    problem = (
        None if schema is None else schema_problem(probe.provider, schema or _SUCCESS_SCHEMA[probe.provider], data)
    )
    if problem is not None:
        return outcome(f"HTTP 200 that does not match the spec's response schema ({problem}); {cost}", False, True)
    try:
        url = data["data"][0]["url"]
        with client.stream("GET", url) as image:
            png = _read(image, MAX_IMAGE, time.monotonic() + IMAGE_TIMEOUT)
            image_status = image.status_code
    except (KeyError, IndexError, TypeError, httpx.HTTPError, ValueError, _TooSlow) as error:
        return outcome(f"HTTP 200, but its image could not be fetched ({type(error).__name__}); {cost}", False, True)
    size = _png_size(png) if image_status == 200 and png is not None else None
    if size is None or size != probe.size:
        got = f"a {size[0]}x{size[1]} PNG" if size else f"HTTP {image_status}, not a PNG"
        return outcome(f"HTTP 200, image: {got}; {cost}", False, True)
    return outcome(f"HTTP 200, a {size[0]}x{size[1]} PNG; billed: {cost}", True, True)


def _judge_task(
    client: httpx.Client,
    probe: Probe,
    url: str,
    status: int,
    data: Any,
    outcome: Callable[..., Outcome],
    headers: dict[str, str],
    timeout: float,
) -> Outcome:
    """A paid task probe: the submission's answer, its result polled until done (within ``timeout``), its PNG."""
    if status != 200:
        return outcome(f"HTTP {status}, code {_code(data) or '-'}", False)
    problem = schema_problem(probe.provider, "AsyncResponse", data)
    task_id = data.get("id") if isinstance(data, dict) else None
    if problem is not None or not isinstance(task_id, str) or not task_id:
        return outcome(f"HTTP 200 without a task id or of another shape ({problem or 'no id'}); billed", False, True)
    result_url = f"{url.removesuffix('/async/images/generations')}/async-result/{task_id}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = client.get(result_url, headers=headers)
            state = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            return outcome(
                f"task {task_id}: its result could not be read ({type(error).__name__}); billed", False, True
            )
        status_text = state.get("task_status") if isinstance(state, dict) else None
        if answer.status_code != 200 or status_text != "PROCESSING" or time.monotonic() > deadline:
            break
        time.sleep(TASK_POLL)
    if answer.status_code != 200 or status_text != "SUCCESS":
        return outcome(f"task {task_id}: HTTP {answer.status_code}, status {status_text}; billed", False, True)
    problem = schema_problem(probe.provider, "AsyncImageGenerationResponse", state)
    if problem is not None:
        return outcome(f"task {task_id}: a result of another shape ({problem}); billed", False, True)
    return _judge_success(client, probe, 200, {"data": state.get("image_result")}, outcome, schema=None)


def _png_size(data: bytes) -> tuple[int, int] | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height
