"""The batch keeps the account's generation slots busy: it retries itself, holding no slot while it waits.

In-process (``run_batch`` with the in-process fake), so the waits can be observed rather than slept; money is
counted where it is spent (``platform.generated``: answers the platform would bill).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from zhipu_images.cli import _batch
from zhipu_images.cli._batch import Summary, run_batch
from zhipu_images.cli._inputs import ItemSource
from zhipu_images.fake import FakePlatform, fake_async_client


def _run(platform: FakePlatform, lines: list[str], out: Path, concurrency: int) -> Summary:
    source = out.parent / "items.jsonl"
    source.write_text("".join(line + "\n" for line in lines))
    items = ItemSource(source, {"model": "cogview-4", "size": "512x512", "quality": None}, json_lines=True)
    total = items.check()

    async def main() -> Summary:
        # As the command builds it: the client sends each attempt once, the batch retries.
        async with fake_async_client(platform, max_concurrency=concurrency, max_retries=0) as client:
            return await run_batch(items, total, out, client, concurrency, progress=False)

    return asyncio.run(main())


def _retry_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's waits to retry take one turn of the loop instead of their seconds."""

    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(_batch, "_sleep", no_wait)


def test_a_wait_to_retry_holds_no_generation_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one slot, the first item's 500 is retried only after the second item was sent: the wait happened
    with the slot free. (Held through the wait, the second item could not be sent, and this wait would end
    only at its 10 s bound, with the requests in the order first, first, second.)"""
    platform = FakePlatform()
    platform.fail_next("server_error")
    waits: list[float] = []

    async def wait_until_the_other_item_was_sent(seconds: float) -> None:
        waits.append(seconds)
        bound = time.monotonic() + 10
        while platform.received < 2 and time.monotonic() < bound:  # noqa: ASYNC110 (the fake has no event to await)
            await asyncio.sleep(0.005)

    monkeypatch.setattr(_batch, "_sleep", wait_until_the_other_item_was_sent)
    summary = _run(platform, ['{"prompt": "first"}', '{"prompt": "second"}'], tmp_path / "out", concurrency=1)
    assert summary.done == 2
    assert len(waits) == 1
    assert [request.json["prompt"] for request in platform.requests] == ["first", "second", "first"]
    assert platform.max_in_flight == 1


def test_an_n_item_retried_after_a_partial_failure_pays_only_for_the_missing_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = FakePlatform()
    platform.fail_next("server_error")  # one of the item's three requests

    _retry_at_once(monkeypatch)
    out = tmp_path / "out"
    summary = _run(platform, ['{"prompt": "three cats", "n": 3}'], out, concurrency=3)
    assert summary.done == 1
    assert platform.generated == 3  # the two that succeeded were kept, not generated again
    assert platform.received == 4
    (record,) = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(record["files"]) == 3
    assert len(set(record["urls"])) == 3


def test_rate_limits_are_retried_quickly_first_then_waited_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform = FakePlatform()
    platform.fail_next("rate_limit", times=4)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(_batch, "_sleep", record)
    summary = _run(platform, ['{"prompt": "patient"}'], tmp_path / "out", concurrency=1)
    assert summary.done == 1
    assert len(waits) == 4
    assert all(wait <= 1.0 for wait in waits[:2])  # the client's policy: 0.5 s, then 1 s at most
    assert 0.8 * 4 <= waits[2] <= 1.2 * 4  # then the batch's own backoff (2 s ** attempt), as before
    assert platform.generated == 1


def test_waiting_out_rate_limits_leaves_the_quick_retries_of_other_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two 1302s, then a 500 and a dropped connection: each kind gets its own retries. Counted together, the
    third failure ended the item (about one in ten thousand with 5% faults), paid for nothing but failed."""
    platform = FakePlatform()
    platform.fail_next("rate_limit", times=2)
    platform.fail_next("server_error")
    platform.fail_next("drop")

    _retry_at_once(monkeypatch)
    summary = _run(platform, ['{"prompt": "unlucky"}'], tmp_path / "out", concurrency=1)
    assert (summary.done, summary.failed) == (1, 0)
    assert platform.received == 5
    assert platform.generated == 1


def test_other_failures_still_end_an_item_after_the_client_s_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = FakePlatform()
    platform.fail_next("server_error", times=3)

    _retry_at_once(monkeypatch)
    summary = _run(platform, ['{"prompt": "broken server"}'], tmp_path / "out", concurrency=1)
    assert (summary.done, summary.failed) == (0, 1)
    assert platform.received == 3  # the first attempt and the policy's 2 retries
    assert platform.generated == 0
