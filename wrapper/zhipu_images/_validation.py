"""Check a request against its model's rules before anything is sent, and fill in that model's defaults."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from ._exceptions import RequestValidationError
from ._options import shown
from ._rules import DEFAULT_RESPONSE_FORMAT, MODELS, RESPONSE_FORMATS, USER_ID_LENGTH, ModelRules
from ._sizes import nearest_valid_size, parse_size
from ._spec_models import UnspecifiedModelWarning, schema_rules, spec_models

__all__ = [
    "ImageRequest",
    "SizeOutsideRecommendedRangeWarning",
    "UnspecifiedModelWarning",
    "checked_extra_body",
    "validate_request",
]


class SizeOutsideRecommendedRangeWarning(UserWarning):
    """A valid custom size whose sides lie outside the model's recommended range."""


@frozen
class ImageRequest:
    """A validated, normalized request: exactly what will be sent (``size`` always ``"WxH"``).

    ``None`` means the parameter is not sent (the model does not take it, or
    the platform's own default applies, as for ``watermark_enabled``).
    """

    model: str
    prompt: str
    #: None only for a model known from the spec alone, when no size was given (the platform's default applies)
    size: str | None
    quality: str | None
    n: int
    style: str | None
    response_format: str | None
    user_id: str | None
    watermark_enabled: bool | None

    @property
    def rules(self) -> ModelRules:
        return MODELS.get(self.model) or schema_rules(self.model)

    def parameters(self) -> dict[str, Any]:
        """The optional parameters as keywords for ``generate`` or ``validate_request``, e.g. to resend it."""
        return {
            "size": self.size,
            "quality": self.quality,
            "n": self.n,
            "style": self.style,
            "response_format": self.response_format,
            "user_id": self.user_id,
            "watermark_enabled": self.watermark_enabled,
        }

    @property
    def width(self) -> int | None:
        return None if self.size is None else int(self.size.split("x")[0])

    @property
    def height(self) -> int | None:
        return None if self.size is None else int(self.size.split("x")[1])


def validate_request(
    model: str,
    prompt: str,
    *,
    size: str | tuple[int, int] | None = None,
    quality: str | None = None,
    n: int | None = None,
    style: str | None = None,
    response_format: str | None = None,
    user_id: str | None = None,
    watermark_enabled: bool | None = None,
    allow_unknown_model: bool = False,
) -> ImageRequest:
    """Return the request that will be sent, or raise ``RequestValidationError`` naming the field and rule.

    Every argument is checked at run time whatever its type, so input straight
    from JSON or a form gets a clear error, never a ``TypeError`` from inside.
    A model the spec lists but the rules table does not is checked by the
    schema only, with an ``UnspecifiedModelWarning``; so is any other model
    name with ``allow_unknown_model=True`` (``_spec_models``).
    """
    rules = _model(model, allow_unknown_model)
    given = (size, quality, n, style, response_format, user_id, watermark_enabled)
    unsupported = _UNSUPPORTED.get(rules.name) or _unsupported_positions(rules)
    for index in unsupported:  # usually two: a tuple walk, no dict per call
        if given[index] is not None:
            raise _unsupported_parameter(rules, _OPTIONAL[index], given[index])
    return ImageRequest(
        model=rules.name,
        prompt=_prompt(rules, prompt),
        size=_size(rules, size),
        quality=_choice(rules, "quality", quality, rules.default_quality),
        n=_n(rules, n),
        style=_choice(rules, "style", style, rules.default_style),
        response_format=_choice(
            rules, "response_format", response_format, DEFAULT_RESPONSE_FORMAT if rules.provider == "openai" else None
        ),
        user_id=_user_id(rules, user_id),
        watermark_enabled=_watermark(watermark_enabled),
    )


