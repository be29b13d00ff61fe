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

from attrs import define

ROOT = Path(__file__).resolve().parent.parent


Sample = tuple[float, float]  # (wall-clock us, client CPU us) per request


@define
class Measured:
    """Medians of one contender, and the medians of its per-round ratios to the baseline."""

    wall_us: float
    cpu_us: float
    wall_ratio: float
    cpu_ratio: float
    #: interquartile range of the per-round ratios: how much the machine's noise moves them
    wall_spread: tuple[float, float]
    cpu_spread: tuple[float, float]


def interleaved(contenders: dict[str, Callable[[], Sample]], rounds: int, baseline: str) -> dict[str, Measured]:
    """Run every contender once per round, in a fresh random order each round.

    Ratios are paired: each contender is divided by the baseline of the same
    round, so slow drift of the machine cancels out instead of landing in one
    side's median. Client CPU time counts only this process (the server runs in
    another), which is the overhead a client adds, with less scheduling noise.
    """
    samples: dict[str, list[Sample]] = {name: [] for name in contenders}
    names = list(contenders)
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            samples[name].append(contenders[name]())
    base = samples[baseline]

    def ratios(values: list[Sample], index: int) -> tuple[float, tuple[float, float]]:
        paired = [v[index] / b[index] for v, b in zip(values, base, strict=True)]
        low, middle, high = statistics.quantiles(paired, n=4)
        return middle, (low, high)

    measured = {}
    for name, values in samples.items():
        wall_ratio, wall_spread = ratios(values, 0)
        cpu_ratio, cpu_spread = ratios(values, 1)
        measured[name] = Measured(
            wall_us=statistics.median(v[0] for v in values),
            cpu_us=statistics.median(v[1] for v in values),
            wall_ratio=wall_ratio,
            cpu_ratio=cpu_ratio,
            wall_spread=wall_spread,
            cpu_spread=cpu_spread,
        )
    return measured


def per_call_us(function: Callable[[], object], calls: int) -> Callable[[], Sample]:
    """A contender measuring wall-clock and CPU microseconds per call of ``function``, over ``calls`` calls."""

    def measure() -> Sample:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            function()
        return (time.perf_counter() - wall) / calls * 1e6, (time.process_time() - cpu) / calls * 1e6

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


def start_fake_server(*options: str) -> tuple[subprocess.Popen[str], str]:
    """Launch the library venv's `zhipu-images fake-server` on a free port; the process and its URL once it listens."""
    from bench._venvs import lib_cli

    process = subprocess.Popen(
        [lib_cli(), "fake-server", "--port", "0", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    return process, process.stderr.readline().strip().removeprefix("fake platform on ")
