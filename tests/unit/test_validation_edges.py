"""Validation at its boundaries: the exact sides, pixel counts and names where a request turns from valid to
refused, what each refusal says and suggests, and where its warnings point."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import zhipu_images
from zhipu_images import RequestValidationError, _validation
from zhipu_images._rules import MODELS, CustomSizes, ModelRules
from zhipu_images._sizes import FORMAT_HINT, nearest_valid_size, parse_size
from zhipu_images._validation import (
    SizeOutsideRecommendedRangeWarning,
    UnspecifiedModelWarning,
    checked_extra_body,
    validate_request,
)


def assert_warned_at_the_caller(caught: Any) -> None:
    """Each warning names this file, the caller's, as its place. Under ``make mutation`` a trampoline stands between
    the caller and each library function, so there the check is only that no warning points into the library."""
    places = {w.filename for w in caught}
    if "MUTANT_UNDER_TEST" in os.environ:
        library = Path(zhipu_images.__file__).parent
        assert not any(Path(place).is_relative_to(library) for place in places), places
    else:
        assert places == {__file__}


def refusal(model: str, **arguments: Any) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as caught:
        validate_request(model, arguments.pop("prompt", "a cat"), **arguments)
    return caught.value


# sizes: reading them


def test_a_side_of_six_digits_is_read_and_seven_is_refused() -> None:
    assert parse_size((999_999, 1)) == (999_999, 1)
    assert parse_size((1, 999_999)) == (1, 999_999)
    for value in ((1_000_000, 1), (1, 1_000_000), (-1_000_000, 5)):
        with pytest.raises(RequestValidationError) as caught:
            parse_size(value)
        error = caught.value
        assert (error.field, error.rule, error.value, error.suggestion) == ("size", "format", value, FORMAT_HINT)
        assert error.detail == "each side must be at most 999999 px"


@pytest.mark.parametrize("value", ["abc", "1024*1024", (1024.0, 1024), (True, 1), [1024, 1024], 1024])
def test_a_size_that_cannot_be_read_says_how_to_write_one(value: object) -> None:
    with pytest.raises(RequestValidationError) as caught:
        parse_size(value)
    error = caught.value
    assert (error.field, error.rule, error.value, error.suggestion) == ("size", "format", value, FORMAT_HINT)
    assert error.detail.startswith("cannot read size ")


# sizes: the rules


@pytest.mark.parametrize(
    ("model", "size"),
    [("cogview-4", "512x512"), ("cogview-4", "2048x1024"), ("cogview-4", "1024x2048"), ("cogview-4", "2048x512"),
     ("glm-image", "32x32"), ("glm-image", "2048x2048"), ("glm-image", "131072x32")],
)  # fmt: skip
def test_sizes_on_the_boundaries_are_valid(model: str, size: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SizeOutsideRecommendedRangeWarning)
        assert validate_request(model, "a cat", size=size).size == size


#: cogview-4's rule and reason for a side out of range, and for a side off its step
COGVIEW_SIDES = ("side_range", "each side must be 512-2048 px")
COGVIEW_STEP = ("multiple_of", "width and height must be multiples of 16")


@pytest.mark.parametrize(
    ("model", "size", "rule", "why"),
    [
        ("cogview-4", "2064x1024", *COGVIEW_SIDES),
        ("cogview-4", "1024x2064", *COGVIEW_SIDES),
        ("cogview-4", "496x512", *COGVIEW_SIDES),
        ("cogview-4", "512x496", *COGVIEW_SIDES),
        ("cogview-4", "1000x1024", *COGVIEW_STEP),
        ("cogview-4", "1024x1000", *COGVIEW_STEP),
        ("cogview-4", "512x1000", *COGVIEW_STEP),  # sides at the ends
        ("cogview-4", "1000x512", *COGVIEW_STEP),
        ("cogview-4", "1000x2048", *COGVIEW_STEP),
        ("cogview-4", "2048x1000", *COGVIEW_STEP),
        ("cogview-4", "2048x1040", "max_pixels", "2129920 pixels is over the limit of 2^21 = 2097152"),
        ("glm-image", "16x1024", "side_range", "each side must be at least 32 px"),
        ("glm-image", "4096x2048", "max_pixels", "8388608 pixels is over the limit of 2^22 = 4194304"),
        ("dall-e-3", "1024x1025", "not_offered", "the model offers only 1024x1024, 1792x1024, 1024x1792"),
    ],
)
def test_each_size_rule_is_named_with_its_numbers(model: str, size: str, rule: str, why: str) -> None:
    error = refusal(model, size=size)
    assert (error.field, error.rule, error.value) == ("size", rule, size)
    assert error.detail == f"{size} is not valid for {model}: {why}"
    assert error.suggestion is not None
    assert error.suggestion.endswith(f"recommended: {', '.join(MODELS[model].recommended_sizes)}")


@pytest.mark.parametrize(
    ("model", "size", "nearest"),
    [
        ("cogview-4", (1020, 1020), "1024x1024"),  # sides rounded to the nearest step, up as well as down
        ("cogview-4", (1000, 1010), "992x1008"),
        ("cogview-4", (2048, 2048), "1440x1440"),  # over the pixel cap: scaled down, then rounded down
        ("cogview-4", (4000, 2000), "2048x1024"),  # over the longest side: both sides shrink, 2:1 stays 2:1
        ("cogview-4", (1000, 3000), "688x2048"),
        ("cogview-4", (3000, 1200), "2048x816"),  # the longest side binds before the pixel cap does
        ("cogview-4", (4001, 2000), "2048x1024"),  # rounded up to exactly the pixel cap: kept
        ("cogview-4", (100, 2048), "512x2048"),
        ("cogview-4", (0, 0), "512x512"),
        ("glm-image", (999_999, 1), "131072x32"),
        ("glm-image", (1, 1), "32x32"),
        ("dall-e-3", (1800, 1000), "1792x1024"),
        ("dall-e-3", (1000, 1800), "1024x1792"),
        ("dall-e-2", (300, 300), "256x256"),
        ("dall-e-2", (0, 0), "256x256"),
        ("dall-e-2", (400, 400), "512x512"),
    ],
)
def test_the_nearest_valid_size(model: str, size: tuple[int, int], nearest: str) -> None:
    assert nearest_valid_size(MODELS[model], *size) == nearest


def _rules(custom: CustomSizes) -> ModelRules:
    return ModelRules(
        name="m", provider="zhipu", default_size=None, recommended_sizes=(), custom_sizes=custom, qualities=(),
        default_quality=None, styles=(), default_style=None, n_range=(1, 1), max_prompt_chars=None,
        parameters=frozenset({"size"}),
    )  # fmt: skip


def test_a_side_raised_to_the_minimum_is_paid_for_by_the_other_side() -> None:
    """Scaled into the pixel cap, a short side can fall below the minimum; raised back, the other side shrinks."""
    rules = _rules(CustomSizes(multiple_of=16, min_side=512, max_side=4096, max_pixels=2**20))
    assert nearest_valid_size(rules, 100, 4096) == "512x2048"
    assert nearest_valid_size(rules, 4096, 100) == "2048x512"


@st.composite
def custom_sizes(draw: st.DrawFn) -> CustomSizes:
    step = draw(st.sampled_from([1, 8, 16, 32, 64]))
    low = step * draw(st.integers(1, 64))
    high = draw(st.none() | st.integers(low, 8192).map(lambda side: max(low, side // step * step)))
    pixels = draw(st.integers(low * low, (high or 8192) * 8192))
    return CustomSizes(multiple_of=step, min_side=low, max_side=high, max_pixels=pixels)


# Property: for any rules of the custom-size kind and any requested size, the suggested size is one those rules
# allow (when the rules allow any: the smallest square of the minimum side fits the pixel cap).
@given(custom=custom_sizes(), width=st.integers(0, 999_999), height=st.integers(0, 999_999))
def test_the_suggestion_is_valid_under_any_custom_rules(custom: CustomSizes, width: int, height: int) -> None:
    rules = _rules(custom)
    assume(custom.max_side is None or custom.max_side // custom.multiple_of * custom.multiple_of >= custom.min_side)
    w, h = map(int, nearest_valid_size(rules, width, height).split("x"))
    assert rules.allows_size(w, h), (w, h)


# Property: a suggestion keeps the requested orientation: a wider-than-tall request is never told a taller size.
@given(width=st.integers(1, 10_000), height=st.integers(1, 10_000))
def test_the_suggestion_keeps_the_orientation(width: int, height: int) -> None:
    for model in ("cogview-4", "glm-image"):
        w, h = map(int, nearest_valid_size(MODELS[model], width, height).split("x"))
        if width > height:
            assert w >= h
        elif height > width:
            assert h >= w


def test_outside_the_recommended_range_is_a_warning_that_points_at_the_caller() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate_request("glm-image", "a cat", size="1024x2048")
        validate_request("glm-image", "a cat", size="2048x1056")  # each side at an end of the range
        validate_request("glm-image", "a cat", size="1024x1024")
        validate_request("glm-image", "a cat", size="960x1728")  # recommended, though outside the range
        assert caught == []
        validate_request("glm-image", "a cat", size="992x1024")
        validate_request("glm-image", "a cat", size="1024x2080")
    assert [str(w.message) for w in caught] == [
        "size 992x1024 is valid for glm-image, but 1024-2048 px per side is recommended",
        "size 1024x2080 is valid for glm-image, but 1024-2048 px per side is recommended",
    ]
    assert {w.category for w in caught} == {SizeOutsideRecommendedRangeWarning}
    assert_warned_at_the_caller(caught)


# models


@pytest.mark.parametrize(
    ("typed", "meant"), [("COGVIEW4", "cogview-4"), (" dall_e_3 ", "dall-e-3"), ("glmimage", "glm-image")]
)
def test_a_misspelt_model_gets_a_did_you_mean(typed: str, meant: str) -> None:
    error = refusal(typed)
    assert (error.field, error.rule, error.value) == ("model", "unknown_model", typed)
    assert error.suggestion is not None
    assert error.suggestion.startswith(f"did you mean {meant!r}? known models: glm-image, cogview-4-250304")
    assert error.suggestion.endswith("(a newer one: allow_unknown_model=True)")


@pytest.mark.parametrize("typed", ["cog4", "view", "glm", "midjourney", "x" * 300])
def test_a_name_that_is_not_close_gets_no_guess(typed: str) -> None:
    suggestion = refusal(typed).suggestion
    assert suggestion is not None
    assert suggestion.startswith("known models: ")


def test_an_unknown_model_allowed_warns_at_the_caller_and_takes_only_the_schema_s_parameters() -> None:
    with pytest.warns(UnspecifiedModelWarning, match="neither in the rules table nor in the spec") as caught:
        request = validate_request("cogview-9", "a cat", size="4000x3000", allow_unknown_model=True)
    assert request.size == "4000x3000"
    assert_warned_at_the_caller(caught)
    with pytest.warns(UnspecifiedModelWarning):
        error = refusal("cogview-9", style="vivid", allow_unknown_model=True)
    assert (error.field, error.rule, error.value) == ("style", "unsupported_parameter", "vivid")
    assert error.detail == "cogview-9 does not take style"
    assert error.suggestion == "leave it out; models that take it: dall-e-3"


@pytest.mark.parametrize("name", ["x" * 101, "new\nmodel", "new\udc80model", "   "])
def test_an_unknown_model_name_that_cannot_be_sent_is_refused_even_when_allowed(name: str) -> None:
    assert refusal(name, allow_unknown_model=True).rule == "unknown_model"


def test_a_name_of_a_hundred_characters_can_be_allowed() -> None:
    with pytest.warns(UnspecifiedModelWarning):
        assert validate_request("x" * 100, "a cat", allow_unknown_model=True).model == "x" * 100


def test_a_model_the_spec_names_without_rules_warns_at_the_caller_and_takes_the_schema_s_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After ``make regen`` brings a model the rules table does not know yet, it is served, with a warning."""
    monkeypatch.setattr(_validation, "spec_models", lambda: frozenset({"cogview-5"}))
    with pytest.warns(UnspecifiedModelWarning) as caught:
        request = validate_request("cogview-5", "a cat", size="4000x3000")
    assert [str(w.message) for w in caught] == [
        "model 'cogview-5' is in the spec but has no documented rules in this version: only the schema checks its "
        "requests"
    ]
    assert_warned_at_the_caller(caught)
    assert (request.model, request.size, request.rules.name) == ("cogview-5", "4000x3000", "cogview-5")
    error = refusal("cogview", allow_unknown_model=False)
    assert error.suggestion is not None
    assert "cogview-3-flash, dall-e-2, dall-e-3, cogview-5 (a newer one" in error.suggestion


