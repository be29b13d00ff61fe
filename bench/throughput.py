"""Batch throughput under a concurrency cap, against the fake platform with 100 ms latency."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from zhipu_images import AsyncImagesClient, ImagesClient
from zhipu_images.fake import FakePlatform, running_fake_server


async def _run_async(base: str, prompts: int, cap: int) -> None:
    async with AsyncImagesClient(api_key="k", base_url=base, max_concurrency=cap) as client:
        await asyncio.gather(*(client.generate(f"prompt {i}") for i in range(prompts)))


def _run_sync(base: str, prompts: int, cap: int) -> None:
    with (
        ImagesClient(api_key="k", base_url=base, max_concurrency=cap) as client,
        ThreadPoolExecutor(max_workers=prompts) as pool,
    ):
        list(pool.map(lambda i: client.generate(f"prompt {i}"), range(prompts)))


def run(prompts: int, latency: float, cap: int) -> dict[str, dict[str, float]]:
    ideal = prompts / cap * latency
    results = {}
    for mode in ("async", "sync"):
        platform = FakePlatform(latency=latency)
        with running_fake_server(platform) as server:
            base = f"{server.url}/api/paas/v4"
            start = time.perf_counter()
            if mode == "async":
                asyncio.run(_run_async(base, prompts, cap))
            else:
                _run_sync(base, prompts, cap)
            elapsed = time.perf_counter() - start
        results[mode] = {
            "seconds": elapsed,
            "ideal": ideal,
            "ratio": elapsed / ideal,
            "max_in_flight": platform.max_in_flight,
            "requests": len(platform.requests),
        }
    return results
