"""How many requests a client keeps in flight: a cap that adapts to 1302, optionally shared through Redis.

The platform limits concurrency per account (V0 5 ... V3 20), not per process.
A process that shares its key with others it does not know about learns of
them only through 1302 answers; it treats those as congestion, like TCP:
**multiplicative decrease** (the effective cap halves, once per burst: a 1302
counts only for a request sent since the last decrease) and **additive
increase**, never above the configured cap: one slot per window of successes
back up to just below the cap that was refused (that level was fine until
then), and one per ``GROWTH`` windows beyond it, probing for more slowly.
Changes are logged at INFO on the ``zhipu_images`` logger.

A decrease needs ``STRIKES`` refusals within one window (as many answers as the
cap has slots). Over the limit, refusals come in bursts and confirm themselves
at once; a lone 1302 among successes (the platform refusing one request for its
own reasons) is retried without giving up half of the account's slots, which at
a few percent of requests held a batch to a third of its cap.

DECISION, measured with ``make bench``: with 5% random faults (a third of them
1302), a 1,000-prompt batch takes 1.2x the ideal time with three strikes and
1.4-2.9x with one. The price is paid by processes that share a key without a
shared budget: three of them on one V0 account get 17-20% of their requests
refused instead of 8-14% (in about the same time). Sharing a key belongs to the
Redis budget, which gets none refused.

With a shared budget (``_shared_budget``), a slot is also a lease in Redis, so
every process on the same key and budget URL shares one limit; the adaptive
cap still applies inside it.

Waiting for a slot honours the attempt's deadline: a request that cannot get
one in time is an ``APITimeoutError`` that was never sent (so it is retried
like any unsent request).
"""

from __future__ import annotations

import logging
import threading

from . import _exceptions as exc

logger = logging.getLogger("zhipu_images")
#: Windows of successes per slot regained (additive increase).
GROWTH = 8
#: 1302s within one window that halve the cap.
STRIKES = 3


class _Window:
    """The adaptive cap's arithmetic, shared by the sync and async limiters (callers hold their lock)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.limit = float(cap)
        self.in_flight = 0
        #: how many decreases so far: a request remembers the epoch it was sent in
        self.epoch = 0
        #: 1302s of this epoch's requests within the current window, and the successes since the first
        self.strikes = 0
        self._clean = 0
        #: the cap the last decrease left: regained quickly up to one below it
        self._refused_at = cap + 1

    @property
    def free(self) -> bool:
        return self.in_flight < max(1, int(self.limit))

    def slots_free(self) -> int:
        """Waiters worth waking: one per free slot. (Waking them all cost a wake-up of every waiting task
        per answer: with a thousand tasks gathered, seconds of a batch's CPU.)"""
        return max(0, max(1, int(self.limit)) - self.in_flight)

    def rate_limited(self, sent_in: int) -> None:
        if sent_in != self.epoch or self.limit <= 1:
            return  # sent before the last decrease: that decrease already answered this burst
        self.strikes += 1
        if self.strikes < STRIKES:
            return  # alone so far: retried at the same cap
        self.strikes = self._clean = 0
        before = int(self.limit)
        self._refused_at = before
        self.limit = max(1.0, self.limit / 2)
        self.epoch += 1
        logger.info("rate limited (1302): in-flight cap %d -> %d of %d", before, int(self.limit), self.cap)

    def succeeded(self) -> None:
        if self.strikes:
            self._clean += 1
            if self._clean >= max(1, int(self.limit)):  # a window of successes: the refusal stood alone
                self.strikes = self._clean = 0
        if self.limit >= self.cap:
            return
        before = int(self.limit)
        # Below the refused level, one slot per window; beyond it, one per GROWTH windows: probing slowly keeps
        # the 1302s a few percent when the window is a few slots (as an account's is), where TCP's one per
        # window would refuse a quarter.
        growth = 1 if self.limit < self._refused_at - 1 else GROWTH
        self.limit = min(float(self.cap), self.limit + 1 / (growth * self.limit))
        if int(self.limit) > before:
            logger.info("in-flight cap %d -> %d of %d", before, int(self.limit), self.cap)


def _no_slot() -> exc.APITimeoutError:
    error = exc.APITimeoutError("no concurrency slot in time (max_concurrency); nothing was sent")
    error.retryable = True
    return error


class Limiter:
    """The sync client's cap: threads wait on a condition."""

    def __init__(self, cap: int) -> None:
        self.window = _Window(cap)
        self._condition = threading.Condition()

    def acquire(self, timeout: float | None) -> int:
        """Wait for a slot; the epoch the request is sent in (give it back to ``release``)."""
        with self._condition:
            found = False
            try:
                found = self._condition.wait_for(lambda: self.window.free, timeout)
            finally:
                if not found:  # timed out or interrupted: a wake-up this waiter took is passed on
                    self._condition.notify(self.window.slots_free())
            if not found:
                raise _no_slot()
            self.window.in_flight += 1
            return self.window.epoch

    def release(self, epoch: int, error: BaseException | None) -> None:
        with self._condition:
            self.window.in_flight -= 1
            _observe(self.window, epoch, error)
            self._condition.notify(self.window.slots_free())


class AsyncLimiter:
    """The async client's cap: tasks wait on a condition (on the loop the client runs in)."""

    def __init__(self, cap: int) -> None:
        import asyncio  # only the async client needs it, and it imports asyncio itself

        self.window = _Window(cap)
        self._condition = asyncio.Condition()

    async def acquire(self, timeout: float | None) -> int:  # noqa: ASYNC109 (the attempt's deadline, passed on)
        """Wait for a slot; the epoch the request is sent in (give it back to ``release``)."""
        import asyncio

        async with self._condition:
            found = False
            try:
                async with asyncio.timeout(timeout):
                    await self._condition.wait_for(lambda: self.window.free)
                found = True
            except TimeoutError:
                raise _no_slot() from None
            finally:
                if not found:  # timed out or cancelled: a wake-up this waiter took is passed on
                    self._condition.notify(self.window.slots_free())
            self.window.in_flight += 1
            return self.window.epoch

    async def release(self, epoch: int, error: BaseException | None) -> None:
        async with self._condition:
            self.window.in_flight -= 1
            _observe(self.window, epoch, error)
            self._condition.notify(self.window.slots_free())


def _observe(window: _Window, epoch: int, error: BaseException | None) -> None:
    if error is None:
        window.succeeded()
    elif isinstance(error, exc.RateLimitError) and error.code == "1302":
        window.rate_limited(epoch)
