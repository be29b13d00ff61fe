"""One AsyncImagesClient and several event loops: ``asyncio.run`` per job works; a loop per thread at once is
refused before anything is sent. Paid generations are counted on the fake server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from zhipu_images import AsyncImagesClient, ConfigurationError
from zhipu_images.fake import FakePlatform, fake_async_client, running_fake_server

KEY = "sk-event-loops-0123456789"


def test_asyncio_run_per_job_over_pooled_connections_pays_once_and_keeps_every_answer(tmp_path: Path) -> None:
    platform = FakePlatform(latency=0.01)
    with running_fake_server(platform) as server:
        client = AsyncImagesClient(api_key=KEY, base_url=f"{server.url}/api/paas/v4", max_concurrency=2)

        async def job(index: int) -> Path:
            result = await client.generate(f"a cat {index}", model="cogview-4")
            task = await client.submit(f"a dog {index}")
            await client.wait(task, poll_interval=0.01)
            return await client.download(result.images[0], tmp_path)

        saved = [asyncio.run(job(index)) for index in range(3)]  # a new loop each time, one client
        asyncio.run(client.aclose())
    assert len(set(saved)) == 3
    assert (platform.generated, platform.tasks_submitted) == (3, 3)


def test_the_in_process_fake_client_works_across_loops_too() -> None:
    platform = FakePlatform()
    client = fake_async_client(platform)
    for _ in range(2):
        asyncio.run(client.generate("a cat"))
    assert platform.generated == 2


def test_a_client_in_use_on_another_running_loop_is_refused_before_sending() -> None:
    platform = FakePlatform(latency=0.5)
    with running_fake_server(platform) as server:
        client = AsyncImagesClient(api_key=KEY, base_url=f"{server.url}/api/paas/v4")
        started, outcome = threading.Event(), []

        async def first() -> None:
            pending = asyncio.create_task(client.generate("a cat", model="cogview-4"))
            await asyncio.sleep(0)
            started.set()
            outcome.append(await pending)

        thread = threading.Thread(target=lambda: asyncio.run(first()))
        thread.start()
        assert started.wait(30)
        with pytest.raises(ConfigurationError, match="one client per event loop; nothing was sent"):
            asyncio.run(client.generate("a dog", model="cogview-4"))
        thread.join(60)
    assert len(outcome) == 1
    assert platform.received == 1  # the refused call sent nothing


def test_a_passed_in_http_client_of_a_closed_loop_is_refused() -> None:
    import httpx

    from zhipu_images.fake import FakeTransport

    client = AsyncImagesClient(api_key=KEY, http_client=httpx.AsyncClient(transport=FakeTransport()))
    asyncio.run(client.generate("a cat", model="cogview-4"))
    with pytest.raises(ConfigurationError, match="belongs to an event loop that is closed"):
        asyncio.run(client.generate("a cat", model="cogview-4"))