def with_prompt(request: ImageRequest, prompt: str) -> ImageRequest:
    """``request`` with another prompt, checked as ``validate_request`` checks it: the same request, or the same
    error, as validating everything again, since the other parameters passed once and no check of theirs reads
    the prompt. For checking many prompts with one set of parameters (the lines of a batch file)."""
    return ImageRequest(
        model=request.model,
        prompt=_prompt(request.rules, prompt),
        size=request.size,
        quality=request.quality,
        n=request.n,
        style=request.style,
        response_format=request.response_format,
        user_id=request.user_id,
        watermark_enabled=request.watermark_enabled,
    )


_OPTIONAL = ("size", "quality", "n", "style", "response_format", "user_id", "watermark_enabled")


def _unsupported_positions(rules: ModelRules) -> tuple[int, ...]:
    """Positions in _OPTIONAL of the parameters ``rules`` does not take."""
    return tuple(i for i, parameter in enumerate(_OPTIONAL) if parameter not in rules.parameters)


#: model -> positions in _OPTIONAL of the parameters it does not take
_UNSUPPORTED = {name: _unsupported_positions(rules) for name, rules in MODELS.items()}


def _closest(model: str, names: list[str]) -> str | None:
    """The known name ``model`` most likely misspells (``cogview4``: ``cogview-4``), if one is close."""
    import difflib

    folded = {name.replace("-", "").replace("_", ""): name for name in names}
    typed = model.strip().lower()[:100].replace("-", "").replace("_", "")
    found = difflib.get_close_matches(typed, list(folded), n=1, cutoff=0.75)
    return folded[found[0]] if found else None


def _model(model: object, allow_unknown: bool) -> ModelRules:
    if isinstance(model, str):
        rules = MODELS.get(model) or MODELS.get(model.strip().lower())
        if rules is not None:
            return rules
        if model in spec_models():
            warnings.warn(
                f"model {model!r} is in the spec but has no documented rules in this version: "
                "only the schema checks its requests",
                UnspecifiedModelWarning,
                stacklevel=3,
            )
            return schema_rules(model)
        if allow_unknown and model.strip() and _encodable_name(model):
            warnings.warn(
                f"model {model!r} is neither in the rules table nor in the spec (allowed by allow_unknown_model): "
                "only the schema checks its requests",
                UnspecifiedModelWarning,
                stacklevel=3,
            )
            return schema_rules(model)
        rule, message = "unknown_model", f"unknown model {shown(model)}"
    else:
        rule, message = "type", f"must be a model name string, got {type(model).__name__}"
    names = [*MODELS, *sorted(spec_models() - MODELS.keys())]  # only errors pay for the hint
    close = _closest(model, names) if isinstance(model, str) else None
    meant = f"did you mean {close!r}? " if close else ""
    raise RequestValidationError(
        "model",
        rule,
        message,
        value=model,
        suggestion=f"{meant}known models: {', '.join(names)} (a newer one: allow_unknown_model=True)",
    )


def _encodable_name(model: str) -> bool:
    """A model name that can be sent: printable text (no control characters, and no lone surrogate: those are
    not printable), at most 100 characters."""
    return len(model) <= 100 and model.isprintable()


def _prompt(rules: ModelRules, prompt: object) -> str:
    if prompt is None:
        raise RequestValidationError("prompt", "required", "a prompt is required", value=prompt)
    if not isinstance(prompt, str):
        raise RequestValidationError("prompt", "type", f"must be a string, got {type(prompt).__name__}", value=prompt)
    if not prompt.strip():
        raise RequestValidationError("prompt", "blank", "must not be empty or only whitespace", value=prompt)
    _encodable("prompt", prompt)
    limit = rules.max_prompt_chars
    if limit is not None and len(prompt) > limit:
        raise RequestValidationError(
            "prompt",
            "max_length",
            f"{len(prompt)} characters is over {rules.name}'s limit of {limit}",
            value=prompt[:40] + "…",
            suggestion=_models_with_longer_prompts(rules),
        )
    return prompt


