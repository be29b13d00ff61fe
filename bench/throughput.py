"""Batch throughput under a concurrency cap, against `zhipu-images fake-server` (100 ms latency).

The fake runs in its own process, as a real platform would: in-process, its request
handling would compete with the client for the GIL and be counted as client time.
It reports on exit how many requests it served and the most it held at once.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench._runner import start_fake_server
from bench._venvs import LIB_PYTHON, run_json
from zhipu_images import AsyncImagesClient, ImagesClient


async def _run_async(base: str, prompts: int, cap: int) -> None:
    async with AsyncImagesClient(api_key="k", base_url=base, max_concurrency=cap) as client:
        await asyncio.gather(*(client.generate(f"prompt {i}") for i in range(prompts)))


async def _run_raw_httpx(base: str, prompts: int, cap: int) -> None:
    """The baseline: the same requests with raw httpx and a semaphore, no validation, no retries."""
    slots = asyncio.Semaphore(cap)
    headers = {"Authorization": "Bearer k"}

    async def one(client: httpx.AsyncClient, index: int) -> None:
        async with slots:
            body = {"model": "glm-image", "prompt": f"prompt {index}", "quality": "hd", "size": "1280x1280"}
            response = await client.post(f"{base}/images/generations", json=body, headers=headers)
            response.raise_for_status()

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(one(client, i) for i in range(prompts)))


def _run_sync(base: str, prompts: int, cap: int) -> None:
    with (
        ImagesClient(api_key="k", base_url=base, max_concurrency=cap) as client,
        ThreadPoolExecutor(max_workers=prompts) as pool,
    ):
        list(pool.map(lambda i: client.generate(f"prompt {i}"), range(prompts)))


def run(prompts: int, latency: float, cap: int) -> dict[str, dict[str, float]]:
    """mode -> seconds, ideal, ratio, max in flight, requests; measured in the library's venv."""
    result: dict[str, dict[str, float]] = run_json(LIB_PYTHON, "bench.throughput", prompts, latency, cap)
    return result


def measure(prompts: int, latency: float, cap: int) -> dict[str, dict[str, float]]:
    ideal = prompts / cap * latency
    results = {}
    for mode in ("raw httpx (async)", "async", "sync"):
        server, url = start_fake_server("--latency", str(latency))
        base = f"{url}/api/paas/v4"
        start = time.perf_counter()
        if mode == "async":
            asyncio.run(_run_async(base, prompts, cap))
        elif mode == "sync":
            _run_sync(base, prompts, cap)
        else:
            asyncio.run(_run_raw_httpx(base, prompts, cap))
        elapsed = time.perf_counter() - start
        server.send_signal(signal.SIGINT)
        report = server.communicate(timeout=30)[1]
        served = re.search(r"served (\d+) generation requests; at most (\d+) in flight", report)
        assert served is not None, report
        results[mode] = {
            "seconds": elapsed,
            "ideal": ideal,
            "ratio": elapsed / ideal,
            "max_in_flight": float(served[2]),
            "requests": float(served[1]),
        }
    return results


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))))
