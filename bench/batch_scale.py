"""``zhipu-images batch`` at growing sizes: items per second and peak RSS must not depend on the input's length.

Each size runs the real command in a fresh process against the in-process fake
(no network, ~0 latency, so the batch's own costs are what is measured), then
resumes the finished folder. Peak RSS is the child's own, measured by a small launcher process
(``LAUNCHER``): a child's ``ru_maxrss`` starts at the peak of the process it was forked from (Linux
records it at exec), and this bench's process, grown by the benchmarks before, made a 33 MiB resume
read 45 MiB.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from attrs import frozen

from bench._runner import start_fake_server
from bench._venvs import LIB_PYTHON

#: small images keep the fake's drawing out of the measurement
COMMAND = ["--fake", "-c", "20", "-m", "cogview-4", "-s", "512x512", "--no-progress"]
#: the task API's model, through the task path, against a ``fake-server`` process: an in-process fake keeps every
#: task for its life (as the platform does), which would count the platform's memory as the batch's
TASK_COMMAND = ["-c", "20", "-m", "glm-image", "-s", "1024x1024", "--no-progress"]
#: Runs argv[1:] and prints its seconds, peak RSS (KiB) and exit code; without site (``-S``) it is a few MiB,
#: below any batch's own peak.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


@frozen
class Run:
    items: int
    seconds: float
    peak_mib: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def _batch(prompts: Path, out: Path, items: int, options: list[str]) -> Run:
    command = [LIB_PYTHON, "-m", "zhipu_images", "batch", str(prompts), "--out", str(out), *options]
    environment = {**os.environ, "ZHIPUAI_API_KEY": "bench.batch-scale"}
    done = subprocess.run(
        [LIB_PYTHON, "-S", "-c", LAUNCHER, *command], capture_output=True, text=True, check=True, env=environment
    )
    seconds, peak_kib, code = done.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"batch of {items} failed: {done.stderr[-2000:]}")
    return Run(items=items, seconds=float(seconds), peak_mib=int(peak_kib) / 1024)


def run(sizes: tuple[int, ...], tasks: bool = False) -> dict[int, tuple[Run, Run]]:
    """size -> (the run, the resume of the finished folder); ``tasks``: glm-image through the task API."""
    results = {}
    for size in sizes:
        server = None
        options = COMMAND
        if tasks:
            server, url = start_fake_server()
            options = [*TASK_COMMAND, "--base-url", f"{url}/api/paas/v4"]
        try:
            with tempfile.TemporaryDirectory(prefix="zhipu-images-bench-") as folder:
                prompts = Path(folder) / "prompts.txt"
                prompts.write_text("".join(f"prompt number {i}, a distinct request\n" for i in range(size)))
                out = Path(folder) / "out"
                results[size] = (_batch(prompts, out, size, options), _batch(prompts, out, size, options))
        finally:
            if server is not None:
                server.send_signal(signal.SIGINT)
                server.communicate(timeout=60)
    return results
