"""Client options, checked once at construction.

A typo in an option must fail where it is made, naming the argument, not as an
httpx ``TypeError`` on the first request or a silently ignored size cap.
"""

from __future__ import annotations

import enum

import httpx

from ._exceptions import ConfigurationError

#: Connecting should be quick even when generating is not: a dead host fails fast.
CONNECT_TIMEOUT = 10.0


def checked_int(argument: str, value: object, *, minimum: int) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{argument}: must be an integer >= {minimum}, got {value!r}")
    return value


def checked_timeout(value: object) -> httpx.Timeout:
    """Seconds (> 0), ``None`` for no limit, or an ``httpx.Timeout`` used as is."""
    if isinstance(value, httpx.Timeout):
        return value
    if value is None:
        return httpx.Timeout(None, connect=CONNECT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(
            f"timeout: must be seconds > 0 (e.g. 60.0), None for no limit, or an httpx.Timeout; got {value!r}"
        )
    return httpx.Timeout(float(value), connect=min(CONNECT_TIMEOUT, float(value)))


class NotGiven(enum.Enum):
    """An argument left out, where ``None`` means something (``timeout=None``: no limit)."""

    NOT_GIVEN = "NOT_GIVEN"


NOT_GIVEN = NotGiven.NOT_GIVEN


def call_timeout(value: object) -> httpx.Timeout | None:
    """A per-call ``timeout``, checked like the client's; None when not given (the client's applies)."""
    return None if value is NOT_GIVEN else checked_timeout(value)
