"""The fake platform mocked into httpx with respx, for tests that build their own clients."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any, Self

import httpx
import respx

from ._httpx2 import Httpx2Patch
from ._platform import FakePlatform, FakeReply, RecordedRequest
from ._settings import SETTINGS
from ._transport import fake_request, httpx_response


class FakeImagesAPI:
    """Within ``with FakeImagesAPI() as fake:``, every httpx (and httpx2) request to ``…/images/generations`` (the task
    API's ``…/async/images/generations`` and ``…/async-result/<id>`` too) or to an image URL the fake handed
    out, on any host, is answered by ``fake.platform``.
    Other requests pass through untouched.

    With ``latency`` set, async clients wait without blocking the loop; a *sync*
    client called from inside a running event loop cannot be delayed by respx,
    so use the async client there (or ``FakeTransport``).
    """

    def __init__(self, platform: FakePlatform | None = None) -> None:
        self.platform = platform or FakePlatform()
        self.router = respx.mock(assert_all_called=False, assert_all_mocked=False)
        self.router.route(method="POST", path__regex=r"/images/generations$").mock(side_effect=self._answer)
        self.router.route(method="GET", path__regex=r"^/files/").mock(side_effect=self._answer)
        self.router.route(method="GET", path__regex=r"/async-result/[^/]+$").mock(side_effect=self._answer)
        self.router.route().pass_through()
        #: the same routes answered for httpx2's clients, where httpx2 is installed
        self._httpx2 = Httpx2Patch(self.platform)

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.platform.requests

    def __getattr__(self, name: str) -> Any:
        # fail_next, max_in_flight, latency, ...: the platform's scripting surface
        return getattr(self.platform, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # `fake.latency = 0.5` must change the platform, not shadow it on this wrapper.
        if name in SETTINGS:
            setattr(self.platform, name, value)
        else:
            super().__setattr__(name, value)

    def _answer(self, request: httpx.Request) -> Any:
        reply = self.platform.handle(fake_request(request, request.read()))
        if not reply.delay:
            return self._respond(reply, request)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            time.sleep(reply.delay)
            return self._respond(reply, request)
        return self._respond_later(reply, request)

    def _respond(self, reply: FakeReply, request: httpx.Request) -> httpx.Response:
        try:
            return httpx_response(reply, request)
        finally:
            self.platform.finish(reply)

    async def _respond_later(self, reply: FakeReply, request: httpx.Request) -> httpx.Response:
        try:
            await asyncio.sleep(reply.delay)
        except BaseException:
            self.platform.finish(reply)
            raise
        return self._respond(reply, request)

    def __enter__(self) -> Self:
        self.router.__enter__()
        self._httpx2.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._httpx2.__exit__()
        self.router.__exit__(kind, value, traceback)
