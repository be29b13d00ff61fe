"""Concurrency caps: the platform's account tiers as presets."""

from __future__ import annotations

from types import MappingProxyType

from ._exceptions import ConfigurationError
from ._options import checked_int, shown

#: The largest cap taken: fifty times the largest tier is no cap in practice, which None says.
MAX_CONCURRENCY = 1000
#: Simultaneous requests per account tier, from the platform's docs (seed 003).
TIERS: MappingProxyType[str, int] = MappingProxyType({"V0": 5, "V1": 10, "V2": 15, "V3": 20})


def resolve_concurrency(value: int | str | None) -> int | None:
    """``5``, ``"V0"`` or ``None`` (no cap) -> a positive int or None."""
    if value is None:
        return None
    if isinstance(value, str):
        tier = TIERS.get(value.strip().upper())
        if tier is None:
            raise ConfigurationError(
                f"max_concurrency: unknown tier {shown(value)}; use one of {', '.join(TIERS)} or an integer"
            )
        return tier
    cap = checked_int("max_concurrency", value, minimum=1)
    if cap > MAX_CONCURRENCY:
        raise ConfigurationError(
            f"max_concurrency: at most {MAX_CONCURRENCY} (the largest account tier, V3, is {TIERS['V3']}), "
            f"got {shown(cap)}; None for no cap"
        )
    return cap
