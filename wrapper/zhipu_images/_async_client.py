"""``AsyncImagesClient``: the asyncio twin of ``ImagesClient``, in its own module so that
``import zhipu_images`` does not import asyncio for services that never use it."""

from __future__ import annotations

import asyncio
import os
import ssl
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from . import _deadline as deadline
from . import _exceptions as exc
from ._client import (
    DEFAULT_LEASE,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    DOWNLOAD_HEADERS,
    _ClientBase,
    merge,
)
from ._concurrency import AsyncLimiter
from ._options import NOT_GIVEN, NotGiven, call_timeout
from ._reading import BODY_FAILURES, AnswerReader, araw_chunks, decoder_for
from ._responses import Answer
from ._results import GeneratedImage, ImagesResult, ImageTask
from ._retry import late_answer, transport_error
from ._tasks import checked_task_id
from ._tls import context as tls_context

# Module-level so tests can observe the waits without waiting.
_async_sleep = asyncio.sleep
_T = TypeVar("_T")


class AsyncImagesClient(_ClientBase):
    """asyncio client with the same surface (``proxy=`` and the proxy variables included); ``max_concurrency`` caps
    in-flight requests across tasks."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        openai_base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        max_concurrency: int | str | None = None,
        http_client: httpx.AsyncClient | None = None,
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
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(f"http_client: expected an httpx.AsyncClient, got {type(http_client).__name__}")
        self._owns_http = http_client is None
        self._tls: ssl.SSLContext | None = None
        self._http = http_client or self._own_http()
        self._images: httpx.AsyncClient | None = http_client
        self._limiter = AsyncLimiter(self.max_concurrency) if self.max_concurrency else None
        #: the event loop this client's connections, cap and budget belong to (set on first use)
        self._loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
        #: the event loop its download connections belong to: downloads may run on a loop of their own
        self._images_loop: weakref.ref[asyncio.AbstractEventLoop] | None = None

    def _bind_download_loop(self) -> None:
        """Downloads on the running loop: their connections are made again once the loop they were made on is
        closed (downloads may run on a loop of their own, as the batch's do, so another running loop is left be)."""
        loop = asyncio.get_running_loop()
        bound = self._images_loop() if self._images_loop is not None else None
        if bound is loop:
            return
        if self._owns_http and self._images is not None and (bound is None or bound.is_closed()):
            self._images = None  # made on a loop that is gone
        self._images_loop = weakref.ref(loop)

    def _bind_loop(self) -> None:
        """Use this client on the running loop: the loop it was used on before, or, once that one is closed
        (``asyncio.run`` per job), afresh on this one. Refused before anything is sent while the other loop
        still runs (a loop per thread): its connections and cap cannot serve this one, and an answer read on
        the wrong loop would be lost after it was paid for."""
        loop = asyncio.get_running_loop()
        bound = self._loop() if self._loop is not None else None
        if bound is loop:
            return
        if bound is not None and not bound.is_closed():
            raise exc.ConfigurationError(
                "this AsyncImagesClient is in use on another event loop (another thread's?): make one client per "
                "event loop; nothing was sent"
            )
        if bound is not None or self._loop is not None:  # its loop is gone: nothing of it can be used here
            if not self._owns_http:
                raise exc.ConfigurationError(
                    "the http_client passed to this AsyncImagesClient belongs to an event loop that is closed: pass "
                    "one made on this loop, or let the client make its own; nothing was sent"
                )
            self._http = self._fresh_http()
            self._limiter = AsyncLimiter(self.max_concurrency) if self.max_concurrency else None
            if self._budget is not None:
                self._budget.forget_async()
        self._loop = weakref.ref(loop)

    async def generate(
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
        # the deadline of each request attempt, as the client's (not one deadline for the whole call)
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,  # noqa: ASYNC109
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
        self._bind_loop()
        limit = call_timeout(timeout)
        copies = self._copies(request)
        cap = self._answer_cap(request)

        def parse(answer: Answer) -> ImagesResult:
            return self._read(answer, request)

        if copies == 1:
            return await self._send("POST", url, body, cap, parse, limit)
        outcomes = await asyncio.gather(
            *(self._send("POST", url, body, cap, parse, limit) for _ in range(copies)), return_exceptions=True
        )
        return merge(outcomes, request)

    async def submit(
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
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,  # noqa: ASYNC109
    ) -> ImageTask:
        """Submit a generation to the task API; ``ImagesClient.submit`` says what is checked and kept."""
        params = {"size": size, "quality": quality, "user_id": user_id, "watermark_enabled": watermark_enabled}
        request, body = self._prepare_task(prompt, model, params, extra_body, request_id)
        self._bind_loop()

        def parse(answer: Answer) -> ImageTask:
            return self._read_submission(answer, request)

        limit = call_timeout(timeout)
        lease = None
        if self._budget is not None:  # a task holds its slot of the account's budget until it is done
            wait = deadline.deadline_seconds(limit or self._http.timeout)
            lease = await self._budget.acquire_async(None if wait is None else time.monotonic() + wait)
        try:
            try:
                task = await self._send(
                    "POST", self._task_url, body, self.max_response_bytes, parse, limit, budget=False
                )
            except exc.BadRequestError as error:
                task = self._already_submitted(error, request, request_id)
        except BaseException:
            if self._budget is not None:
                await self._budget.release_async(lease)
            raise
        self._hold_lease(task.id, lease)
        return task

    async def task(self, task: ImageTask | str) -> ImageTask:
        """The task's state now, fetched once (``ImagesClient.task``)."""
        known = task if isinstance(task, ImageTask) else None
        task_id = checked_task_id(task)
        self._check_open()
        self._bind_loop()
        answer = await self._exchange("GET", self._result_url(task_id), None, self.max_response_bytes, None)
        try:
            state = self._read_task(answer, task_id, known)
        except exc.ImagesError as error:
            error.task_id = task_id
            self._platform_hint(error)
            if isinstance(error, exc.TaskNotFoundError) and self._budget is not None:
                await self._budget.release_async(self._task_leases.pop(task_id, None))
            raise
        if state.done and self._budget is not None:
            await self._budget.release_async(self._task_leases.pop(task_id, None))
        return state

    async def wait(
        self,
        task: ImageTask | str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109  (the whole wait, as ImagesClient.wait's)
        poll_interval: float | None = None,
    ) -> ImagesResult:
        """Poll the task until it succeeds; return its images (``ImagesClient.wait`` says how)."""
        poller = self._poller(task, timeout, poll_interval)
        while True:
            await _async_sleep(poller.delay(time.monotonic()))
            try:
                state = await self.task(poller.known or poller.task_id)
            except exc.ImagesError as error:
                poller.failed(error, time.monotonic())
                continue
            done = poller.answered(state, time.monotonic())
            if done is not None:
                return done.result()

    async def _send(
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
                return await self._send_once(method, url, body, cap, parse, limit, budget)
            except (exc.APIError, exc.APIConnectionError) as error:
                delay = self._retry.delay(error, attempt, waited)
                if delay is None:
                    self._platform_hint(error)
                    raise
            await _async_sleep(delay)
            attempt, waited = attempt + 1, waited + delay

    async def _send_once(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        cap: int,
        parse: Callable[[Answer], _T],
        limit: httpx.Timeout | None,
        budget: bool = True,
    ) -> _T:
        if self._limiter is None:
            return parse(await self._exchange(method, url, body, cap, limit))
        wait = deadline.deadline_seconds(limit or self._http.timeout)
        epoch = await self._limiter.acquire(wait)
        outcome: BaseException | None = None
        token = None
        try:
            if self._budget is not None and budget:
                token = await self._budget.acquire_async(None if wait is None else time.monotonic() + wait)
            return parse(await self._exchange(method, url, body, cap, limit))
        except BaseException as error:
            outcome = error
            raise
        finally:
            if self._budget is not None and budget:
                await self._budget.release_async(token)
            await self._limiter.release(epoch, outcome)

    async def _exchange(
        self, method: str, url: str, body: dict[str, Any] | None, cap: int, limit: httpx.Timeout | None
    ) -> Answer:
        timeout = limit or self._http.timeout
        outgoing = self._http.build_request(
            method, self._parsed_urls.get(url, url), json=body, headers=self._headers, timeout=timeout
        )
        reader: AnswerReader | None = None
        response: httpx.Response | None = None
        try:
            async with asyncio.timeout(deadline.deadline_seconds(timeout)):
                try:
                    response = await self._http.send(outgoing, stream=True)
                except httpx.RequestError as error:  # nothing of an answer arrived
                    raise transport_error(error) from error
                try:  # the status line arrived: from here on, nothing is sent again
                    reader = self._reader(response, cap)
                    async for chunk in araw_chunks(response):
                        reader.feed(chunk)
                    return reader.answer()
                finally:
                    await response.aclose()
        except BODY_FAILURES as failure:
            assert response is not None
            return self._broken(response, failure, cap)
        except TimeoutError as late:
            if response is None:  # no status line in time: may have been received and billed, so not retried
                raise late_answer() from late
            return self._broken(response, deadline.DeadlineExceeded(), cap)

    @property
    def _image_http(self) -> httpx.AsyncClient:
        """Downloads get a pool of their own, as in ``ImagesClient._image_http`` (why is said there)."""
        if self._images is None:
            self._images = self._fresh_http()
        return self._images

    def _fresh_http(self) -> httpx.AsyncClient:
        """A new client of the kind this one owns, for another event loop (the fake's makes one on its transport)."""
        return self._own_http()

    def _own_http(self) -> httpx.AsyncClient:
        """An httpx client of this one's own, as in ``ImagesClient._own_http``."""
        from ._transports.clients import async_client

        if self._tls is None:
            self._tls = tls_context()
        return async_client(self._timeout, self._limits, self._tls, self._proxy)

    async def download(
        self,
        image: GeneratedImage | str,
        dest: str | os.PathLike[str],
        *,
        filename: str | None = None,
        max_bytes: int | None = None,
    ) -> Path:
        """Save one image (from ``result.images``, or an image URL) into the folder ``dest``; return its path.

        Never leaves a partial file. The whole download ends within the client's timeout."""
        self._bind_download_loop()
        started = self._start_download(image, dest, filename, max_bytes)
        if isinstance(started, Path):
            return started
        url, target = started
        http = self._image_http
        try:
            async with (
                asyncio.timeout(deadline.deadline_seconds(http.timeout)),
                http.stream("GET", url, headers=DOWNLOAD_HEADERS, follow_redirects=True) as response,
            ):
                target.check_status(response.status_code)
                decoder = decoder_for(response, target.max_bytes)
                async for chunk in araw_chunks(response):
                    for piece in decoder.feed(chunk):
                        target.write(piece)
                target.write(decoder.flush())
            return target.commit()
        except (*BODY_FAILURES, TimeoutError) as failure:
            target.abort()
            raise target.failed(
                deadline.DeadlineExceeded() if isinstance(failure, TimeoutError) else failure
            ) from failure
        except BaseException:
            target.abort()
            raise

    async def close_downloads(self) -> None:
        """Close the connections of downloads, on the event loop that made them (``aclose`` does it too: this is
        for downloads run on a loop of their own; a later download opens new ones)."""
        if self._owns_http and self._images is not None:
            images, self._images = self._images, None
            bound = self._images_loop() if self._images_loop is not None else None
            if bound is None or bound is asyncio.get_running_loop() or not bound.is_closed():
                await images.aclose()  # (those of a loop that is closed died with it)

    async def aclose(self) -> None:
        self._closed = True
        bound = self._loop() if self._loop is not None else None
        if bound is not None and bound is not asyncio.get_running_loop() and bound.is_closed():
            # its connections died with the loop they were made on: nothing of them can be closed from here
            if self._budget is not None:
                self._budget.forget_async()
                await self._budget.aclose()
            return
        if self._budget is not None:
            for lease in self._drop_leases():
                await self._budget.release_async(lease)
            await self._budget.aclose()
        if self._owns_http:
            await self._http.aclose()
            await self.close_downloads()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()


__all__ = ["AsyncImagesClient"]
