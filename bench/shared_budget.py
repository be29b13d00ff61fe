"""Three ``zhipu-images batch`` processes on one key against one fake-server with the V0 limit (5 in flight,
100 ms per generation): with the Redis shared budget, without it (each process adapts to 1302 on its own),
and with the shared budget while one process is killed with -9 half-way.

The server reports on exit the most requests it held at once and how many it refused with 1302. Each mode
runs ``rounds`` times, interleaved, each round on a key of its own (a killed process's leases do not carry
over): without Redis, an unlucky item's rate-limit backoff decides the wall time, and one run of the same
code took 1.2x or 2.5x the ideal.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from attrs import frozen

from bench._runner import ROOT, start_fake_server
from bench._venvs import lib_cli

sys.path.insert(0, str(ROOT))
from tests.redis_server import running_redis

KEY = "bench-shared-budget-key"


@frozen
class Result:
    seconds: float
    ideal: float
    refused: int
    max_in_flight: int
    served: int
    exit_codes: tuple[int, ...]

    @property
    def ratio(self) -> float:
        return self.seconds / self.ideal


def _run(folder: Path, prompts: int, latency: float, budget: str | None, kill_one: bool, key: str = KEY) -> Result:
    folder.mkdir()
    server, url = start_fake_server("--api-key", key, "--concurrency-limit", "5", "--latency", str(latency))
    env = {**os.environ, "ZHIPUAI_API_KEY": key}
    cli = lib_cli()
    processes = []
    started = time.perf_counter()
    for index in range(3):
        source = folder / f"prompts-{index}.txt"
        source.write_text("".join(f"process {index} prompt {i}\n" for i in range(prompts)))
        command = [
            str(cli),
            "batch",
            str(source),
            "--base-url",
            f"{url}/api/paas/v4",
            "--out",
            str(folder / f"out-{index}"),
        ]
        # --sync: the budget's sharing of generations at 100 ms is measured here, not the task path's polling
        command += ["--tier", "V0", "--no-progress", "--sync", *(["--shared-budget", budget] if budget else [])]
        processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    if kill_one:
        time.sleep(prompts * 3 * latency / 5 / 2)  # half of the ideal time
        processes[0].send_signal(signal.SIGKILL)
    codes = tuple(process.wait(timeout=600) for process in processes)
    seconds = time.perf_counter() - started
    server.send_signal(signal.SIGINT)
    report = server.communicate(timeout=30)[1]
    found = re.search(r"served (\d+) generation requests; at most (\d+) in flight at once; (\d+) answered 1302", report)
    assert found is not None, report
    return Result(seconds, 3 * prompts * latency / 5, int(found[3]), int(found[2]), int(found[1]), codes)


#: mode -> (with the shared budget, one process killed half-way)
MODES = {
    "shared budget": (True, False),
    "shared budget, one killed -9": (True, True),
    "adaptive only (no Redis)": (False, False),
}


def run(prompts: int = 100, latency: float = 0.1, rounds: int = 3) -> dict[str, list[Result]]:
    """Every mode ``rounds`` times, in the same order each round."""
    results: dict[str, list[Result]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="zhipu-images-bench-") as folder:
        root = Path(folder)
        with running_redis(root) as url:
            for round_number in range(rounds):
                for index, (mode, (shared, kill_one)) in enumerate(MODES.items()):
                    folder_name = root / f"round-{round_number}-mode-{index}"
                    budget = url if shared else None
                    key = f"{KEY}-{round_number}"
                    results[mode].append(_run(folder_name, prompts, latency, budget, kill_one, key))
    return results
