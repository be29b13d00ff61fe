"""One account's concurrency limit shared by every process and host using it, through Redis.

Why leases: a slot is a member of a sorted set scored by its expiry (Redis
server time, so hosts' clocks do not matter), added and counted by one
server-side script, so two processes can never both take the last slot. A
slot held by a request in flight is renewed every third of the lease; a
process killed with -9 stops renewing, and its slots expire within the lease
(default 30 s) and return to the others.

On a Redis restart without persistence the set is empty: for at most one
lease, processes may hold up to twice the limit (their old requests plus new
ones); the platform then answers 1302, and the adaptive cap (``_concurrency``)
backs off. During a partition a process cannot take new slots; its requests
wait, within their deadline, then fail as unsent (``APITimeoutError``) unless
``shared_budget_fallback=True``, which falls back to the local cap with a
warning.

The Redis key names a SHA-256 of the API key, never the key. ``redis`` is an
optional extra (``pip install zhipu-images[redis]``), imported only when a
budget URL is given.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import threading
import time
import uuid
import warnings
import weakref
from typing import Any
from urllib.parse import urlsplit

from . import _exceptions as exc
from ._redact import safe_text

DEFAULT_LEASE = 30.0
#: Polls while waiting for a slot, from this to ten times it, jittered: a freed slot is seen within ~20 ms,
#: which costs a waiting request a few Redis calls a second on loopback.
POLL = 0.002
_ACQUIRE = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0
"""
_RENEW = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local renewed = 0
for i, token in ipairs(ARGV) do
  if i > 1 and redis.call('ZSCORE', KEYS[1], token) then
    redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[1]), token)
    renewed = renewed + 1
  end
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return renewed
"""


#: Every budget of this process, for the fork hook (weakly: a closed client's budget goes away).
_BUDGETS: weakref.WeakSet[SharedBudget] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for budget in list(_BUDGETS):
        budget._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


class SharedBudgetWarning(UserWarning):
    """The shared budget cannot be reached and the client fell back to its own cap."""


#: Query parameters of a Redis URL that carry credentials (redis-py reads both).
_CREDENTIALS = frozenset({"password", "username"})


def shown_url(url: str) -> str:
    """The budget URL without its credentials, in every form redis-py takes (``user:pw@``, ``:pw@``,
    ``?password=``, ``?username=``), for messages. Nothing of it is parsed that could fail (a port of
    ``99999`` or ``${PORT}`` is shown as written)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "a Redis URL that does not parse"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    pairs = []
    for pair in parts.query.split("&"):
        name, equals, _ = pair.partition("=")
        pairs.append(f"{name}=***" if equals and name.lower() in _CREDENTIALS else pair)
    shown = f"{parts.scheme}://{netloc}{parts.path}" + (f"?{'&'.join(pairs)}" if parts.query else "")
    return safe_text(shown, limit=300)


def budget_key(api_key: str) -> str:
    return "zhipu-images:concurrency:" + hashlib.sha256(api_key.encode()).hexdigest()[:32]


