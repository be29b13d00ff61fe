"""Image sizes: parsing the forms people write, and finding the nearest valid one."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from ._exceptions import RequestValidationError
from ._options import shown
from ._rules import ModelRules

# ``x``, ``X`` and the multiplication sign ``×`` that the glm-image page prints,
# with optional spaces. Six digits at most: larger numbers are never valid and
# int() of thousands of digits is slow.
_SIZE = re.compile(r"\s*([0-9]{1,6})\s*[xX×]\s*([0-9]{1,6})\s*")
_LARGEST = 999_999  # the largest side the string form can write
#: How else Python code may give a size (the command line drops this part of the hint).
PYTHON_SIZE_HINT = "or pass a (width, height) tuple"
FORMAT_HINT = f"write it as 'WIDTHxHEIGHT', e.g. '1024x1024', {PYTHON_SIZE_HINT}"


def parse_size(value: object) -> tuple[int, int]:
    """``"1568×1056"``, ``" 1024 X 768 "`` or ``(1024, 768)`` -> ``(width, height)``."""
    if isinstance(value, str):
        match = _SIZE.fullmatch(value)
        if match:
            return int(match[1]), int(match[2])
    elif isinstance(value, tuple) and len(value) == 2 and all(_is_int(side) for side in value):
        width, height = value
        if abs(width) <= _LARGEST and abs(height) <= _LARGEST:
            return width, height
        raise RequestValidationError(
            "size", "format", f"each side must be at most {_LARGEST} px", value=value, suggestion=FORMAT_HINT
        )
    raise RequestValidationError(
        "size", "format", f"cannot read size {shown(value)}", value=value, suggestion=FORMAT_HINT
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def nearest_valid_size(rules: ModelRules, width: int, height: int) -> str:
    """The valid size closest to ``width x height``, keeping its aspect ratio where the pixel cap bites."""
    custom = rules.custom_sizes
    if custom is None:

        def distance(size: str) -> float:
            w, h = map(int, size.split("x"))
            return abs(math.log(max(w, 1) / max(width, 1))) + abs(math.log(max(h, 1) / max(height, 1)))

        return min(rules.recommended_sizes, key=distance)
    step, low = custom.multiple_of, custom.min_side
    top = (custom.max_side if custom.max_side is not None else custom.max_pixels // low) // step * step
    # Both sides shrink alike, so the aspect ratio stays: into the longest side allowed, then into the pixel cap.
    wide, tall = float(max(width, 1)), float(max(height, 1))
    scale = min(1.0, top / wide, top / tall, math.sqrt(custom.max_pixels / (wide * tall)))
    wide, tall = wide * scale, tall * scale

    def snap(side: float, steps_of: Callable[[float], int]) -> int:
        return min(max(steps_of(side / step) * step, low), top)

    w, h = snap(wide, round), snap(tall, round)
    if w * h > custom.max_pixels:  # rounded up past the cap: round down instead
        w, h = snap(wide, math.floor), snap(tall, math.floor)
    # Raising a side to the minimum can push the product over the cap again.
    if w * h > custom.max_pixels:
        if w >= h:
            w = max(low, custom.max_pixels // h // step * step)
        else:
            h = max(low, custom.max_pixels // w // step * step)
    return f"{w}x{h}"
