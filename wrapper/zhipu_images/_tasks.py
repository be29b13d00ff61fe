"""The task API (``submit``, ``task``, ``wait``): what is sent, how answers are read, and when to poll.

A task is paid for when it is submitted and then lives on the platform, not in
one HTTP connection: whoever holds its id can fetch its images later, as often
as needed (the platform keeps the URLs 30 days). Everything here is free of I/O
and shared by the sync and the async client, which only sleep and fetch.

The answers are read tolerantly, as ``_responses`` reads generation answers:
the task result is a ``oneOf`` of chat, video and image results in the spec, the
published answers add ``id`` and ``usage``, and an ``image_result`` entry without
a URL is skipped while the others are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import _exceptions as exc
from ._redact import safe_text
from ._responses import Answer, _json, _request_id, error_from_response
from ._results import FAIL, PROCESSING, SUCCESS, GeneratedImage, ImageTask
from ._validation import ImageRequest, validate_request

#: A task id as the platform issues them (digits, or a timestamp and hex); anything printable, to be safe.
_TASK_ID = re.compile(r"[\x21-\x7e]{1,256}")


def task_models() -> frozenset[str]:
    """The models the vendored spec gives the task API (``AsyncCreateImageRequest``'s enum)."""
    from ._spec_models import spec_task_models

    return spec_task_models()


def validate_task_request(
    model: str,
    prompt: str,
    *,
    size: str | tuple[int, int] | None = None,
    quality: str | None = None,
    user_id: str | None = None,
    watermark_enabled: bool | None = None,
) -> ImageRequest:
    """The request ``submit`` sends, checked as ``generate`` checks it, plus the task API's own rules: a model
    that has it, and its qualities (the spec's ``AsyncCreateImageRequest``)."""
    from ._spec_models import spec_task_qualities

    models = task_models()
    if isinstance(model, str) and model.strip().lower() in models:
        model = model.strip().lower()
    elif isinstance(model, str):
        names = ", ".join(sorted(models))
        raise exc.RequestValidationError(
            "model",
            "task_api",
            f"{safe_text(model, limit=100)!r} has no task API; the models that have it: {names}",
            value=model,
            suggestion=f"use generate() for {safe_text(model, limit=100)}, or submit with model={sorted(models)[0]!r}",
        )
    request = validate_request(
        model, prompt, size=size, quality=quality, user_id=user_id, watermark_enabled=watermark_enabled
    )
    qualities = spec_task_qualities()
    if request.quality is not None and request.quality not in qualities:
        raise exc.RequestValidationError(
            "quality",
            "task_api",
            f"{request.quality!r} is not offered by the task API; it takes {', '.join(qualities)}",
            value=quality,
            suggestion=f"quality={qualities[0]!r}",
        )
    return request


def checked_task_id(task: object) -> str:
    """The id of ``task`` (an ``ImageTask`` or its id), or an error naming the argument."""
    if isinstance(task, ImageTask):
        return task.id
    if not isinstance(task, str):
        raise TypeError(f"task: expected an ImageTask or a task id string, got {type(task).__name__}")
    if not _TASK_ID.fullmatch(task):
        raise exc.RequestValidationError(
            "task_id",
            "format",
            f"{safe_text(task, limit=100)!r} is not a task id: expected 1-256 printable ASCII characters, no spaces",
            value=task,
        )
    return task


#: A request id the caller chooses: what the spec says of ``user_id`` (6-128) would do; ids are kept shorter.
_REQUEST_ID = re.compile(r"[\x21-\x7e]{6,64}")


def checked_request_id(request_id: object) -> str:
    if not isinstance(request_id, str):
        raise TypeError(f"request_id: expected a string, got {type(request_id).__name__}")
    if not _REQUEST_ID.fullmatch(request_id):
        raise exc.RequestValidationError(
            "request_id",
            "format",
            f"{safe_text(request_id, limit=100)!r} is not a request id: expected 6-64 printable ASCII characters, "
            "no spaces",
            value=request_id,
            suggestion="uuid.uuid4().hex",
        )
    return request_id


def _body(answer: Answer, redact: str | None, what: str) -> dict[str, Any]:
    """The JSON object of a 200 answer, or the error it carries, or ``UnexpectedResponseError``."""
    if answer.status_code != 200:
        raise error_from_response(answer, redact=redact)
    try:
        body = _json(answer.content, redact)
    except ValueError as not_json:
        raise _unexpected(answer, f"the 200 answer to {what} is not JSON", redact) from not_json
    if not isinstance(body, dict):
        raise _unexpected(answer, f"the 200 answer to {what} is a JSON {type(body).__name__}, not an object", redact)
    if isinstance(body.get("error"), dict) and "task_status" not in body:
        raise error_from_response(answer, redact=redact)
    return body


def _unexpected(answer: Answer, why: str, redact: str | None) -> exc.UnexpectedResponseError:
    request_id = _request_id(answer, None, redact)
    return exc.UnexpectedResponseError(why, status_code=answer.status_code, request_id=request_id)


def _text(value: Any) -> str | None:
    return safe_text(value, limit=200) if isinstance(value, str) and value else None


def _status(body: Mapping[str, Any]) -> str:
    status = body.get("task_status")
    return safe_text(status, limit=40).upper() if isinstance(status, str) and status else PROCESSING


_SUBMIT_FIELDS = ("id", "request_id", "model", "task_status")
_RESULT_FIELDS = ("id", "request_id", "model", "task_status", "image_result")


def task_from_submission(
    answer: Answer, request: ImageRequest, submitted_at: float, redact: str | None = None
) -> ImageTask:
    """The task a submission's answer describes. A 200 without a task id may still have started a paid task
    that cannot be found: its error says ``may_be_billed``."""
    body = _body(answer, redact, "a task submission")
    task_id = body.get("id")
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
        error = _unexpected(answer, "the 200 answer to a task submission has no usable task `id`", redact)
        error.may_be_billed = True
        raise error
    return ImageTask(
        id=task_id,
        request_id=_text(body.get("request_id")) or _request_id(answer, None, redact),
        model=_text(body.get("model")) or request.model,
        status=_status(body),
        request=request,
        submitted_at=submitted_at,
        extra={k: v for k, v in body.items() if k not in _SUBMIT_FIELDS},
    )


def task_from_result(answer: Answer, task_id: str, known: ImageTask | None, redact: str | None = None) -> ImageTask:
    """The state a task-result answer describes. An id the platform refuses is a ``TaskNotFoundError``: the
    id is the request's only parameter, so a refusal of the request's parameters is a refusal of the id."""
    try:
        body = _body(answer, redact, "a task query")
    except exc.BadRequestError as refused:
        if isinstance(refused, exc.ModelNotFoundError):
            raise
        raise _not_found(refused, task_id) from refused
    except exc.APIError as error:
        if error.status_code == 404:
            raise _not_found(error, task_id) from error
        raise
    images = []
    raw = body.get("image_result")
    for item in raw if isinstance(raw, list) else ():
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str) and url:  # an entry without a URL is skipped; the others are kept
            images.append(GeneratedImage(url=url, extra={k: v for k, v in item.items() if k != "url"}))
    if not isinstance(body.get("task_status"), str) or not body["task_status"]:
        raise _unexpected(answer, f"the answer to a query of task {task_id} has no `task_status`", redact)
    status = _status(body)
    if status == SUCCESS and not images:
        raise _unexpected(answer, f"task {task_id} is SUCCESS but its answer has no image URL", redact)
    return ImageTask(
        id=task_id,
        request_id=_text(body.get("request_id")) or (known.request_id if known else None),
        model=_text(body.get("model")) or (known.model if known else None),
        status=status,
        images=tuple(images),
        request=known.request if known else None,
        submitted_at=known.submitted_at if known else None,
        extra={k: v for k, v in body.items() if k not in _RESULT_FIELDS},
    )


