"""The adaptive cap's arithmetic at its edges: when a burst counts, where the cap stops falling, how it climbs back,
what it logs, and that both limiters feed it what their requests met."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from zhipu_images import APITimeoutError, RateLimitError
from zhipu_images._concurrency import GROWTH, STRIKES, AsyncLimiter, Limiter, _observe, _Window

REFUSED = RateLimitError("busy", status_code=429, code="1302")


def refuse(window: _Window, times: int = 1) -> None:
    for _ in range(times):
        window.rate_limited(window.epoch)


def test_the_numbers_the_design_names() -> None:
    assert (GROWTH, STRIKES) == (8, 3)


def test_fewer_refusals_than_strikes_leave_the_cap_alone_and_the_last_strike_halves_it() -> None:
    window = _Window(10)
    refuse(window, STRIKES - 1)
    assert (window.limit, window.strikes) == (10.0, STRIKES - 1)
    refuse(window)
    assert (window.limit, window.strikes) == (5.0, 0)


def test_after_a_decrease_a_new_burst_needs_all_its_strikes_again() -> None:
    window = _Window(16)
    refuse(window, STRIKES)
    first = window.epoch
    refuse(window, STRIKES - 1)
    assert window.limit == 8.0
    refuse(window)
    assert window.limit == 4.0
    assert window.epoch == first + 1


def test_refusals_of_requests_sent_before_the_decrease_do_not_count() -> None:
    window = _Window(16)
    before = window.epoch
    refuse(window, STRIKES)
    for _ in range(10):
        window.rate_limited(before)
    assert (window.limit, window.strikes) == (8.0, 0)


@pytest.mark.parametrize(("cap", "after"), [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2)])
def test_the_cap_halves_down_to_one_and_never_below(cap: int, after: int) -> None:
    window = _Window(cap)
    refuse(window, STRIKES)
    assert int(window.limit) == after
    assert window.slots_free() == after
    for _ in range(5):
        refuse(window, STRIKES)
    assert window.limit == 1.0
    assert window.free


def test_a_cap_of_one_ignores_refusals_entirely() -> None:
    window = _Window(1)
    refuse(window, STRIKES * 3)
    assert (window.limit, window.epoch, window.strikes) == (1.0, 0, 0)


def test_a_window_of_successes_forgives_a_lone_refusal() -> None:
    forgiven, counted = _Window(10), _Window(10)
    for window, successes in ((forgiven, 10), (counted, 9)):
        refuse(window)
        for _ in range(successes):
            window.succeeded()
        refuse(window, STRIKES - 1)
    assert forgiven.limit == 10.0  # the first refusal was forgiven after a full window (10 successes)
    assert counted.limit == 5.0  # one success short: the three refusals are one burst


def test_the_forgiveness_window_is_one_success_at_a_cap_of_one_slot() -> None:
    window = _Window(3)
    refuse(window, STRIKES)  # 3 -> 1.5: one slot
    refuse(window)
    window.succeeded()  # a whole window at one slot
    refuse(window, STRIKES - 1)
    assert window.epoch == 1


def test_a_first_refusal_then_one_success_is_no_window_at_two_slots() -> None:
    window = _Window(2)
    refuse(window)
    window.succeeded()
    refuse(window, STRIKES - 1)
    assert window.limit == 1.0


def test_the_slot_below_the_refused_level_comes_back_slowly() -> None:
    """From one slot, refused at two, one success adds 1/GROWTH of a slot: probing slowly where it was refused."""
    window = _Window(2)
    refuse(window, STRIKES)
    assert window.limit == 1.0
    window.succeeded()
    assert window.limit == pytest.approx(1 + 1 / GROWTH)
    for _ in range(GROWTH - 2):
        window.succeeded()
    assert int(window.limit) == 1


def test_below_one_slot_short_of_the_refused_level_the_cap_grows_a_slot_per_window() -> None:
    window = _Window(10)
    refuse(window, STRIKES)  # 5, refused at 10
    window.succeeded()
    assert window.limit == pytest.approx(5 + 1 / 5)
    climbed = 0
    while int(window.limit) < 9:
        window.succeeded()
        climbed += 1
    assert 22 <= climbed <= 30  # about one window of successes per slot (5 + 6 + 7 + 8), not GROWTH of them
    window.limit = 9.0  # exactly one below where it was refused: from here, slowly
    window.succeeded()
    assert window.limit == pytest.approx(9 + 1 / (GROWTH * 9))


def test_the_cap_never_climbs_past_the_configured_one() -> None:
    window = _Window(3)
    refuse(window, STRIKES)
    for _ in range(10_000):
        window.succeeded()
    assert window.limit == 3.0
    window.succeeded()
    assert window.limit == 3.0


def test_each_change_of_the_cap_is_logged_once_with_its_numbers(caplog: pytest.LogCaptureFixture) -> None:
    window = _Window(4)
    with caplog.at_level(logging.INFO, logger="zhipu_images"):
        refuse(window, STRIKES)
        while window.limit < 4:
            window.succeeded()
    assert [record.getMessage() for record in caplog.records] == [
        "rate limited (1302): in-flight cap 4 -> 2 of 4",
        "in-flight cap 2 -> 3 of 4",
        "in-flight cap 3 -> 4 of 4",
    ]


def test_free_slots_are_counted_against_at_least_one() -> None:
    window = _Window(5)
    window.in_flight = 3
    assert window.slots_free() == 2
    window.in_flight = 7
    assert window.slots_free() == 0
    window.limit, window.in_flight = 0.5, 0
    assert window.slots_free() == 1


def test_the_sync_limiter_counts_slots_and_feeds_the_cap() -> None:
    limiter = Limiter(4)
    epochs = [limiter.acquire(None) for _ in range(4)]
    assert limiter.window.in_flight == 4
    for epoch in epochs[:STRIKES]:
        limiter.release(epoch, REFUSED)
    assert limiter.window.limit == 2.0
    assert limiter.window.in_flight == 1
    limiter.release(epochs[-1], None)
    assert limiter.window.limit == pytest.approx(2.5)
    assert limiter.window.in_flight == 0


def test_the_sync_limiter_gives_up_waiting_at_the_deadline_with_an_unsent_timeout() -> None:
    limiter = Limiter(1)
    limiter.acquire(None)
    with pytest.raises(APITimeoutError, match=r"^no concurrency slot in time \(max_concurrency\); nothing was sent"):
        limiter.acquire(0.05)
    try:
        limiter.acquire(0.05)
    except APITimeoutError as error:
        assert error.retryable
    assert limiter.window.in_flight == 1


def test_a_sync_waiter_gets_the_slot_freed_by_another_thread() -> None:
    limiter = Limiter(1)
    held = limiter.acquire(None)
    got = threading.Event()

    def wait() -> None:
        limiter.acquire(30)
        got.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert not got.wait(0.05)
    limiter.release(held, None)
    assert got.wait(30)
    waiter.join()


class InterruptedAfterWaking(threading.Condition):
    """A condition whose ``victim`` thread is interrupted (as by Ctrl-C) just after it was woken for a slot;
    ``entered`` counts the waiters that reached the wait."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: threading.Thread | None = None
        self.entered = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self.entered.release()
        return super().wait(timeout)

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        found = super().wait_for(predicate, timeout)
        if threading.current_thread() is self.victim:
            raise KeyboardInterrupt
        return found


