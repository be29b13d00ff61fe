"""Run the same test against ImagesClient and AsyncImagesClient.

A ``Driver`` builds a client and calls it synchronously; the async one runs each
call in a fresh event loop with a fresh client, so a test body reads the same
for both and any difference in behaviour between the two clients shows up.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from zhipu_images import AsyncImagesClient, GeneratedImage, ImagesClient, ImagesResult, ImageTask
from zhipu_images.fake import FakePlatform, FakeTransport


class Driver:
    kind = ""

    def __init__(self, **options: Any) -> None:
        options.setdefault("api_key", "sk-test-key-123456")
        self.options = options

    def generate(self, prompt: str, **params: Any) -> ImagesResult:
        raise NotImplementedError

    def download(self, image: GeneratedImage | str, dest: str | os.PathLike[str], **params: Any) -> Path:
        raise NotImplementedError

    def with_fake(self, platform: FakePlatform) -> Driver:
        """The same driver, wired to ``platform`` in process."""
        raise NotImplementedError

    def call(self, method: str, *args: Any, **params: Any) -> Any:
        """``client.<method>(*args, **params)`` on a fresh client (awaited for the async one)."""
        raise NotImplementedError

    def submit(self, prompt: str, **params: Any) -> ImageTask:
        task: ImageTask = self.call("submit", prompt, **params)
        return task

    def task(self, task: ImageTask | str) -> ImageTask:
        state: ImageTask = self.call("task", task)
        return state

    def wait(self, task: ImageTask | str, **params: Any) -> ImagesResult:
        result: ImagesResult = self.call("wait", task, **params)
        return result


class SyncDriver(Driver):
    kind = "sync"

    def _client(self) -> ImagesClient:
        return ImagesClient(**self.options)

    def generate(self, prompt: str, **params: Any) -> ImagesResult:
        with self._client() as client:
            return client.generate(prompt, **params)

    def download(self, image: GeneratedImage | str, dest: str | os.PathLike[str], **params: Any) -> Path:
        with self._client() as client:
            return client.download(image, dest, **params)

    def call(self, method: str, *args: Any, **params: Any) -> Any:
        with self._client() as client:
            return getattr(client, method)(*args, **params)

    def with_fake(self, platform: FakePlatform) -> Driver:
        return SyncDriver(
            **self.options,
            base_url="http://fake.test/api/paas/v4",
            openai_base_url="http://fake.test/v1",
            http_client=httpx.Client(transport=FakeTransport(platform)),
        )


class AsyncDriver(Driver):
    kind = "async"

    def _run(self, call: Callable[[AsyncImagesClient], Any]) -> Any:
        async def main() -> Any:
            options = dict(self.options)
            transport = options.pop("transport", None)
            if transport is not None:
                options["http_client"] = httpx.AsyncClient(transport=transport)
            async with AsyncImagesClient(**options) as client:
                return await call(client)

        return asyncio.run(main())

    def generate(self, prompt: str, **params: Any) -> ImagesResult:
        result: ImagesResult = self._run(lambda client: client.generate(prompt, **params))
        return result

    def download(self, image: GeneratedImage | str, dest: str | os.PathLike[str], **params: Any) -> Path:
        path: Path = self._run(lambda client: client.download(image, dest, **params))
        return path

    def call(self, method: str, *args: Any, **params: Any) -> Any:
        return self._run(lambda client: getattr(client, method)(*args, **params))

    def with_fake(self, platform: FakePlatform) -> Driver:
        return AsyncDriver(
            **self.options,
            base_url="http://fake.test/api/paas/v4",
            openai_base_url="http://fake.test/v1",
            transport=FakeTransport(platform),
        )


DRIVERS = [SyncDriver, AsyncDriver]