def _encodable(field: str, text: str) -> None:
    """Text JSON can carry to the platform: UTF-8, so no lone surrogate (a byte that was not text, decoded)."""
    if text.isascii():  # the common case, without encoding it
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise RequestValidationError(
            field,
            "encoding",
            f"character {error.start + 1} is a lone surrogate (U+{ord(text[error.start]):04X}), not text UTF-8 can "
            "carry; it usually comes from bytes that were not UTF-8",
            value=text,
            suggestion="re-read the source as UTF-8, or remove the character",
        ) from None


def _models_with_longer_prompts(rules: ModelRules) -> str:
    limit = rules.max_prompt_chars or 0
    longer = [m.name for m in MODELS.values() if m.max_prompt_chars is None or m.max_prompt_chars > limit]
    return f"shorten it, or use a model that takes longer prompts: {', '.join(longer)}"


def _size(rules: ModelRules, size: object) -> str | None:
    if size is None:
        return rules.default_size
    width, height = parse_size(size)
    if rules.allows_size(width, height):
        normalized = f"{width}x{height}"
        custom = rules.custom_sizes
        if custom and custom.recommended_side_range and normalized not in rules.recommended_sizes:
            low, high = custom.recommended_side_range
            if not (low <= width <= high and low <= height <= high):
                warnings.warn(
                    f"size {normalized} is valid for {rules.name}, but {low}-{high} px per side is recommended",
                    SizeOutsideRecommendedRangeWarning,
                    stacklevel=3,
                )
        return normalized
    rule, why = _size_violation(rules, width, height)
    raise RequestValidationError(
        "size",
        rule,
        f"{width}x{height} is not valid for {rules.name}: {why}",
        value=size,
        suggestion=(
            f"nearest valid size: {nearest_valid_size(rules, width, height)}; "
            f"recommended: {', '.join(rules.recommended_sizes)}"
        ),
    )


def _size_violation(rules: ModelRules, width: int, height: int) -> tuple[str, str]:
    custom = rules.custom_sizes
    if custom is None:
        return "not_offered", f"the model offers only {', '.join(rules.recommended_sizes)}"
    if (
        width < custom.min_side
        or height < custom.min_side
        or (custom.max_side is not None and (width > custom.max_side or height > custom.max_side))
    ):
        if custom.max_side is None:
            return "side_range", f"each side must be at least {custom.min_side} px"
        return "side_range", f"each side must be {custom.min_side}-{custom.max_side} px"
    if width % custom.multiple_of or height % custom.multiple_of:
        return "multiple_of", f"width and height must be multiples of {custom.multiple_of}"
    exponent = custom.max_pixels.bit_length() - 1
    return "max_pixels", f"{width * height} pixels is over the limit of 2^{exponent} = {custom.max_pixels}"


def _choice(rules: ModelRules, field: str, value: object, default: str | None) -> str | None:
    if value is None:
        return default
    allowed = _allowed(rules, field)
    if isinstance(value, str) and value in allowed:
        return value
    supporting = [m.name for m in MODELS.values() if value in _allowed(m, field)] if isinstance(value, str) else []
    hint = f"{rules.name} accepts {', '.join(allowed)}"
    if supporting:
        hint += f"; {value!r} is supported by {', '.join(supporting)}"
    rule = "unsupported_by_model" if supporting else "not_allowed"
    raise RequestValidationError(
        field, rule, f"{shown(value)} is not accepted by {rules.name}", value=value, suggestion=hint
    )


def _allowed(rules: ModelRules, field: str) -> tuple[str, ...]:
    if field == "quality":
        return rules.qualities
    if field == "style":
        return rules.styles
    return RESPONSE_FORMATS if rules.provider == "openai" else ()