def test_a_sync_waiter_interrupted_after_its_wake_up_passes_it_on() -> None:
    limiter = Limiter(1)
    condition = InterruptedAfterWaking()
    limiter._condition = condition
    held = limiter.acquire(None)
    interrupted, got = threading.Event(), threading.Event()

    def first() -> None:
        try:
            limiter.acquire(60)
        except KeyboardInterrupt:
            interrupted.set()

    def second() -> None:
        limiter.acquire(60)
        got.set()

    condition.victim = threading.Thread(target=first, daemon=True)
    condition.victim.start()
    assert condition.entered.acquire(timeout=30)  # the first waits before the second
    waiter = threading.Thread(target=second, daemon=True)  # daemons: a failure here leaves no thread to wait for
    waiter.start()
    assert condition.entered.acquire(timeout=30)
    limiter.release(held, None)  # one slot: one wake-up, which the first takes and loses
    assert interrupted.wait(30)
    assert got.wait(30)
    for thread in (condition.victim, waiter):
        thread.join()
    assert limiter.window.in_flight == 1


def test_the_async_limiter_counts_slots_feeds_the_cap_and_times_out() -> None:
    async def main() -> None:
        limiter = AsyncLimiter(4)
        epochs = [await limiter.acquire(None) for _ in range(4)]
        with pytest.raises(APITimeoutError, match="no concurrency slot in time") as caught:
            await limiter.acquire(0.05)
        assert caught.value.retryable
        for epoch in epochs[:STRIKES]:
            await limiter.release(epoch, REFUSED)
        assert limiter.window.limit == 2.0
        await limiter.release(epochs[-1], None)
        assert limiter.window.limit == pytest.approx(2.5)
        assert limiter.window.in_flight == 0

    asyncio.run(main())


def test_only_a_1302_is_a_refusal_and_only_no_error_a_success() -> None:
    window = _Window(8)
    refuse(window, STRIKES)
    for error in (RateLimitError("x", status_code=429, code="1305"), ValueError("x")):
        _observe(window, window.epoch, error)
    assert window.limit == 4.0
    _observe(window, window.epoch, None)
    assert window.limit == pytest.approx(4.25)