class SharedBudget:
    """Leases in one Redis sorted set, for the sync and the async client alike.

    Renewals run on one daemon thread with a sync connection; the async client
    takes and gives back slots with ``redis.asyncio`` so its loop never blocks.
    """

    def __init__(self, url: str, api_key: str, limit: int, *, lease: float = DEFAULT_LEASE, fallback: bool = False):
        try:
            import redis
        except ImportError:
            raise exc.ConfigurationError(
                "shared_budget needs the redis package: pip install 'zhipu-images[redis]'"
            ) from None
        if not 1 <= lease <= 3600:
            raise exc.ConfigurationError(f"shared_budget_lease: must be 1-3600 seconds, got {lease!r}")
        self.url = url
        self.key = budget_key(api_key)
        self.limit = limit
        self.lease_ms = int(lease * 1000)
        self.fallback = fallback
        self._redis = redis
        try:
            self._sync = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        except ValueError as error:
            raise exc.ConfigurationError(f"shared_budget: {shown_url(url)!r} is not a Redis URL ({error})") from None
        self._async: Any = None
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._checked = False
        self.local_only = False
        #: Redis failed the last time it was asked, and the fallback was warned of
        self._away = False
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()
        _BUDGETS.add(self)

    def _after_fork(self) -> None:
        """In a forked child (gunicorn --preload, multiprocessing): no thread came along, so the leases this
        process takes would expire mid-request. Renewals start again; the parent's leases stay the parent's."""
        self._lock = threading.Lock()
        self._held = set()
        self._async = None
        self._stop = threading.Event()
        if self._renewer is not None:
            self._renewer = threading.Thread(target=self._renew_forever, name="zhipu-images-budget", daemon=True)
            self._renewer.start()

    def _unreachable(self, error: Exception) -> None:
        message = f"the shared budget at {shown_url(self.url)} cannot be reached ({type(error).__name__})"
        if not self.fallback:
            raise exc.ConfigurationError(message + "; start Redis there, or pass shared_budget_fallback=True") from None
        warnings.warn(message + ": falling back to this process's own cap", SharedBudgetWarning, stacklevel=4)
        self.local_only = True

    def _fall_back(self, error: Exception) -> bool:
        """Redis went away mid-run: with ``fallback``, this request goes on the process's own cap (a warning
        once per outage), as at start-up; without it, the caller raises."""
        if not self.fallback:
            return False
        if not self._away:
            self._away = True
            message = f"the shared budget at {shown_url(self.url)} cannot be reached ({type(error).__name__})"
            warnings.warn(message + ": using this process's own cap until it answers", SharedBudgetWarning, 3)
        return True

    def _first_use(self) -> None:
        if self._checked:
            return
        self._checked = True
        try:
            self._sync.ping()
        except self._redis.RedisError as error:
            self._unreachable(error)
            return
        self._renewer = threading.Thread(target=self._renew_forever, name="zhipu-images-budget", daemon=True)
        self._renewer.start()

    # --- sync ------------------------------------------------------------------------

    def acquire(self, deadline: float | None) -> str | None:
        """A lease token, waiting until ``deadline`` (monotonic); None when running on the local cap only."""
        self._first_use()
        if self.local_only:
            return None
        token = uuid.uuid4().hex
        wait = POLL
        while True:
            try:
                taken = self._sync.eval(_ACQUIRE, 1, self.key, self.limit, self.lease_ms, token)
            except self._redis.RedisError as error:
                if self._fall_back(error):
                    return None
                raise _no_budget(self.url, error) from error
            self._away = False
            if taken:
                return self._hold(token)
            wait = _next_wait(wait, deadline)
            time.sleep(wait)

    def _hold(self, token: str) -> str:
        """Note a lease taken, for the renewals."""
        with self._lock:
            self._held.add(token)
        return token

    def _let_go(self, token: str) -> None:
        with self._lock:
            self._held.discard(token)

    def release(self, token: str | None) -> None:
        if token is None:
            return
        self._let_go(token)
        with contextlib.suppress(self._redis.RedisError):  # if Redis is away, the lease expires on its own
            self._sync.zrem(self.key, token)

    # --- async -----------------------------------------------------------------------

    async def acquire_async(self, deadline: float | None) -> str | None:
        import asyncio

        self._first_use()
        if self.local_only:
            return None
        if self._async is None:
            self._async = self._redis.asyncio.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
        token = uuid.uuid4().hex
        wait = POLL
        while True:
            try:
                taken = await self._async.eval(_ACQUIRE, 1, self.key, self.limit, self.lease_ms, token)
            except self._redis.RedisError as error:
                if self._fall_back(error):
                    return None
                raise _no_budget(self.url, error) from error
            self._away = False
            if taken:
                return self._hold(token)
            wait = _next_wait(wait, deadline)
            await asyncio.sleep(wait)

    async def release_async(self, token: str | None) -> None:
        if token is None:
            return
        self._let_go(token)
        with contextlib.suppress(self._redis.RedisError):  # if Redis is away, the lease expires on its own
            await self._async.zrem(self.key, token)

    # --- renewals ----------------------------------------------------------------------

    def _renew_forever(self) -> None:
        while not self._stop.wait(self.lease_ms / 3000):
            with self._lock:
                held = list(self._held)
            if held:
                try:
                    self._sync.eval(_RENEW, 1, self.key, self.lease_ms, *held)
                except self._redis.RedisError:
                    continue  # Redis is away: the leases may expire; requests in flight finish regardless

    def close(self) -> None:
        self._stop.set()
        self._sync.close()

    def forget_async(self) -> None:
        """Drop the asyncio Redis client of an event loop that is closed; the next async use makes a new one."""
        self._async = None

    async def aclose(self) -> None:
        self.close()
        if self._async is not None:
            await self._async.aclose()


def _next_wait(wait: float, deadline: float | None) -> float:
    """The next poll's wait; an ``APITimeoutError`` (nothing sent) once the deadline has passed."""
    if deadline is not None and time.monotonic() >= deadline:
        error = exc.APITimeoutError("no slot of the shared concurrency budget in time; nothing was sent")
        error.retryable = True
        raise error
    wait = min(wait * 1.5, POLL * 10) * random.uniform(0.5, 1.5)
    return wait if deadline is None else max(0.0, min(wait, deadline - time.monotonic()))


def _no_budget(url: str, error: Exception) -> exc.APIConnectionError:
    failure = exc.APIConnectionError(
        f"the shared budget at {shown_url(url)} failed ({type(error).__name__}); nothing was sent"
    )
    failure.retryable = True
    return failure
