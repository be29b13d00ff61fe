"""The fake platform as an httpx transport (sync and async), and clients wired to it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from .._async_client import AsyncImagesClient
from .._client import ImagesClient
from .._transports.exchange import ClosedBeforeAnswer
from ._platform import (
    OPENAI_PATH,
    TASK_RESULT_PREFIX,
    ZHIPU_PATH,
    ZHIPU_TASK_PATH,
    FakePlatform,
    FakeReply,
    FakeRequest,
)

#: Where clients wired to the in-process fake send their requests (never resolved: nothing leaves the process).
FAKE_ORIGIN = "http://zhipu-images.fake"
FAKE_API_KEY = "fake-api-key"


def fake_request(request: httpx.Request, body: bytes) -> FakeRequest:
    """An httpx request as the platform sees it; any ``…/images/generations`` path (and the task API's
    ``…/async/images/generations``, ``…/async-result/<id>``) is routed by its suffix, whatever the base URL."""
    path = request.url.path
    if request.method == "POST" and path.endswith("/images/generations"):
        if path.endswith("/async/images/generations"):
            path = ZHIPU_TASK_PATH
        else:
            path = OPENAI_PATH if path.endswith("/v1/images/generations") else ZHIPU_PATH
    elif "/async-result/" in path:
        path = TASK_RESULT_PREFIX + path.rsplit("/async-result/", 1)[1]
    origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
    return FakeRequest(
        method=request.method,
        path=path,
        origin=origin,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )


def httpx_response(reply: FakeReply, request: httpx.Request) -> httpx.Response:
    if reply.drop:
        # as the library's own transports report a connection closed before any byte of the answer
        raise ClosedBeforeAnswer("Server disconnected without sending a response.", request=request)
    return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)


class FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves every request from a ``FakePlatform``, in process. Latency blocks only the calling thread or task."""

    def __init__(self, platform: FakePlatform | None = None) -> None:
        self.platform = platform or FakePlatform()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply = self.platform.handle(fake_request(request, request.read()))
        try:
            if reply.delay:
                time.sleep(reply.delay)
            return httpx_response(reply, request)
        finally:
            self.platform.finish(reply)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        reply = self.platform.handle(fake_request(request, await request.aread()))
        try:
            if reply.delay:
                await asyncio.sleep(reply.delay)
            return httpx_response(reply, request)
        finally:
            self.platform.finish(reply)


def _fake_options(platform: FakePlatform | None, options: dict[str, Any], /) -> dict[str, Any]:
    """Client options pointing at the in-process fake; the key is the platform's own, if it expects one."""
    return {
        "api_key": platform.api_key if platform and platform.api_key else FAKE_API_KEY,
        "base_url": f"{FAKE_ORIGIN}/api/paas/v4",
        "openai_base_url": f"{FAKE_ORIGIN}/v1",
        **options,
    }


def fake_client(platform: FakePlatform | None = None, /, **options: Any) -> ImagesClient:
    """An ``ImagesClient`` talking to an in-process fake platform; closes its transport on ``close()``.
    ``options`` are the client's (``platform="zai"`` gives it Z.AI's rules, for a ``FakePlatform(platform="zai")``)."""
    client = ImagesClient(
        http_client=httpx.Client(transport=FakeTransport(platform)), **_fake_options(platform, options)
    )
    client._owns_http = True
    return client


def fake_async_client(platform: FakePlatform | None = None, /, **options: Any) -> AsyncImagesClient:
    """An ``AsyncImagesClient`` talking to an in-process fake platform; closes its transport on ``aclose()``."""
    client = _FakeAsyncClient(FakeTransport(platform), **_fake_options(platform, options))
    client._owns_http = True
    return client


class _FakeAsyncClient(AsyncImagesClient):
    """The async client of ``fake_async_client``: on another event loop, its connections are the fake's again."""

    def __init__(self, transport: FakeTransport, **options: Any) -> None:
        super().__init__(http_client=httpx.AsyncClient(transport=transport), **options)
        self._fake_transport = transport

    def _fresh_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._fake_transport)