def test_a_parameter_the_model_does_not_take_names_the_models_that_do() -> None:
    error = refusal("dall-e-2", quality="hd")
    assert (error.field, error.rule, error.value) == ("quality", "unsupported_parameter", "hd")
    assert (
        error.suggestion
        == "leave it out; models that take it: glm-image, cogview-4-250304, cogview-4, cogview-3-flash, dall-e-3"
    )


# prompts and other fields


def test_the_prompt_limit_is_inclusive_and_its_refusal_names_longer_models() -> None:
    limit = MODELS["dall-e-2"].max_prompt_chars
    assert limit is not None
    assert validate_request("dall-e-2", "x" * limit).prompt == "x" * limit
    error = refusal("dall-e-2", prompt="x" * (limit + 1))
    assert (error.rule, error.value) == ("max_length", "x" * 40 + "…")
    assert error.detail == f"{limit + 1} characters is over dall-e-2's limit of {limit}"
    assert error.suggestion is not None
    assert error.suggestion.startswith("shorten it, or use a model that takes longer prompts: ")
    assert "dall-e-2" not in error.suggestion


LONGER = "shorten it, or use a model that takes longer prompts: glm-image, cogview-4-250304, cogview-4, cogview-3-flash"


@pytest.mark.parametrize(
    ("model", "arguments", "expected"),
    [
        ("cogview-4", {"prompt": None}, ("prompt", "required", None, None, "a prompt is required")),
        ("cogview-4", {"prompt": 5}, ("prompt", "type", 5, None, "must be a string, got int")),
        ("cogview-4", {"prompt": " \n"}, ("prompt", "blank", " \n", None, "must not be empty or only whitespace")),
        ("cogview-4", {"prompt": "猫\udc80"}, ("prompt", "encoding", "猫\udc80",
            "re-read the source as UTF-8, or remove the character",
            "character 2 is a lone surrogate (U+DC80), not text UTF-8 can carry; it usually comes from bytes that "
            "were not UTF-8")),
        ("dall-e-3", {"prompt": "x" * 4001}, ("prompt", "max_length", "x" * 40 + "…", LONGER,
            "4001 characters is over dall-e-3's limit of 4000")),
        ("cogview-4", {"n": "2"}, ("n", "type", "2", None, "must be an integer, got str")),
        ("cogview-4", {"n": 0}, ("n", "range", 0, "use 1-10", "0 is outside 1-10 for cogview-4")),
        ("cogview-4", {"n": 11}, ("n", "range", 11, "use 1-10", "11 is outside 1-10 for cogview-4")),
        ("dall-e-3", {"n": 0}, ("n", "range", 0, "use n=1", "0 is outside 1-1 for dall-e-3")),
        ("dall-e-3", {"n": 10}, ("n", "range", 10,
            "use n=1, or a model that allows n=10: glm-image, cogview-4-250304, cogview-4, cogview-3-flash, dall-e-2",
            "10 is outside 1-1 for dall-e-3")),
        ("cogview-4", {"quality": "hd"}, ("quality", "unsupported_by_model", "hd",
            "cogview-4 accepts standard; 'hd' is supported by glm-image, cogview-4-250304, dall-e-3",
            "'hd' is not accepted by cogview-4")),
        ("cogview-4", {"quality": "best"}, ("quality", "not_allowed", "best", "cogview-4 accepts standard",
            "'best' is not accepted by cogview-4")),
        ("dall-e-3", {"style": 5}, ("style", "not_allowed", 5, "dall-e-3 accepts vivid, natural",
            "5 is not accepted by dall-e-3")),
        ("cogview-4", {"user_id": 123456}, ("user_id", "type", 123456, None, "must be a string, got int")),
        ("cogview-4", {"user_id": "abc"}, ("user_id", "length", "abc", None, "3 characters; it must be 6-128")),
        ("cogview-4", {"watermark_enabled": "no"}, ("watermark_enabled", "type", "no", None,
            "must be true or false, got str")),
    ],
)  # fmt: skip
def test_each_refusal_names_its_field_rule_value_suggestion_and_reason(
    model: str, arguments: dict[str, Any], expected: tuple[str, str, object, str | None, str]
) -> None:
    error = refusal(model, **arguments)
    assert (error.field, error.rule, error.value, error.suggestion, error.detail) == expected