def _not_found(error: exc.APIError, task_id: str) -> exc.TaskNotFoundError:
    found = exc.TaskNotFoundError(
        f"task {task_id} is not known to the platform (never issued, another key's or platform's, or expired): "
        f"{error.message}",
        status_code=error.status_code,
        code=error.code,
        request_id=error.request_id,
    )
    found.task_id = task_id
    return found


def failed(task: ImageTask) -> exc.TaskFailedError:
    error = exc.TaskFailedError(
        f"task {task.id} failed on the platform (status FAIL; the platform gives no reason)",
        status_code=200,
        request_id=task.request_id,
    )
    error.task_id = task.id
    error.body = {"id": task.id, "task_status": task.status, "model": task.model, **task.extra}
    return error


#: Polls of a task that failed for these reasons are simply made again (a poll is free and pays nothing).
POLL_AGAIN = (exc.APIConnectionError, exc.ServerError, exc.RateLimitError)
#: The first poll of a task when nothing is known of how long tasks take; the gap grows from it.
FIRST_POLL = 0.5
#: Gaps between polls grow by this factor, up to ``MAX_GAP`` ...
GROWTH = 1.5
MAX_GAP = 10.0
#: ... from this share of the learned duration (at least ``MIN_GAP``).
GAP_SHARE = 0.05
MIN_GAP = 0.05
#: How fast the learned duration follows new tasks, and how far below it a task that was already done at its
#: first poll moves it (so the first poll keeps probing for shorter tasks instead of arriving late for ever;
#: the task after a probe that came too early learns the duration from both sides of it).
LEARNING_RATE = 0.3
EARLIER = 0.9


