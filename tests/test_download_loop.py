"""The batch's downloads on a loop of their own: they run off the batch's loop, stop when their caller is
cancelled, and leave no connection, thread or partial file behind."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import HostileServer
from zhipu_images import AsyncImagesClient
from zhipu_images.cli._download_loop import DownloadLoop
from zhipu_images.fake import png_size, running_fake_server

KEY = "download-loop-test-key"


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


def test_a_download_runs_on_the_download_thread_and_close_ends_its_pool_and_thread(tmp_path: Path) -> None:
    threads: list[str] = []

    async def main() -> tuple[Path, bool]:
        with running_fake_server() as server:
            async with AsyncImagesClient(api_key=KEY, base_url=f"{server.url}/api/paas/v4") as client:
                image = (await client.generate("a cat", model="cogview-3-flash")).images[0]
                original = client.download

                async def noted(*args: object, **kwargs: object) -> Path:
                    threads.append(threading.current_thread().name)
                    return await original(*args, **kwargs)  # type: ignore[arg-type]

                client.download = noted  # type: ignore[method-assign]
                downloads = DownloadLoop(client)
                saved = await downloads.download(image, tmp_path, "cat")
                images_pool = client._images
                downloads.close()
                return saved, images_pool is not None and images_pool.is_closed and client._images is None

    saved, pool_closed = asyncio.run(main())
    assert threads == ["zhipu-images-downloads"]
    assert png_size(saved.read_bytes()) == (1024, 1024)
    assert pool_closed
    assert "zhipu-images-downloads" not in [thread.name for thread in threading.enumerate()]


def test_cancelling_the_caller_cancels_the_download_and_leaves_no_partial_file(
    hostile: HostileServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with AsyncImagesClient(api_key=KEY, base_url=hostile.base_url("trickle_image"), timeout=30) as client:
            image = (await client.generate("a cat")).images[0]
            downloads = DownloadLoop(client)
            task = asyncio.create_task(downloads.download(image, tmp_path, "cat"))
            # Another thread makes the temporary file: polled, as nothing here can wait on it.
            while not any(tmp_path.iterdir()):  # noqa: ASYNC110, ASYNC240
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            downloads.close()  # at once: the cancelled download may still be cleaning up on its loop
            sent = hostile.sent("trickle_image")
            await asyncio.sleep(0.5)  # a download still running would take ~10 more bytes meanwhile
            assert hostile.sent("trickle_image") - sent <= 1

    asyncio.run(asyncio.wait_for(main(), timeout=20))
    assert list(tmp_path.iterdir()) == []


def test_the_download_thread_ends_even_when_closing_its_connections_fails() -> None:
    async def main() -> None:
        client = AsyncImagesClient(api_key=KEY)

        async def broken() -> None:
            raise OSError("cannot close")

        client.close_downloads = broken  # type: ignore[method-assign]
        downloads = DownloadLoop(client)
        with pytest.raises(OSError, match="cannot close"):
            downloads.close()
        del client.close_downloads  # the method again, for aclose
        await client.aclose()

    asyncio.run(main())
    assert "zhipu-images-downloads" not in [thread.name for thread in threading.enumerate()]
