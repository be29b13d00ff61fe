"""How fast `zhipu-images fake-server` serves as a test double: generate + download pairs per second.

The fake runs in its own process (as in the tests and users' CI); 50 clients,
each one keep-alive connection, loop over "generate one 1024x1024 image, then
download it", for a fixed time, in this process. Images are distinct per
request until the fake's cache is full, as a test suite's prompts are.

Run alone: ``python -m bench.fake_throughput [seconds] [clients]``.
"""

from __future__ import annotations

import asyncio
import signal
import statistics
import sys
import time

from bench._runner import start_fake_server

BODY = {"model": "cogview-4", "size": "1024x1024"}
AUTH = {"Authorization": "Bearer bench-fake-throughput"}


async def _pairs(base: str, seconds: float, clients: int) -> tuple[int, float]:
    """(pairs done, seconds taken) with ``clients`` concurrent generate-then-download loops.

    The load comes from aiohttp, not httpx: on these 2 cores an httpx client spends a whole core on ~250
    pairs/s and would measure itself, not the fake (seen: the fake used 25% of a core at that rate).
    """
    import aiohttp

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def pair(prompt: str) -> None:
            body = {**BODY, "prompt": prompt}
            async with session.post(f"{base}/images/generations", json=body, headers=AUTH) as answer:
                answer.raise_for_status()
                url = (await answer.json())["data"][0]["url"]
            async with session.get(url) as image:
                image.raise_for_status()
                data = await image.read()
                assert data.startswith(b"\x89PNG"), data[:16]

        async def loop(worker: int) -> int:
            done = 0
            while time.perf_counter() < deadline:
                await pair(f"client {worker} prompt {done}")
                done += 1
            return done

        await pair("warm-up")
        started = time.perf_counter()
        deadline = started + seconds
        counts = await asyncio.gather(*(loop(worker) for worker in range(clients)))
        return sum(counts), time.perf_counter() - started


def run(seconds: float = 5.0, clients: int = 50, rounds: int = 3) -> tuple[float, tuple[float, float]]:
    """(median pairs per second, (lowest, highest)) over ``rounds`` runs, each against a fresh fake-server."""
    rates = []
    for _ in range(rounds):
        server, url = start_fake_server()
        try:
            done, took = asyncio.run(_pairs(f"{url}/api/paas/v4", seconds, clients))
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=30)
        rates.append(done / took)
    return statistics.median(rates), (min(rates), max(rates))


if __name__ == "__main__":
    arguments = [float(value) for value in sys.argv[1:3]]
    rate, (low, high) = run(*arguments[:1], *(int(value) for value in arguments[1:2]))
    print(f"{rate:.0f} generate+download pairs/s (range {low:.0f}-{high:.0f})")