class TaskDurations:
    """How long this client's tasks took, per model: the first poll of a task comes when it is likely done.

    DECISION: the docs' "about 20 s" for hd is a typical time, not a bound, and a fake or a quiet hour is much
    quicker: the first task probes from ``FIRST_POLL`` with a growing gap, later ones start from what was seen.
    """

    def __init__(self) -> None:
        self._estimates: dict[str, float] = {}
        #: per model, how many probes in a row found their task done already (each probes further below)
        self._early: dict[str, int] = {}

    def first_poll(self, model: str) -> float:
        return self._estimates.get(model, FIRST_POLL)

    def first_gap(self, model: str) -> float:
        estimate = self._estimates.get(model)
        return FIRST_POLL if estimate is None else max(MIN_GAP, GAP_SHARE * estimate)

    def learn(self, model: str, still_processing_at: float | None, done_at: float, planned: float) -> None:
        """A task of ``model`` was done ``done_at`` seconds after its submission, and not yet at
        ``still_processing_at`` (None: done at its first poll, planned ``planned`` seconds after submission, so
        it may be much quicker than that: each such probe in a row goes further below, until one comes too
        early and the duration is known from both sides)."""
        previous = self._estimates.get(model)
        if still_processing_at is None:
            # Of a wave of tasks polled at one estimate, the first found done lowers it; the others, planned
            # at the estimate before, neither lower it again nor lengthen the streak.
            latest = previous is None or planned <= previous * (1 + 1e-9)
            streak = self._early.get(model, 0) + latest
            self._early[model] = streak
            probe = EARLIER ** max(1, streak) * planned
            self._estimates[model] = probe if previous is None else min(previous, probe)
        else:
            self._early[model] = 0
            sample = (still_processing_at + done_at) / 2
            self._estimates[model] = sample if previous is None else previous + LEARNING_RATE * (sample - previous)


class Poller:
    """When to poll one task, and what each answer means; the clients sleep and fetch.

    ``poll_interval`` fixes the gap (and the first poll); None learns it (``TaskDurations``). ``timeout`` is
    the whole wait, measured from now; the last poll is made at its end, then ``TaskTimeoutError``.
    """

    def __init__(
        self,
        task: ImageTask | str,
        durations: TaskDurations,
        *,
        now: float,
        timeout: float | None,
        poll_interval: float | None,
    ) -> None:
        self.task_id = task.id if isinstance(task, ImageTask) else task
        self.known = task if isinstance(task, ImageTask) else None
        self._durations = durations
        self._model = (self.known.model if self.known else None) or ""
        self._interval = poll_interval
        self._deadline = None if timeout is None else now + timeout
        submitted = self.known.submitted_at if self.known else None
        self._submitted = submitted
        if submitted is None:  # not submitted here: it may long be done, so ask at once
            self._next = now
        else:
            self._next = submitted + (poll_interval if poll_interval is not None else durations.first_poll(self._model))
        #: when the first poll was planned, in seconds after the submission
        self._planned = self._next - (submitted if submitted is not None else now)
        self._gap = poll_interval if poll_interval is not None else durations.first_gap(self._model)
        self._processing_at: float | None = None
        self._last_status: str | None = None
        #: polls answered, and polls made in all
        self.polls = 0

    def delay(self, now: float) -> float:
        """Seconds to sleep before the next poll."""
        due = self._next if self._deadline is None else min(self._next, self._deadline)
        return max(0.0, due - now)

    def answered(self, state: ImageTask, now: float) -> ImageTask | None:
        """The finished task (``SUCCESS``); None to poll again; raises ``TaskFailedError`` on ``FAIL``."""
        self.polls += 1
        self._last_status = state.status
        if state.status == SUCCESS:
            if self._submitted is not None and self._interval is None and self._model:
                since = None if self._processing_at is None else self._processing_at - self._submitted
                self._durations.learn(self._model, since, now - self._submitted, self._planned)
            return state
        if state.status == FAIL:
            raise failed(state)
        self._processing_at = now
        self._schedule(now)
        return None

    def failed(self, error: exc.ImagesError, now: float) -> None:
        """A poll that got no usable answer: poll again (network, 5xx, 429) or raise with the task id."""
        self.polls += 1
        error.task_id = self.task_id
        if not isinstance(error, POLL_AGAIN) or isinstance(error, exc.TaskError):
            raise error
        self._schedule(now, at_least=error.retry_after if isinstance(error, exc.APIError) else None)

    def _schedule(self, now: float, at_least: float | None = None) -> None:
        if self._deadline is not None and now >= self._deadline:
            raise exc.TaskTimeoutError(
                f"task {self.task_id} was still {self._last_status or 'unanswered'} when the wait ran out; "
                f"it goes on and is paid for: wait for it again with its id {self.task_id!r}",
                task_id=self.task_id,
                status=self._last_status,
            )
        self._next = now + max(self._gap, at_least or 0.0)
        if self._interval is None:
            self._gap = min(MAX_GAP, self._gap * GROWTH)
