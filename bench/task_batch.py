"""glm-image batches through the task API beside the same batch in one request per image (``--sync``).

Each round runs both, in a fresh random order, as the real ``zhipu-images batch`` against a fresh
``zhipu-images fake-server`` whose generations (and tasks) take ``latency`` seconds, with a per-key limit of
``cap``. The ideal is the simulated latency the server drew, over the limit (prompts x latency / cap); the
server counts tasks, polls and sync generations. The task path holds one of the batch's slots from a task's
submission until it is seen done, so its time over the ideal is what the polling costs: the first poll of a
task comes when earlier ones were done, then the gap grows.
"""

from __future__ import annotations

import os
import random
import re
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from attrs import frozen

from bench._runner import start_fake_server
from bench._venvs import ROOT, lib_cli

KEY = "bench.task-batch"
CONTENDERS = {"task API (default)": (), "--sync": ("--sync",)}


@frozen
class Outcome:
    seconds: float
    ideal: float
    saved: int
    tasks: int
    polls: int
    generated: int

    @property
    def ratio(self) -> float:
        return self.seconds / self.ideal


@frozen
class Summary:
    """Medians over rounds."""

    ratio: float
    spread: tuple[float, float]
    seconds: float
    ideal: float
    polls_per_task: float
    tasks: int
    generated: int
    lost: int


def _one(extra: tuple[str, ...], prompts: int, latency: float, cap: int, folder: Path) -> Outcome:
    server, url = start_fake_server("--latency", str(latency), "--concurrency-limit", str(cap))
    source = folder / "prompts.txt"
    source.write_text("".join(f"prompt number {i}\n" for i in range(prompts)))
    out = folder / "out"
    command = [lib_cli(), "batch", str(source), "--out", str(out), "-c", str(cap), "--no-progress", *extra]
    command += ["--base-url", f"{url}/api/paas/v4", "-m", "glm-image"]
    try:
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=1800, env={**os.environ, "ZHIPUAI_API_KEY": KEY}
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"batch {' '.join(extra)} failed: {done.stderr[-3000:]}")
        saved = len(list(out.glob("*.png")))
    finally:
        server.send_signal(signal.SIGINT)
        report = server.communicate(timeout=30)[1]
    found = re.search(
        r"(\d+) generated \(paid\); (\d+) tasks submitted \(paid\), (\d+) polls; ([\d.]+) s of simulated", report
    )
    assert found is not None, report
    generated, tasks, polls = int(found[1]), int(found[2]), int(found[3])
    return Outcome(seconds, float(found[4]) / cap, saved, tasks, polls, generated)


def run(prompts: int = 100, latency: float = 2.0, cap: int = 10, rounds: int = 3) -> dict[str, Summary]:
    outcomes: dict[str, list[Outcome]] = {name: [] for name in CONTENDERS}
    names = list(CONTENDERS)
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            with tempfile.TemporaryDirectory(prefix="zhipu-images-bench-") as folder:
                outcomes[name].append(_one(CONTENDERS[name], prompts, latency, cap, Path(folder)))
    summaries = {}
    for name, runs in outcomes.items():
        ratios = sorted(outcome.ratio for outcome in runs)
        summaries[name] = Summary(
            ratio=statistics.median(ratios),
            spread=(ratios[0], ratios[-1]),
            seconds=statistics.median(outcome.seconds for outcome in runs),
            ideal=statistics.median(outcome.ideal for outcome in runs),
            polls_per_task=statistics.median(outcome.polls / max(1, outcome.tasks) for outcome in runs),
            tasks=max(outcome.tasks for outcome in runs),
            generated=max(outcome.generated for outcome in runs),
            lost=max(prompts - outcome.saved for outcome in runs),
        )
    return summaries


if __name__ == "__main__":
    for contender, summary in run(rounds=1).items():
        print(contender, summary)
