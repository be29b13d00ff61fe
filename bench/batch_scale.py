"""``zhipu-images batch`` at growing sizes: items per second and peak RSS must not depend on the input's length.

Each size runs the real command in a fresh process against the in-process fake
(no network, ~0 latency, so the batch's own costs are what is measured), then
resumes the finished folder. Peak RSS is the child's own (``os.wait4``).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from attrs import frozen

from bench._venvs import LIB_PYTHON

#: small images keep the fake's drawing out of the measurement
COMMAND = ["--fake", "-c", "20", "-m", "cogview-4", "-s", "512x512", "--no-progress"]


@frozen
class Run:
    items: int
    seconds: float
    peak_mib: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def _batch(prompts: Path, out: Path, items: int) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen(
        [LIB_PYTHON, "-m", "zhipu_images", "batch", str(prompts), "--out", str(out), *COMMAND],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    assert process.stderr is not None
    message = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"batch of {items} failed: {message[-2000:]}")
    return Run(items=items, seconds=seconds, peak_mib=usage.ru_maxrss / 1024)


def run(sizes: tuple[int, ...]) -> dict[int, tuple[Run, Run]]:
    """size -> (the run, the resume of the finished folder)."""
    results = {}
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="zhipu-images-bench-") as folder:
            prompts = Path(folder) / "prompts.txt"
            prompts.write_text("".join(f"prompt number {i}, a distinct request\n" for i in range(size)))
            out = Path(folder) / "out"
            results[size] = (_batch(prompts, out, size), _batch(prompts, out, size))
    return results
