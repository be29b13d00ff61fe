"""Client options, checked once at construction.

A typo in an option must fail where it is made, naming the argument, not as an
httpx ``TypeError`` on the first request or a silently ignored size cap.
"""

from __future__ import annotations

import enum
import math
from typing import TYPE_CHECKING

from ._exceptions import ConfigurationError
from ._redact import safe_text

if TYPE_CHECKING:  # imported where a timeout is checked: validation and the CLI's --help need no httpx
    import httpx

#: Connecting should be quick even when generating is not: a dead host fails fast.
CONNECT_TIMEOUT = 10.0
#: The longest timeout taken: a day. Longer is no limit in practice, which is what ``None`` says.
MAX_TIMEOUT = 86400.0
_TIMEOUT_HINT = f"seconds > 0 and at most {MAX_TIMEOUT:.0f} (e.g. 60.0), None for no limit, or an httpx.Timeout"


def checked_int(argument: str, value: object, *, minimum: int) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{argument}: must be an integer >= {minimum}, got {shown(value)}")
    return value


def shown(value: object) -> str:
    """``value`` as an error message quotes it: a huge int by its size (its repr may not even be allowed), a long
    repr cut short, control characters escaped."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__
        text = f"a {type(value).__name__}"
    return safe_text(text, limit=100)


def _seconds(value: object) -> float | None:
    """``value`` as seconds if it is a usable timeout (finite, > 0, at most a day); None if it is not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return seconds if math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT else None


def checked_timeout(value: object) -> httpx.Timeout:
    """Seconds, ``None`` for no limit, or an ``httpx.Timeout`` whose phases are each seconds or None."""
    import httpx

    if isinstance(value, httpx.Timeout):
        phases = {"connect": value.connect, "read": value.read, "write": value.write, "pool": value.pool}
        for phase, seconds in phases.items():
            if seconds is not None and _seconds(seconds) is None:
                raise ConfigurationError(f"timeout: its {phase} phase must be {_TIMEOUT_HINT}; got {shown(seconds)}")
        return value
    if value is None:
        return httpx.Timeout(None, connect=CONNECT_TIMEOUT)
    seconds = _seconds(value)
    if seconds is None:
        raise ConfigurationError(f"timeout: must be {_TIMEOUT_HINT}; got {shown(value)}")
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT, seconds))


def checked_seconds(argument: str, value: object, *, zero: bool) -> float | None:
    """Seconds (finite, >= 0, or > 0 unless ``zero``), or None; an error naming ``argument`` otherwise."""
    if value is None:
        return None
    seconds = None if isinstance(value, bool) or not isinstance(value, int | float) else float(value)
    if seconds is None or not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero):
        least = ">= 0" if zero else "> 0"
        raise ConfigurationError(f"{argument}: must be seconds {least} or None, got {shown(value)}")
    return seconds


class NotGiven(enum.Enum):
    """An argument left out, where ``None`` means something (``timeout=None``: no limit)."""

    NOT_GIVEN = "NOT_GIVEN"


NOT_GIVEN = NotGiven.NOT_GIVEN


def call_timeout(value: object) -> httpx.Timeout | None:
    """A per-call ``timeout``, checked like the client's; None when not given (the client's applies)."""
    return None if value is NOT_GIVEN else checked_timeout(value)
