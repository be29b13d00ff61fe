"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import warnings
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from zhipu_images import MODELS, ImageRequest, validate_request

model_names = st.sampled_from(sorted(MODELS))


@st.composite
def valid_calls(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """Any (model, prompt, keyword arguments) a user may pass, drawn from each model's documented values."""
    rules = MODELS[draw(model_names)]
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        if rules.custom_sizes is not None and draw(st.booleans()):
            step = rules.custom_sizes.multiple_of
            width = draw(st.integers(max(1, rules.custom_sizes.min_side // step), 2048 // step)) * step
            limit = min(2048, rules.custom_sizes.max_pixels // width) // step
            assume(limit * step >= rules.custom_sizes.min_side)
            kwargs["size"] = (width, draw(st.integers(max(1, rules.custom_sizes.min_side // step), limit)) * step)
        else:
            kwargs["size"] = draw(st.sampled_from(rules.recommended_sizes))
    if draw(st.booleans()) and rules.qualities:
        kwargs["quality"] = draw(st.sampled_from(rules.qualities))
    if draw(st.booleans()):
        kwargs["n"] = draw(st.integers(*rules.n_range))
    if draw(st.booleans()) and rules.styles:
        kwargs["style"] = draw(st.sampled_from(rules.styles))
    if rules.provider == "openai" and draw(st.booleans()):
        kwargs["response_format"] = draw(st.sampled_from(["url", "b64_json"]))
    if draw(st.booleans()):
        kwargs["user_id"] = draw(st.text(min_size=6, max_size=128).filter(lambda s: 6 <= len(s) <= 128))
    if rules.provider == "zhipu" and draw(st.booleans()):
        kwargs["watermark_enabled"] = draw(st.booleans())
    limit = rules.max_prompt_chars or 2000
    prompt = draw(st.text(min_size=1, max_size=min(limit, 300)).filter(str.strip))
    return draw(st.sampled_from([rules.name, rules.name.upper()])), prompt, kwargs


@st.composite
def valid_requests(draw: st.DrawFn) -> ImageRequest:
    """The normalized request of any valid call."""
    model, prompt, kwargs = draw(valid_calls())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return validate_request(model, prompt, **kwargs)
