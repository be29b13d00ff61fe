"""The respx mock's reach extended to httpx2, httpx's maintained fork (the official openai >= 3 SDK,
Starlette and FastAPI use it): respx patches httpx only.

While a ``FakeImagesAPI`` block runs, httpx2's two transport classes answer the fake's routes from the
fake platform and hand everything else to their own method, as respx does for httpx. Their public
``handle_request`` / ``handle_async_request`` are what is replaced, and put back when the block ends.
Nothing happens where httpx2 is not installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import time
from collections.abc import Callable
from typing import Any

from ._platform import FakePlatform, FakeReply
from ._transport import fake_request

#: the requests the fake answers, as the respx routes name them: (method, path pattern)
ROUTES = (
    ("POST", re.compile(r"/images/generations$")),
    ("GET", re.compile(r"^/files/")),
    ("GET", re.compile(r"/async-result/[^/]+$")),
)


def answered(method: str, path: str) -> bool:
    return any(method == route_method and pattern.search(path) for route_method, pattern in ROUTES)


class Httpx2Patch:
    """httpx2's transports answering the fake's routes from ``platform`` (a context manager)."""

    def __init__(self, platform: FakePlatform) -> None:
        self.platform = platform
        self._restore: list[Callable[[], None]] = []

    def __enter__(self) -> Httpx2Patch:
        if importlib.util.find_spec("httpx2") is None:
            return self
        import httpx2

        sync_class, async_class = httpx2.HTTPTransport, httpx2.AsyncHTTPTransport
        sync_original, async_original = sync_class.handle_request, async_class.handle_async_request
        patch = self

        def handle_request(transport: Any, request: Any) -> Any:
            if not answered(request.method, request.url.path):
                return sync_original(transport, request)
            reply = patch.platform.handle(fake_request(request, request.read()))
            if reply.delay:
                time.sleep(reply.delay)
            return patch._respond(httpx2, reply, request)

        async def handle_async_request(transport: Any, request: Any) -> Any:
            if not answered(request.method, request.url.path):
                return await async_original(transport, request)
            reply = patch.platform.handle(fake_request(request, await request.aread()))
            if reply.delay:
                try:
                    await asyncio.sleep(reply.delay)
                except BaseException:
                    patch.platform.finish(reply)
                    raise
            return patch._respond(httpx2, reply, request)

        sync_class.handle_request = handle_request
        async_class.handle_async_request = handle_async_request

        def restore() -> None:
            sync_class.handle_request = sync_original
            async_class.handle_async_request = async_original

        self._restore.append(restore)
        return self

    def _respond(self, httpx2: Any, reply: FakeReply, request: Any) -> Any:
        try:
            if reply.drop:
                raise httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            return httpx2.Response(reply.status, headers=reply.headers, content=reply.body, request=request)
        finally:
            self.platform.finish(reply)

    def __exit__(self, *_: object) -> None:
        while self._restore:
            self._restore.pop()()
