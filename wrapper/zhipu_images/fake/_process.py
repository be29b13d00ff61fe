"""The fake platform as a real HTTP server in a process of its own, for a service's tests: whatever stack
its clients are on (httpx, httpx2, requests, aiohttp, another language), they reach it over loopback."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import attrs

from ._platform import FakePlatform

#: The longest a server process may take to say where it listens.
START_TIMEOUT = 60.0


@attrs.frozen
class FakeServerProcess:
    """A running fake server: its URL and the base URLs to point clients at."""

    url: str
    process: subprocess.Popen[str] = attrs.field(repr=False)

    @property
    def zhipu_base_url(self) -> str:
        """For ``ImagesClient(base_url=...)``, zai-sdk's ``base_url`` or ``ZHIPUAI_BASE_URL``."""
        return f"{self.url}/api/paas/v4"

    @property
    def openai_base_url(self) -> str:
        """For ``ImagesClient(openai_base_url=...)``, the openai SDK's ``base_url`` or ``OPENAI_BASE_URL``."""
        return f"{self.url}/v1"

    def environment(self) -> dict[str, str]:
        """The variables that point the library (and the SDKs that read them) at this server."""
        return {"ZHIPUAI_BASE_URL": self.zhipu_base_url, "OPENAI_BASE_URL": self.openai_base_url}


def _first_line(process: subprocess.Popen[str], timeout: float) -> str | None:
    """The first line the process prints on stdout, or None if it exits (or stays silent) first."""
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        found.append(process.stdout.readline())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0].strip() or None if found else None


@contextlib.contextmanager
def fake_images_server(**options: Any) -> Iterator[FakeServerProcess]:
    """Start the fake platform as an HTTP server process on a free loopback port, for the block.

    ``options`` are ``FakePlatform``'s (``api_key``, ``latency``, ``concurrency_limit``, ``fault_rates``,
    ``seed``, ``platform="zai"``, ...), checked here before the process starts. The process is stopped
    (SIGTERM, then SIGKILL) when the block ends.
    """
    FakePlatform(**options)  # a bad option fails here, in the caller's process, with FakePlatform's words
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "zhipu_images.fake", json.dumps(options)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            url = _first_line(process, START_TIMEOUT)
            if url is None or not url.startswith("http://"):
                errors.seek(0)
                raise RuntimeError(f"the fake server did not start: {errors.read()[-2000:] or 'no output'}")
            yield FakeServerProcess(url, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
