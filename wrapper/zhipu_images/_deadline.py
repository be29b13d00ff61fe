"""A total deadline for each request attempt and each download, on top of httpx's per-operation timeouts.

httpx (and openai-python, which passes its ``timeout`` to httpx) applies a
timeout to each network operation: connecting, each write, each read. A server
that sends one byte every second never trips a 60 s read timeout, and keeps a
call busy for as long as it likes. Here ``timeout`` also sets a deadline for
the whole attempt (connecting, sending, waiting, reading the answer) and for a
whole download: its read value, i.e. the number you passed (``timeout=60``: an
attempt ends within 60 s). ``timeout=None`` sets no deadline.

- async: the attempt runs under ``asyncio.timeout``, whatever httpx client is used.
- sync: a blocking socket read cannot be interrupted from outside, so the
  client's own transport clamps every socket operation's timeout to what is
  left of the deadline (``_transports.network``, an httpcore network backend), and
  the body loop checks the deadline between chunks. With an ``http_client``
  you pass, only the body loop applies: one read may outlast the deadline by
  that client's read timeout.
"""

from __future__ import annotations

import contextvars
import time

import httpx

#: monotonic time by which the current attempt must end, for the sync transport's socket operations
DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("zhipu_images_deadline", default=None)


class DeadlineExceeded(Exception):
    """The attempt's total deadline passed."""


def deadline_seconds(timeout: httpx.Timeout) -> float | None:
    """The total time one attempt may take: the timeout's read value (None: no deadline)."""
    return timeout.read


def expiry(timeout: httpx.Timeout) -> float | None:
    seconds = deadline_seconds(timeout)
    return None if seconds is None else time.monotonic() + seconds


def check(at: float | None) -> None:
    if at is not None and time.monotonic() >= at:
        raise DeadlineExceeded


def enter(at: float | None) -> contextvars.Token[float | None]:
    """Make ``at`` the deadline of the sync transport's socket operations until ``leave``.

    A pair of calls rather than a context manager: this is on every request's path."""
    return DEADLINE.set(at)


def leave(token: contextvars.Token[float | None]) -> None:
    DEADLINE.reset(token)