def _n(rules: ModelRules, n: object) -> int:
    low, high = rules.n_range
    if n is None:
        return low
    if not isinstance(n, int) or isinstance(n, bool):
        raise RequestValidationError("n", "type", f"must be an integer, got {type(n).__name__}", value=n)
    if not low <= n <= high:
        more = [m.name for m in MODELS.values() if m.n_range[1] >= n] if n > high else []
        suggestion = f"use {low}-{high}" if low != high else f"use n={low}"
        if more:
            suggestion += f", or a model that allows n={shown(n)}: {', '.join(more)}"
        raise RequestValidationError(
            "n", "range", f"{shown(n)} is outside {low}-{high} for {rules.name}", value=n, suggestion=suggestion
        )
    return n


def _user_id(rules: ModelRules, user_id: object) -> str | None:
    if user_id is None:
        return None
    if not isinstance(user_id, str):
        raise RequestValidationError(
            "user_id", "type", f"must be a string, got {type(user_id).__name__}", value=user_id
        )
    low, high = USER_ID_LENGTH
    if rules.provider == "zhipu" and not low <= len(user_id) <= high:
        raise RequestValidationError(
            "user_id", "length", f"{len(user_id)} characters; it must be {low}-{high}", value=user_id
        )
    _encodable("user_id", user_id)
    return user_id


def _watermark(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise RequestValidationError(
        "watermark_enabled", "type", f"must be true or false, got {type(value).__name__}", value=value
    )


def _unsupported_parameter(rules: ModelRules, name: str, value: object) -> RequestValidationError:
    takers = [m.name for m in MODELS.values() if name in m.parameters]
    return RequestValidationError(
        name,
        "unsupported_parameter",
        f"{rules.name} does not take {name}",
        value=value,
        suggestion=f"leave it out; models that take it: {', '.join(takers)}",
    )


#: Body fields ``generate`` sets from its checked arguments -> the argument (OpenAI calls ``user_id`` ``user``).
_CHECKED_FIELDS = {name: name for name in ImageRequest.__annotations__} | {"user": "user_id"}


def checked_extra_body(extra_body: object) -> dict[str, Any]:
    """Extra JSON fields, for a parameter the platform added after this version; never one that is checked.

    The escape hatch must not be a way around the rules: a field ``generate``
    sets itself (``size``, ``quality``, ...) has to go through its argument.
    """
    if not isinstance(extra_body, Mapping) or not all(isinstance(key, str) for key in extra_body):
        raise RequestValidationError(
            "extra_body",
            "type",
            f"must be a mapping of field names to JSON values, got {type(extra_body).__name__}",
            value=extra_body,
            suggestion='e.g. extra_body={"new_parameter": True}',
        )
    checked = sorted(key for key in extra_body if key in _CHECKED_FIELDS)
    if checked:
        raise RequestValidationError(
            "extra_body",
            "checked_field",
            f"{', '.join(checked)} must not be set through extra_body",
            value=dict(extra_body),
            suggestion=f"pass {_CHECKED_FIELDS[checked[0]]}=... to generate(), where it is checked",
        )
    for key, value in extra_body.items():
        _encodable("extra_body", key)
        problem = _json_problem(value)
        if problem is not None:
            raise RequestValidationError(
                "extra_body",
                "json",
                f"{shown(key)}: {problem}",
                value=dict(extra_body),
                suggestion="use JSON values: strings, finite numbers, booleans, None, lists and dicts of them",
            )
    return dict(extra_body)


def _json_problem(value: object) -> str | None:
    """Why ``value`` cannot be sent as JSON (as httpx encodes it: no NaN, UTF-8 text), or None if it can."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except TypeError:
        return "a value JSON cannot carry (bytes, a set, an object, or a dict with non-string keys)"
    except UnicodeEncodeError:
        return "text with a lone surrogate, which UTF-8 cannot carry"
    except RecursionError:
        return "nested too deeply"
    except ValueError as error:  # NaN, inf, or a circular reference
        return f"not JSON ({error})"
    return None
