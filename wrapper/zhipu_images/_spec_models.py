"""Models the vendored spec lists but the rules table does not know yet: usable the day they appear.

When the platform adds a model, its spec's ``model`` enum learns it first
(``make regen``); the prose rules (sizes, qualities, defaults) come later, if
ever. Such a model is accepted with an ``UnspecifiedModelWarning`` and checked
by the schema only: the size must read as ``WxH``, the quality must be one of
the spec's, ``user_id`` 6-128 characters; nothing is sent that the caller did
not give, so the platform's own defaults apply. A model in neither the table
nor the spec is refused, unless the caller passes ``allow_unknown_model=True``
(a model released before its spec page caught up); it is then checked the same
way.

The generated client is imported on the first such model only, so known
models cost nothing here.
"""

from __future__ import annotations

import functools

from ._rules import CustomSizes, ModelRules


class UnspecifiedModelWarning(UserWarning):
    """The model has no documented rules in this version: only the spec's schema checks it."""


#: The schema says only "a string of the form WxH": any side the string form can write.
_ANY_SIZE = CustomSizes(multiple_of=1, min_side=1, max_side=999_999, max_pixels=999_999**2)


@functools.cache
def spec_models() -> frozenset[str]:
    """The model names of the vendored Zhipu spec's enum (as ``make regen`` generated them)."""
    from zhipu_images_api.models import ImageModel

    return frozenset(member.value for member in ImageModel)


@functools.cache
def spec_qualities() -> tuple[str, ...]:
    from zhipu_images_api.models import ImageQuality

    return tuple(member.value for member in ImageQuality)


@functools.cache
def schema_rules(name: str) -> ModelRules:
    """Rules for a model known only to the spec (or to the caller): what the schema says, nothing more."""
    return ModelRules(
        name=name,
        provider="zhipu",
        default_size=None,
        recommended_sizes=(),
        custom_sizes=_ANY_SIZE,
        qualities=spec_qualities(),
        default_quality=None,
        styles=(),
        default_style=None,
        n_range=(1, 10),  # one image per request, as every Zhipu model: n is served by n requests
        max_prompt_chars=None,
        parameters=frozenset({"size", "quality", "n", "user_id", "watermark_enabled"}),
    )


@functools.cache
def spec_task_models() -> frozenset[str]:
    """The models the spec's task API takes (``AsyncCreateImageRequest``'s ``model`` enum)."""
    from zhipu_images_api.models import TaskImageModel

    return frozenset(member.value for member in TaskImageModel)


@functools.cache
def spec_task_qualities() -> tuple[str, ...]:
    from zhipu_images_api.models import TaskImageQuality

    return tuple(member.value for member in TaskImageQuality)
