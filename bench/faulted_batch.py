"""The main job, side by side: 1,000 prompts generated and downloaded under a per-key limit, with faults.

Each contender is its own process (the library and the CLI in the library's venv, the SDKs in theirs)
against a fresh `zhipu-images fake-server` with a per-key limit of 10, 50-150 ms per generation and
5% injected faults (500, 1302, dropped connections); every client holds at most 10 in flight. Rounds run
the contenders in a fresh random order. Wall time is the whole process, start-up included, against the
ideal: the simulated latency the server drew for the generations it answered, over the limit of 10 (about
prompts / 10 x 100 ms; one round's draws differ from that mean by up to ~2%). The server counts what it
generated (what the platform would bill): ``wasted`` is generations beyond the images saved, ``lost`` the
prompts without an image.

``python -m bench.faulted_batch CONTENDER BASE_URL PROMPTS CAP OUT`` runs one client contender and prints
how many images it saved, as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from attrs import frozen

from bench._runner import start_fake_server
from bench._venvs import LIB_PYTHON, PEER_PYTHON, ROOT, lib_cli

KEY = "bench.faulted-batch"
LATENCY = ("--latency", "0.05", "--latency-max", "0.15")
FAULTS = ("--fail-rate", "server_error=0.017", "--fail-rate", "rate_limit=0.017", "--fail-rate", "drop=0.016")
#: contender -> (interpreter or None for the CLI, with faults)
CONTENDERS = {
    "zhipu-images batch": (None, True),
    "zhipu_images (AsyncImagesClient)": (LIB_PYTHON, True),
    "raw httpx (no retries)": (LIB_PYTHON, True),
    "openai": (PEER_PYTHON, True),
    "zai-sdk": (PEER_PYTHON, True),
    "zhipu-images batch, no faults": (None, False),
    "zhipu_images (AsyncImagesClient), no faults": (LIB_PYTHON, False),
    "raw httpx (no retries), no faults": (LIB_PYTHON, False),
}


@frozen
class Outcome:
    seconds: float
    ideal: float
    saved: int
    prompts: int
    generated: int
    refused: int
    max_in_flight: int
    #: for the CLI, the error each failed item ended with (its manifest says), e.g. "ServerError 500"
    failed_as: tuple[str, ...] = ()

    @property
    def ratio(self) -> float:
        return self.seconds / self.ideal


@frozen
class Summary:
    """Medians over rounds, with the spread of the time ratio."""

    ratio: float
    spread: tuple[float, float]
    #: the median against the nominal ideal, prompts / 10 x 100 ms (what this bench used before the drawn one)
    nominal_ratio: float
    lost: int
    wasted: int
    refused: int
    max_in_flight: int
    #: why the CLI's lost prompts failed, over all rounds: error -> items
    failed_as: dict[str, int]


def _one(contender: str, prompts: int, cap: int, folder: Path, seed: int) -> Outcome:
    python, faulted = CONTENDERS[contender]
    options = [*LATENCY, "--concurrency-limit", str(cap), "--seed", str(seed), *(FAULTS if faulted else ())]
    server, url = start_fake_server(*options)
    out = folder / "out"
    try:
        if python is None:
            source = folder / "prompts.txt"
            source.write_text("".join(f"prompt number {i}\n" for i in range(prompts)))
            # --sync: one request per image, as every other contender here generates (the task path, whose
            # polling suits the platform's seconds, not these 100 ms, has its own rows: bench/task_batch.py)
            command = [lib_cli(), "batch", str(source), "--out", str(out), "-c", str(cap), "--no-progress", "--sync"]
            command += ["--base-url", f"{url}/api/paas/v4"]
        else:
            name = contender.split(" (")[0].split(",")[0]
            command = [python, "-m", "bench.faulted_batch", name, url, str(prompts), str(cap), str(out)]
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=900, env=_env()
        )  # exit 1 is fine: an item failed
        seconds = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise RuntimeError(f"{contender} failed: {done.stderr[-3000:]}")
        saved = len(list(out.glob("*.png")))
        failed_as = _failed_as(out / "manifest.jsonl") if python is None else ()
    finally:
        server.send_signal(signal.SIGINT)
        report = server.communicate(timeout=30)[1]
    found = re.search(
        r"at most (\d+) in flight at once; (\d+) answered 1302 .*; (\d+) generated .*; ([\d.]+) s of simulated", report
    )
    assert found is not None, report
    ideal = float(found[4]) / cap
    return Outcome(seconds, ideal, saved, prompts, int(found[3]), int(found[2]), int(found[1]), failed_as)


def _failed_as(manifest: Path) -> tuple[str, ...]:
    """The error each failed item of a batch ended with, from its manifest."""
    errors = []
    for line in manifest.read_text().splitlines():
        record = json.loads(line)
        if record.get("status") == "failed":
            error = record.get("error") or {}
            errors.append(" ".join(str(part) for part in (error.get("type"), error.get("code")) if part))
    return tuple(errors)


def _env() -> dict[str, str]:
    return {**os.environ, "ZHIPUAI_API_KEY": KEY, "OPENAI_API_KEY": KEY}


def run(prompts: int = 1000, cap: int = 10, rounds: int = 3) -> dict[str, Summary]:
    outcomes: dict[str, list[Outcome]] = {name: [] for name in CONTENDERS}
    names = list(CONTENDERS)
    for round_number in range(rounds):
        random.shuffle(names)
        for name in names:
            with tempfile.TemporaryDirectory(prefix="zhipu-images-bench-") as folder:
                outcomes[name].append(_one(name, prompts, cap, Path(folder), seed=round_number))
    summaries = {}
    for name, runs in outcomes.items():
        ratios = [run.ratio for run in runs]
        summaries[name] = Summary(
            ratio=statistics.median(ratios),
            spread=(min(ratios), max(ratios)),
            nominal_ratio=statistics.median(run.seconds / (run.prompts / cap * 0.1) for run in runs),
            lost=max(run.prompts - run.saved for run in runs),
            wasted=max(run.generated - run.saved for run in runs),
            refused=max(run.refused for run in runs),
            max_in_flight=max(run.max_in_flight for run in runs),
            failed_as=dict(Counter(error for run in runs for error in run.failed_as)),
        )
    return summaries


# --- the client contenders, each run as ``python -m bench.faulted_batch NAME ...`` -------------------


async def _library(url: str, prompts: int, cap: int, out: Path) -> int:
    from zhipu_images import AsyncImagesClient, ImagesError

    async with AsyncImagesClient(api_key=KEY, base_url=f"{url}/api/paas/v4", max_concurrency=cap) as client:

        async def one(index: int) -> int:
            try:
                result = await client.generate(f"prompt number {index}")
                await client.download(result.images[0], out, filename=f"image-{index}")
            except ImagesError:
                return 0
            return 1

        return sum(await asyncio.gather(*(one(i) for i in range(prompts))))


async def _raw_httpx(url: str, prompts: int, cap: int, out: Path) -> int:
    import httpx

    slots = asyncio.Semaphore(cap)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=2 * cap)) as client:

        async def one(index: int) -> int:
            body = {"model": "glm-image", "prompt": f"prompt number {index}", "quality": "hd", "size": "1280x1280"}
            try:
                async with slots:
                    answer = await client.post(f"{url}/api/paas/v4/images/generations", json=body, headers=headers)
                answer.raise_for_status()
                image = await client.get(answer.json()["data"][0]["url"])
                image.raise_for_status()
            except httpx.HTTPError:
                return 0
            (out / f"image-{index}.png").write_bytes(image.content)
            return 1

        return sum(await asyncio.gather(*(one(i) for i in range(prompts))))


async def _openai(url: str, prompts: int, cap: int, out: Path) -> int:
    import httpx
    import openai

    slots = asyncio.Semaphore(cap)
    async with openai.AsyncOpenAI(api_key=KEY, base_url=f"{url}/v1") as client, httpx.AsyncClient() as images:

        async def one(index: int) -> int:
            try:
                async with slots:
                    answer = await client.images.generate(model="dall-e-2", prompt=f"prompt number {index}")
                assert answer.data is not None
                image = await images.get(str(answer.data[0].url))
                image.raise_for_status()
            except (openai.OpenAIError, httpx.HTTPError):
                return 0
            (out / f"image-{index}.png").write_bytes(image.content)
            return 1

        return sum(await asyncio.gather(*(one(i) for i in range(prompts))))


def _zai(url: str, prompts: int, cap: int, out: Path) -> int:
    import httpx
    from zai import ZhipuAiClient

    client = ZhipuAiClient(api_key=KEY, base_url=f"{url}/api/paas/v4")
    images = httpx.Client()

    def one(index: int) -> int:
        try:
            answer = client.images.generations(model="cogview-4", prompt=f"prompt number {index}")
            image = images.get(answer.data[0].url)
            image.raise_for_status()
        except Exception:  # zai-sdk's errors have no common base with httpx's
            return 0
        (out / f"image-{index}.png").write_bytes(image.content)
        return 1

    with ThreadPoolExecutor(max_workers=cap) as pool:
        return sum(pool.map(one, range(prompts)))


def main(name: str, url: str, prompts: int, cap: int, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    if name == "zai-sdk":
        return _zai(url, prompts, cap, out)
    runner = {"zhipu_images": _library, "raw httpx": _raw_httpx, "openai": _openai}[name]
    return asyncio.run(runner(url, prompts, cap, out))


if __name__ == "__main__":
    saved = main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
    print(json.dumps({"saved": saved}))
