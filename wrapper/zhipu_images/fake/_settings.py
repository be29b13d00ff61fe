"""The fake platform's settings that take checking (faults and their rates, latency), and their names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Fault = Literal[
    "rate_limit", "overloaded", "no_balance", "server_error", "unavailable", "drop", "content_filter", "task_fail"
]
FAULTS: tuple[Fault, ...] = (
    "rate_limit",
    "overloaded",
    "no_balance",
    "server_error",
    "unavailable",
    "drop",
    "content_filter",
    "task_fail",
)
#: Faults that only a task can meet: it is accepted, then ends ``FAIL`` (a sync generation passes them by).
TASK_ONLY_FAULTS = frozenset({"task_fail"})
#: What a poll of a task's result can meet (``fail_next(..., on="poll")``): the network and the gateway's faults.
POLL_FAULTS = frozenset({"rate_limit", "server_error", "unavailable", "drop"})

#: The platform's settings, changeable at any time (also through FakeImagesAPI).
SETTINGS = frozenset(
    {
        "api_key",
        "content_filter_words",
        "concurrency_limit",
        "retry_after",
        "latency",
        "balance_exhausted",
        "overloaded",
        "image_urls_expired",
        "fault_rates",
    }
)


def known_fault(name: str) -> Fault:
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; choose from {', '.join(FAULTS)}")
    return name


def checked_latency(value: object) -> float | tuple[float, float]:
    """Seconds (finite, >= 0) or a ``(low, high)`` range of them; a ``ValueError`` saying what is wrong otherwise."""
    given = value if isinstance(value, tuple) and len(value) == 2 else (value,)
    sides: list[float] = []
    for side in given:
        if isinstance(side, bool) or not isinstance(side, int | float) or not 0 <= side < float("inf"):
            raise ValueError(f"latency must be seconds >= 0 (e.g. 0.1) or a (low, high) range, got {value!r}")
        sides.append(float(side))
    if len(sides) == 1:
        return sides[0]
    if sides[0] > sides[1]:
        raise ValueError(f"latency range {value!r} has its low end above its high end")
    return sides[0], sides[1]


def checked_fault_rates(rates: Mapping[str, float]) -> dict[Fault, float]:
    """``rates`` if every name is a fault and the probabilities are in [0, 1] and add up to at most 1."""
    checked = {known_fault(name): rate for name, rate in rates.items()}
    for fault, rate in checked.items():
        if not 0 <= rate <= 1:
            raise ValueError(f"the rate of {fault} must be between 0 and 1, got {rate!r}")
    if sum(checked.values()) > 1:
        raise ValueError(f"fault rates add up to {sum(checked.values()):g}, more than 1")
    return checked
