"""Hypothesis properties of validate_request, each stated above its test."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator

from tests.strategies import model_names, valid_calls, valid_requests
from zhipu_images import MODELS, ImageRequest, RequestValidationError, validate_request
from zhipu_images._sizes import nearest_valid_size
from zhipu_images._validation import with_prompt
from zhipu_images._wire import request_body

# --- an independent oracle, written from the documented rules, not from the table

GLM_RECOMMENDED = {"1280x1280", "1568x1056", "1056x1568", "1472x1088", "1088x1472", "1728x960", "960x1728"}
COGVIEW_RECOMMENDED = {"1024x1024", "768x1344", "864x1152", "1344x768", "1152x864", "1440x720", "720x1440"}


def oracle_accepts_size(model: str, width: int, height: int) -> bool:
    if model == "glm-image":
        return f"{width}x{height}" in GLM_RECOMMENDED or (
            width > 0 and height > 0 and width % 32 == 0 and height % 32 == 0 and width * height <= 4194304
        )
    if model in {"cogview-4-250304", "cogview-4", "cogview-3-flash"}:
        return f"{width}x{height}" in COGVIEW_RECOMMENDED or (
            512 <= width <= 2048
            and 512 <= height <= 2048
            and width % 16 == 0
            and height % 16 == 0
            and width * height <= 2097152
        )
    if model == "dall-e-2":
        return (width, height) in {(256, 256), (512, 512), (1024, 1024)}
    assert model == "dall-e-3"
    return (width, height) in {(1024, 1024), (1792, 1024), (1024, 1792)}


BOUNDARIES = [1, 15, 16, 17, 31, 32, 33, 511, 512, 513, 527, 528, 1023, 1024, 1025, 1448, 1449, 2047, 2048, 2049, 2064]
sides = st.one_of(
    st.integers(1, 4096),
    st.sampled_from(BOUNDARIES),
    st.integers(1, 256).map(lambda k: 16 * k),
    st.integers(1, 128).map(lambda k: 32 * k),
    st.integers(1, 256).map(lambda k: 16 * k + 8),  # non-multiples next to multiples
)


@st.composite
def sizes_near_pixel_caps(draw: st.DrawFn) -> tuple[int, int]:
    """A width, and the height that puts the area just under, at or over 2^21 or 2^22."""
    width = draw(st.integers(1, 256).map(lambda k: 16 * k))
    cap = draw(st.sampled_from([2**21, 2**22]))
    step = draw(st.sampled_from([16, 32]))
    height = max(1, cap // width // step * step + draw(st.sampled_from([-step, 0, step])))
    return width, height


sizes = st.one_of(st.tuples(sides, sides), sizes_near_pixel_caps())


# The validator accepts a size for a model exactly when the brute-force oracle does.
@given(model=model_names, size=sizes)
def test_size_verdict_equals_oracle(model: str, size: tuple[int, int]) -> None:
    width, height = size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            request = validate_request(model, "a cat", size=f"{width}x{height}")
            accepted = True
            assert request.size == f"{width}x{height}"
        except RequestValidationError as error:
            accepted = False
            assert error.field == "size"
    assert accepted == oracle_accepts_size(model, width, height)


# Every spelling of a size (x, X, ×, spaces, a tuple) normalizes to the same "WxH".
@given(
    size=st.tuples(st.integers(1, 99999), st.integers(1, 99999)),
    separator=st.sampled_from(["x", "X", "×"]),
    pads=st.tuples(*[st.sampled_from(["", " ", "  ", "\t"])] * 4),
)
def test_size_spellings_normalize_to_one_form(size: tuple[int, int], separator: str, pads: tuple[str, ...]) -> None:
    width, height = size
    text = f"{pads[0]}{width}{pads[1]}{separator}{pads[2]}{height}{pads[3]}"
    outcomes = []
    for spelling in (text, size):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                outcomes.append(validate_request("glm-image", "p", size=spelling).size)
            except RequestValidationError as error:
                outcomes.append(error.rule)
    assert outcomes[0] == outcomes[1]


def _revalidate(request: ImageRequest) -> ImageRequest:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return validate_request(request.model, request.prompt, **request.parameters())


# Normalization is idempotent: validating a normalized request gives it back unchanged.
@given(valid_requests())
def test_normalization_is_idempotent(request: ImageRequest) -> None:
    assert _revalidate(request) == request


def _request_schema(package: str, name: str) -> OAS30Validator:
    spec = json.loads(resources.files(package).joinpath("openapi.json").read_text(encoding="utf-8"))
    schema = {**spec["components"]["schemas"][name], "components": spec["components"]}
    return OAS30Validator(schema)


ZHIPU_REQUEST = _request_schema("zhipu_images_api", "CreateImageRequest")
OPENAI_REQUEST = _request_schema("openai_images_api", "ImageGenerationRequest")


# Every accepted request, serialized as it will be sent, validates against the vendored spec's request schema.
@given(valid_requests())
def test_accepted_requests_match_the_request_schema(request: ImageRequest) -> None:
    body = json.loads(json.dumps(request_body(request)))
    validator = ZHIPU_REQUEST if request.rules.provider == "zhipu" else OPENAI_REQUEST
    validator.validate(body)
    assert body["model"] == request.model
    assert body["size"] == request.size


ARGUMENTS = ["model", "prompt", "size", "quality", "n", "style", "response_format", "user_id", "watermark_enabled"]
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.tuples(st.integers(), st.integers()),
    st.tuples(st.text(max_size=3), st.floats()),
    st.sampled_from(["hd", "standard", "vivid", "b64_json", "1024x1024", "1024×1792", "", " ", "GLM-IMAGE"]),
)


# Junk of any type in any one argument either passes or raises RequestValidationError
# naming exactly that argument; never any other exception.
@given(model=model_names, argument=st.sampled_from(ARGUMENTS), value=junk)
def test_junk_in_any_argument_is_reported_on_that_field(model: str, argument: str, value: object) -> None:
    kwargs: dict[str, Any] = {"model": model, "prompt": "a cat", argument: value}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            validate_request(**kwargs)
        except RequestValidationError as error:
            assert error.field == argument, (error.field, str(error))
            assert argument in str(error)
            assert isinstance(error, ValueError)


# The suggested "nearest valid size" is always itself valid for that model.
@given(model=model_names, size=sizes)
def test_nearest_valid_size_is_valid(model: str, size: tuple[int, int]) -> None:
    suggestion = nearest_valid_size(MODELS[model], *size)
    width, height = map(int, suggestion.split("x"))
    assert oracle_accepts_size(model, width, height), suggestion


@pytest.mark.parametrize("model", sorted(MODELS))
def test_nearest_valid_size_of_a_valid_size_is_itself(model: str) -> None:
    for size in MODELS[model].recommended_sizes:
        assert nearest_valid_size(MODELS[model], *map(int, size.split("x"))) == size


def _outcome(check: Callable[[], ImageRequest]) -> ImageRequest | tuple[str, str, str]:
    """What a check gives: its request, or its error's field, rule and message."""
    try:
        return check()
    except RequestValidationError as error:
        return error.field, error.rule, str(error)


# Swapping in another prompt (any text: empty, blank, too long, a lone surrogate) gives exactly what validating
# the whole call with that prompt gives: the same request, or the same error. (A batch checks its lines so.)
@given(
    call=valid_calls(),
    other=st.one_of(
        st.text(max_size=40),
        st.text(min_size=990, max_size=1010),
        st.sampled_from(["", "   ", "\ud800 cat", "x" * 4001, "猫" * 1001]),
    ),
)
def test_a_checked_request_with_another_prompt_is_checked_as_the_whole_call(
    call: tuple[str, str, dict[str, Any]], other: str
) -> None:
    model, prompt, kwargs = call
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checked = validate_request(model, prompt, **kwargs)
        assert _outcome(lambda: with_prompt(checked, other)) == _outcome(
            lambda: validate_request(model, other, **kwargs)
        )
