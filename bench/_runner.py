"""Interleaved A/B timing: every round runs each contender once, in a fresh random order, so machine
drift hits all of them alike; the result per contender is the median over rounds."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def interleaved(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Each contender returns one measurement per call; returns the median of each over ``rounds``."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            samples[name].append(contenders[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def per_call_us(function: Callable[[], object], calls: int) -> Callable[[], float]:
    """A contender measuring microseconds per call of ``function``, over ``calls`` calls."""

    def measure() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        return (time.perf_counter() - start) / calls * 1e6

    return measure


@contextmanager
def canned_server() -> Iterator[str]:
    """The minimal fixed-response server, in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "canned_server.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()
