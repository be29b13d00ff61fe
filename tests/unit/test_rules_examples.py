"""One example per documented rule (see the rules issue and _rules.py)."""

from __future__ import annotations

import warnings

import pytest

from zhipu_images import (
    MODELS,
    ImagesError,
    RequestValidationError,
    SizeOutsideRecommendedRangeWarning,
    validate_request,
)

ZHIPU = ["glm-image", "cogview-4-250304", "cogview-4", "cogview-3-flash"]
COGVIEW = ZHIPU[1:]


def rejected(model: str, prompt: object = "a cat", **kwargs: object) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as info:
        validate_request(model, prompt, **kwargs)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize(("model", "size"), [(m, s) for m, r in MODELS.items() for s in r.recommended_sizes])
def test_every_recommended_size_is_accepted_without_warning(model: str, size: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate_request(model, "a cat", size=size.replace("x", "×")).size == size


@pytest.mark.parametrize(
    ("model", "size", "quality", "style", "response_format"),
    [
        ("glm-image", "1280x1280", "hd", None, None),
        ("cogview-4-250304", "1024x1024", "standard", None, None),
        ("cogview-4", "1024x1024", "standard", None, None),
        ("cogview-3-flash", "1024x1024", "standard", None, None),
        ("dall-e-2", "1024x1024", None, None, "url"),
        ("dall-e-3", "1024x1024", "standard", "vivid", "url"),
    ],
)
def test_defaults_are_the_models_own(
    model: str, size: str, quality: str | None, style: str | None, response_format: str | None
) -> None:
    request = validate_request(model, "a cat")
    assert (request.size, request.quality, request.n, request.style, request.response_format) == (
        size,
        quality,
        1,
        style,
        response_format,
    )
    assert request.user_id is None
    assert request.watermark_enabled is None


def test_glm_image_custom_sizes() -> None:
    assert validate_request("glm-image", "p", size="2048x2048").size == "2048x2048"  # exactly 2^22
    assert rejected("glm-image", size="2048x2080").rule == "max_pixels"
    assert rejected("glm-image", size="1280x1296").rule == "multiple_of"  # 1296 = 81 * 16, not a multiple of 32


def test_glm_image_outside_recommended_range_warns_but_passes() -> None:
    with pytest.warns(SizeOutsideRecommendedRangeWarning, match="1024-2048"):
        assert validate_request("glm-image", "p", size="512x512").size == "512x512"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_request("glm-image", "p", size="1024x2048")


@pytest.mark.parametrize("model", COGVIEW)
def test_cogview_custom_sizes(model: str) -> None:
    assert validate_request(model, "p", size="512x2048").size == "512x2048"
    assert validate_request(model, "p", size="1440x1456").size == "1440x1456"  # 2,096,640 <= 2^21
    assert rejected(model, size="496x1024").rule == "side_range"
    assert rejected(model, size="1024x2064").rule == "side_range"
    assert rejected(model, size="1000x1000").rule == "multiple_of"
    assert rejected(model, size="1456x1456").rule == "max_pixels"


def test_bad_size_message_names_field_rule_value_nearest_and_recommended() -> None:
    error = rejected("cogview-4", size="1000x1000")
    assert (error.field, error.rule, error.value) == ("size", "multiple_of", "1000x1000")
    text = str(error)
    for part in ("size", "multiple_of", "1000x1000", "multiples of 16", "nearest valid size: 992x992", "768x1344"):
        assert part in text


def test_glm_image_accepts_only_hd() -> None:
    error = rejected("glm-image", quality="standard")
    assert (error.field, error.rule) == ("quality", "unsupported_by_model")
    assert "cogview-4-250304" in str(error)


def test_cogview_4_250304_accepts_both_qualities() -> None:
    assert validate_request("cogview-4-250304", "p", quality="hd").quality == "hd"
    assert validate_request("cogview-4-250304", "p", quality="standard").quality == "standard"


@pytest.mark.parametrize("model", ["cogview-4", "cogview-3-flash"])
def test_hd_on_older_cogview_says_which_models_support_it(model: str) -> None:
    error = rejected(model, quality="hd")
    assert (error.field, error.rule) == ("quality", "unsupported_by_model")
    assert "supported by glm-image, cogview-4-250304" in str(error)


def test_unknown_quality_is_not_allowed() -> None:
    assert rejected("cogview-4-250304", quality="ultra").rule == "not_allowed"


@pytest.mark.parametrize("model", ZHIPU)
def test_zhipu_user_id_length(model: str) -> None:
    assert validate_request(model, "p", user_id="a" * 6).user_id == "a" * 6
    assert validate_request(model, "p", user_id="a" * 128).user_id == "a" * 128
    assert rejected(model, user_id="a" * 5).rule == "length"
    assert rejected(model, user_id="a" * 129).rule == "length"


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_blank_prompt_is_rejected(model: str, prompt: str) -> None:
    assert (rejected(model, prompt).field, rejected(model, prompt).rule) == ("prompt", "blank")


def test_missing_prompt_is_required() -> None:
    assert rejected("glm-image", None).rule == "required"


@pytest.mark.parametrize("model", [*ZHIPU, "dall-e-2"])
def test_n_from_1_to_10(model: str) -> None:
    assert validate_request(model, "p", n=10).n == 10
    assert rejected(model, n=0).rule == "range"
    assert rejected(model, n=11).rule == "range"
    assert rejected(model, n=True).rule == "type"


def test_dall_e_3_allows_only_one_image_and_points_to_dall_e_2() -> None:
    error = rejected("dall-e-3", n=2)
    assert (error.field, error.rule) == ("n", "range")
    assert "dall-e-2" in str(error)


@pytest.mark.parametrize("model", ZHIPU)
@pytest.mark.parametrize(("parameter", "value"), [("style", "vivid"), ("response_format", "url")])
def test_style_and_response_format_are_not_zhipu_parameters(model: str, parameter: str, value: str) -> None:
    error = rejected(model, **{parameter: value})
    assert (error.field, error.rule) == (parameter, "unsupported_parameter")


def test_dall_e_2_rules() -> None:
    assert validate_request("dall-e-2", "p" * 1000).prompt == "p" * 1000
    assert rejected("dall-e-2", "p" * 1001).rule == "max_length"
    assert rejected("dall-e-2", size="1792x1024").rule == "not_offered"
    assert rejected("dall-e-2", quality="hd").rule == "unsupported_parameter"
    assert rejected("dall-e-2", style="vivid").rule == "unsupported_parameter"
    assert rejected("dall-e-2", watermark_enabled=False).rule == "unsupported_parameter"


def test_dall_e_3_rules() -> None:
    assert validate_request("dall-e-3", "p" * 4000).prompt == "p" * 4000
    too_long = str(rejected("dall-e-2", "p" * 1001))
    assert "longer prompts: glm-image, cogview-4-250304, cogview-4, cogview-3-flash, dall-e-3" in too_long
    assert rejected("dall-e-3", "p" * 4001).rule == "max_length"
    assert validate_request("dall-e-3", "p", quality="hd", style="natural").style == "natural"
    assert rejected("dall-e-3", style="dramatic").rule == "not_allowed"


@pytest.mark.parametrize("model", ["dall-e-2", "dall-e-3"])
def test_openai_response_formats(model: str) -> None:
    assert validate_request(model, "p", response_format="b64_json").response_format == "b64_json"
    assert rejected(model, response_format="png").rule == "not_allowed"


@pytest.mark.parametrize("spelling", ["cogView-4-250304", "COGVIEW-4-250304", " cogview-4-250304 "])
def test_model_names_are_case_insensitive(spelling: str) -> None:
    assert validate_request(spelling, "p").model == "cogview-4-250304"


def test_unknown_model_lists_the_known_ones() -> None:
    error = rejected("cogview-5")
    assert (error.field, error.rule) == ("model", "unknown_model")
    assert all(name in str(error) for name in MODELS)


@pytest.mark.parametrize("spelling", ["1568×1056", "1568x1056", "1568X1056", " 1568 × 1056 ", (1568, 1056)])
def test_size_spellings(spelling: str | tuple[int, int]) -> None:
    assert validate_request("glm-image", "p", size=spelling).size == "1568x1056"


@pytest.mark.parametrize(
    "bad", ["1024", "1024x", "x1024", "1024*1024", "1024x1024x1", (1024,), (1024.0, 768), (True, 1)]
)
def test_unreadable_sizes_get_the_format_rule_and_a_hint(bad: object) -> None:
    error = rejected("glm-image", size=bad)
    assert (error.field, error.rule) == ("size", "format")
    assert "WIDTHxHEIGHT" in str(error)


def test_validation_error_is_a_value_error_and_an_images_error() -> None:
    error = rejected("glm-image", size="1x1")
    assert isinstance(error, ValueError)
    assert isinstance(error, ImagesError)


def test_models_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        MODELS["dall-e-4"] = MODELS["dall-e-3"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        MODELS["glm-image"].default_size = "1x1"  # type: ignore[misc]


def test_request_is_frozen() -> None:
    request = validate_request("glm-image", "p")
    with pytest.raises(AttributeError):
        request.size = "1x1"  # type: ignore[misc]
    assert (request.width, request.height) == (1280, 1280)
