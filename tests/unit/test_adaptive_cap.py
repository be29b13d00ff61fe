"""The adaptive in-flight cap (``_concurrency``), driven directly: decreases, recovery, and who is woken."""

from __future__ import annotations

import asyncio

from zhipu_images import RateLimitError
from zhipu_images._concurrency import GROWTH, STRIKES, AsyncLimiter, _Window


def _refuse(window: _Window) -> None:
    window.rate_limited(window.epoch)


def _succeed(window: _Window, times: int) -> None:
    for _ in range(times):
        window.succeeded()


def test_a_lone_1302_among_successes_does_not_halve_the_cap() -> None:
    window = _Window(10)
    for _ in range(20):  # one refusal per window of successes: the platform's noise, not the limit
        _refuse(window)
        _succeed(window, 10)
    assert int(window.limit) == 10


def test_refusals_in_a_burst_halve_the_cap_once_per_burst() -> None:
    window = _Window(10)
    sent_in = window.epoch
    for _ in range(8):  # eight requests of one burst refused
        window.rate_limited(sent_in)
    assert STRIKES <= 8
    assert int(window.limit) == 5
    assert window.epoch == sent_in + 1  # the other refusals of that burst did not halve it again


def test_the_cap_comes_back_quickly_to_below_the_refused_level_and_slowly_beyond() -> None:
    window = _Window(10)
    for _ in range(STRIKES):
        _refuse(window)
    assert int(window.limit) == 5
    successes = 0
    while int(window.limit) < 9:
        window.succeeded()
        successes += 1
    assert successes <= 30  # about one slot per window of successes (5 + 6 + 7 + 8), up to one below the refused 10
    while int(window.limit) < 10:
        window.succeeded()
        successes += 1
    assert successes >= GROWTH * 9  # the last slot, where it was refused, one per GROWTH windows


def test_a_freed_slot_wakes_one_waiter_not_all_of_them() -> None:
    """With a thousand tasks waiting for two slots, each answer wakes about one of them: the work is linear in
    the tasks, where waking all on every answer was quadratic (seconds of a batch's CPU)."""
    checks = 0

    class Counting(_Window):
        @property
        def free(self) -> bool:
            nonlocal checks
            checks += 1
            return super().free

    async def main() -> None:
        limiter = AsyncLimiter(2)
        limiter.window = Counting(2)

        async def task() -> None:
            epoch = await limiter.acquire(None)
            await asyncio.sleep(0)
            await limiter.release(epoch, None)

        await asyncio.gather(*(task() for _ in range(1000)))

    asyncio.run(main())
    assert checks < 5 * 1000


def test_only_1302_moves_the_cap() -> None:
    window = _Window(4)
    overloaded = RateLimitError("busy", status_code=429, code="1305")
    from zhipu_images._concurrency import _observe

    for _ in range(10):
        _observe(window, window.epoch, overloaded)
    assert int(window.limit) == 4


def test_a_waiter_cancelled_after_its_wake_up_passes_the_slot_on() -> None:
    """Two tasks wait for one slot; the slot is freed and the first waiter cancelled before it runs: the
    second still gets the slot (no wake-up is lost with the cancelled task)."""

    async def main() -> bool:
        limiter = AsyncLimiter(1)
        held = await limiter.acquire(None)
        first = asyncio.create_task(limiter.acquire(None))
        second = asyncio.create_task(limiter.acquire(None))
        await asyncio.sleep(0)  # both wait
        await limiter.release(held, None)  # wakes one of them: the first
        first.cancel()
        await asyncio.sleep(0)
        try:
            await asyncio.wait_for(second, timeout=2)
        except TimeoutError:
            return False
        return first.cancelled()

    assert asyncio.run(main())
