"""Hypothesis properties of the fake platform, each stated above its test."""

from __future__ import annotations

import json
import warnings
from importlib import resources
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator
from schemathesis.core import NotSet
from schemathesis.generation.modes import GenerationMode

from tests.strategies import valid_calls
from tests.test_contract_schemathesis import OPENAI, ZHIPU
from zhipu_images import MODELS, RequestValidationError, validate_request
from zhipu_images.fake import FakeImagesAPI, FakePlatform, FakeReply, FakeRequest
from zhipu_images.fake import fake_client as make_fake_client

ZHIPU_CODES = {"1210", "1211", "1213", "1214", "1301"}
OPENAI_CODES = {None, "model_not_found", "content_policy_violation"}
ZHIPU_OPERATION = ZHIPU["/paas/v4/images/generations"]["POST"]
OPENAI_OPERATION = OPENAI["/v1/images/generations"]["POST"]


def _spec(package: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files(package).joinpath("openapi.json").read_text(encoding="utf-8"))
    return loaded


def _validator(package: str, name: str) -> OAS30Validator:
    spec = _spec(package)
    return OAS30Validator({**spec["components"]["schemas"][name], "components": spec["components"]})


ZHIPU_RESPONSE = _validator("zhipu_images_api", "ImageGenerationResponse")
ZHIPU_ERROR = _validator("zhipu_images_api", "Error")
OPENAI_RESPONSE = _validator("openai_images_api", "ImageResponse")
OPENAI_ERROR = _validator("openai_images_api", "ErrorResponse")
PLATFORM = FakePlatform(content_filter_words=["blocked-word"])


def post(path: str, body: Any) -> FakeReply:
    # Negative cases may carry raw bytes (a body that is not JSON at all); an optional body may be absent.
    raw = b"" if isinstance(body, NotSet) else body if isinstance(body, bytes) else json.dumps(body).encode()
    request = FakeRequest(
        method="POST",
        path=path,
        origin="http://fake.test",
        headers={"authorization": "Bearer k", "content-type": "application/json"},
        body=raw,
    )
    reply = PLATFORM.handle(request)
    PLATFORM.finish(reply)
    return reply


bodies = st.sampled_from(list(GenerationMode))


# Any request body drawn from the Zhipu schema, valid or not, gets either a 200 that validates
# against the response schema or a 4xx in the documented error shape with a documented code.
@settings(suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_zhipu_answers_are_documented(data: st.DataObject) -> None:
    case = data.draw(ZHIPU_OPERATION.as_strategy(data.draw(bodies)))
    reply = post("/api/paas/v4/images/generations", case.body)
    answer = json.loads(reply.body)
    if reply.status == 200:
        ZHIPU_RESPONSE.validate(answer)
        assert len(answer["data"]) == 1
    else:
        ZHIPU_ERROR.validate(answer)
        assert reply.status == 400
        assert answer["error"]["code"] in ZHIPU_CODES


# The same for the OpenAI-compatible document, whose errors use OpenAI's shape.
@settings(suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_openai_answers_are_documented(data: st.DataObject) -> None:
    case = data.draw(OPENAI_OPERATION.as_strategy(data.draw(bodies)))
    reply = post("/v1/images/generations", case.body)
    answer = json.loads(reply.body)
    if reply.status == 200:
        OPENAI_RESPONSE.validate(answer)
        body = case.body
        assert len(answer["data"]) == (body.get("n", 1) if isinstance(body, dict) else 1)
    else:
        OPENAI_ERROR.validate(answer)
        assert reply.status in (400, 404)
        assert answer["error"]["code"] in OPENAI_CODES


sizes = st.one_of(
    st.sampled_from([s for rules in MODELS.values() for s in rules.recommended_sizes]),
    st.tuples(st.integers(1, 3000), st.integers(1, 3000)).map(lambda wh: f"{wh[0]}x{wh[1]}"),
    st.tuples(st.integers(1, 128), st.integers(1, 128)).map(lambda wh: f"{wh[0] * 16}x{wh[1] * 16}"),
    st.text(max_size=12),
)


# The fake accepts a (model, size, quality) exactly when validate_request does: one rule table, one verdict.
@given(
    model=st.sampled_from([m for m, r in MODELS.items() if r.provider == "zhipu"]),
    size=st.none() | sizes,
    quality=st.none() | st.sampled_from(["hd", "standard"]),
)
def test_fake_verdict_equals_validate_request(model: str, size: str | None, quality: str | None) -> None:
    body: dict[str, Any] = {"model": model, "prompt": "a cat"}
    if size is not None:
        body["size"] = size
    if quality is not None:
        body["quality"] = quality
    reply = post("/api/paas/v4/images/generations", body)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validate_request(model, "a cat", size=size, quality=quality)
        expected_ok = True
    except RequestValidationError:
        expected_ok = False
    assert (reply.status == 200) == expected_ok, reply.body.decode()


REQUEST_SCHEMAS = {
    "/api/paas/v4/images/generations": _validator("zhipu_images_api", "CreateImageRequest"),
    "/v1/images/generations": _validator("openai_images_api", "ImageGenerationRequest"),
}


# Every request the wrapper sends for a valid call, as captured by the respx mock, validates
# against the request schema of the endpoint it went to.
# The fake's content filter is off here: Hypothesis draws string constants from the code under
# test, so it does find the default trigger words, and a filtered prompt is not a schema question.
@settings(max_examples=40, suppress_health_check=list(HealthCheck))
@given(call=valid_calls())
def test_wrapper_requests_captured_by_the_mock_match_the_schema(call: tuple[str, str, dict[str, Any]]) -> None:
    model, prompt, kwargs = call
    from zhipu_images import ImagesClient

    with FakeImagesAPI(FakePlatform(content_filter_words=())) as fake, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ImagesClient(api_key="k", openai_base_url="https://gateway.test/v1", max_retries=0).generate(
            prompt, model=model, **kwargs
        )
    assert fake.requests
    for recorded in fake.requests:
        REQUEST_SCHEMAS[recorded.path].validate(recorded.json)
        assert recorded.status == 200


def test_fake_client_helper_round_trip() -> None:
    with make_fake_client() as client:
        request = client.generate("a cat", model="cogview-4").request
        assert request is not None
        assert request.size == "1024x1024"
