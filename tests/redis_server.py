"""A real redis-server for the tests: on a free loopback port, in its own temporary folder, no persistence.

Where redis-server is missing the tests that need it skip, saying how to get it
(``.ci/run`` installs Debian's ``redis-server`` when it is not there).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import free_port, wait_listening

MISSING = "redis-server is not installed: `apt-get install redis-server` (CI's .ci/run installs it)"


@contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a fresh server, stopped when the block ends."""
    executable = shutil.which("redis-server")
    assert executable is not None, MISSING
    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not wait_listening(port, within=20):
            raise RuntimeError("redis-server did not start listening in 20 s")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
