"""The per-model rules the API documents only in prose, as one read-only table.

Sources: the Zhipu API pages (seed 000: the older CogView-only page; seed 001:
the newer page that adds glm-image; seeds 002/003: model guides) and the
OpenAI-compatible page (seed 004). Where they disagree, the newer page (001)
wins; each such decision is marked DECISION below.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

from attrs import frozen

Provider = Literal["zhipu", "openai"]


@frozen
class CustomSizes:
    """Any ``WxH`` whose sides are multiples of ``multiple_of``, within
    ``[min_side, max_side]``, with at most ``max_pixels`` pixels."""

    multiple_of: int
    min_side: int
    max_side: int | None
    max_pixels: int
    #: sides outside this range are accepted but get a warning (glm-image)
    recommended_side_range: tuple[int, int] | None = None


@frozen
class ModelRules:
    """What one model accepts. ``None`` for a limit means the docs set none."""

    name: str
    provider: Provider
    #: None: no size is sent unless given (models known only from the spec, ``_spec_models``)
    default_size: str | None
    recommended_sizes: tuple[str, ...]
    #: None: only ``recommended_sizes`` are accepted (the dall-e models)
    custom_sizes: CustomSizes | None
    qualities: tuple[str, ...]
    default_quality: str | None
    styles: tuple[str, ...]
    default_style: str | None
    n_range: tuple[int, int]
    max_prompt_chars: int | None
    #: optional parameters this model accepts, beyond model and prompt
    parameters: frozenset[str]

    def allows_size(self, width: int, height: int) -> bool:
        if f"{width}x{height}" in self.recommended_sizes:
            return True
        rule = self.custom_sizes
        if rule is None:
            return False
        return (
            width % rule.multiple_of == 0
            and height % rule.multiple_of == 0
            and rule.min_side <= width
            and rule.min_side <= height
            and (rule.max_side is None or (width <= rule.max_side and height <= rule.max_side))
            and width * height <= rule.max_pixels
        )


_ZHIPU_PARAMETERS = frozenset({"size", "quality", "n", "user_id", "watermark_enabled"})

_GLM_IMAGE = ModelRules(
    name="glm-image",
    provider="zhipu",
    default_size="1280x1280",
    # The page prints these with the × sign; normalized to the ASCII x we send.
    recommended_sizes=("1280x1280", "1568x1056", "1056x1568", "1472x1088", "1088x1472", "1728x960", "960x1728"),
    # DECISION: seed 001 only *recommends* 1024-2048 per side (its own list has
    # 960), so outside that range is a warning; the hard rules are multiples of
    # 32 and at most 2^22 pixels. A side must be at least one step (32).
    custom_sizes=CustomSizes(
        multiple_of=32, min_side=32, max_side=None, max_pixels=2**22, recommended_side_range=(1024, 2048)
    ),
    # DECISION: seed 001 says glm-image supports only hd, default hd.
    qualities=("hd",),
    default_quality="hd",
    styles=(),
    default_style=None,
    # DECISION: the platform returns one image per request (seeds 000-003);
    # n is the library's: n > 1 runs n requests concurrently.
    n_range=(1, 10),
    # DECISION: no Zhipu page documents a prompt length limit; none is enforced.
    max_prompt_chars=None,
    parameters=_ZHIPU_PARAMETERS,
)

_COGVIEW_RECOMMENDED = ("1024x1024", "768x1344", "864x1152", "1344x768", "1152x864", "1440x720", "720x1440")
_COGVIEW_CUSTOM = CustomSizes(multiple_of=16, min_side=512, max_side=2048, max_pixels=2**21)


def _cogview(name: str, qualities: tuple[str, ...]) -> ModelRules:
    return ModelRules(
        name=name,
        provider="zhipu",
        default_size="1024x1024",
        recommended_sizes=_COGVIEW_RECOMMENDED,
        custom_sizes=_COGVIEW_CUSTOM,
        qualities=qualities,
        # DECISION: seed 001's schema default is hd (glm-image's), but its prose
        # and seed 000 say the other models default to standard.
        default_quality="standard",
        styles=(),
        default_style=None,
        n_range=(1, 10),
        max_prompt_chars=None,
        parameters=_ZHIPU_PARAMETERS,
    )


_DALL_E_2 = ModelRules(
    name="dall-e-2",
    provider="openai",
    default_size="1024x1024",
    recommended_sizes=("256x256", "512x512", "1024x1024"),
    custom_sizes=None,
    qualities=(),
    default_quality=None,
    styles=(),
    default_style=None,
    n_range=(1, 10),
    max_prompt_chars=1000,
    parameters=frozenset({"size", "n", "response_format", "user_id"}),
)

_DALL_E_3 = ModelRules(
    name="dall-e-3",
    provider="openai",
    default_size="1024x1024",
    recommended_sizes=("1024x1024", "1792x1024", "1024x1792"),
    custom_sizes=None,
    qualities=("standard", "hd"),
    default_quality="standard",
    styles=("vivid", "natural"),
    default_style="vivid",
    n_range=(1, 1),
    max_prompt_chars=4000,
    parameters=frozenset({"size", "quality", "n", "style", "response_format", "user_id"}),
)

#: Model name -> its rules. Read-only.
MODELS: MappingProxyType[str, ModelRules] = MappingProxyType(
    {
        rules.name: rules
        for rules in (
            _GLM_IMAGE,
            # DECISION: seed 000 (and 002/003) say quality is supported only by
            # cogview-4-250304; seed 001 does not contradict it for CogView, so
            # cogview-4 and cogview-3-flash accept standard only.
            _cogview("cogview-4-250304", ("hd", "standard")),
            _cogview("cogview-4", ("standard",)),
            _cogview("cogview-3-flash", ("standard",)),
            _DALL_E_2,
            _DALL_E_3,
        )
    }
)

#: OpenAI-compatible endpoints: the response formats they accept (seed 004).
RESPONSE_FORMATS = ("url", "b64_json")
DEFAULT_RESPONSE_FORMAT = "url"
#: Zhipu: the end-user id length (seeds 000, 001).
USER_ID_LENGTH = (6, 128)