# extra_body


@pytest.mark.parametrize("extra", [["a"], "a", {1: "a"}, None])
def test_extra_body_must_be_a_mapping_of_names(extra: object) -> None:
    with pytest.raises(RequestValidationError) as caught:
        checked_extra_body(extra)
    error = caught.value
    assert (error.field, error.rule, error.value) == ("extra_body", "type", extra)
    assert error.suggestion == 'e.g. extra_body={"new_parameter": True}'


def test_extra_body_cannot_set_a_checked_field() -> None:
    with pytest.raises(RequestValidationError) as caught:
        checked_extra_body({"user": "u", "size": "1x1", "new": 1})
    error = caught.value
    assert (error.rule, error.value) == ("checked_field", {"user": "u", "size": "1x1", "new": 1})
    assert error.detail == "size, user must not be set through extra_body"
    assert error.suggestion == "pass size=... to generate(), where it is checked"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (math.nan, "not JSON (Out of range float values are not JSON compliant"),
        (b"x", "a value JSON cannot carry"),
        ({1, 2}, "a value JSON cannot carry"),
        ("lone \udc80", "text with a lone surrogate, which UTF-8 cannot carry"),
        (["deep"], None),
    ],
)
def test_extra_body_values_must_be_json(value: object, problem: str | None) -> None:
    if problem is None:
        assert checked_extra_body({"new": value, "图": 1}) == {"new": value, "图": 1}
        return
    with pytest.raises(RequestValidationError) as caught:
        checked_extra_body({"new": value})
    error = caught.value
    assert (error.field, error.rule, error.value) == ("extra_body", "json", {"new": value})
    assert error.detail.startswith(f"'new': {problem}")
    assert error.suggestion == "use JSON values: strings, finite numbers, booleans, None, lists and dicts of them"


def test_extra_body_nested_too_deeply_or_circular_is_refused() -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    circular: list[Any] = []
    circular.append(circular)
    for value, problem in ((deep, "nested too deeply"), (circular, "not JSON (Circular reference detected)")):
        with pytest.raises(RequestValidationError) as caught:
            checked_extra_body({"new": value})
        assert caught.value.detail == f"'new': {problem}"


def test_an_extra_body_key_must_be_text_utf8_can_carry() -> None:
    with pytest.raises(RequestValidationError) as caught:
        checked_extra_body({"k\udc80": 1})
    assert (caught.value.field, caught.value.rule) == ("extra_body", "encoding")
