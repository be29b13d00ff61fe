"""The fake's checks of a generation request and of a task submission, called directly: the code, field and words
of each refusal, and what an accepted one asks the generator for. A fake that refused differently from the platform
would pass tests that the platform then fails."""

from __future__ import annotations

from typing import Any

import pytest

from zhipu_images.fake._answers import MESSAGES
from zhipu_images.fake._request_checks import Rejection, checked_body, checked_task_body


def rejection(body: Any) -> Rejection:
    with pytest.raises(Rejection) as caught:
        checked_task_body(body)
    return caught.value


def refused_generation(provider: str, body: dict[str, Any]) -> Rejection:
    with pytest.raises(Rejection) as caught:
        checked_body(provider, body)
    return caught.value


def test_an_accepted_task_asks_for_one_image_by_url_at_its_size_or_the_default() -> None:
    assert checked_task_body({"model": "glm-image", "prompt": "cat"}) == (
        "cat",
        {"width": 1280, "height": 1280, "count": 1, "b64": False, "revised": False},
    )
    body = {"model": "GLM-Image", "prompt": "dog", "size": "1568x1056", "quality": "hd", "watermark_enabled": False}
    assert checked_task_body(body) == (
        "dog",
        {"width": 1568, "height": 1056, "count": 1, "b64": False, "revised": False},
    )


def test_a_model_without_the_task_api_is_1212_and_names_those_with_it() -> None:
    refused = rejection({"model": "cogview-4", "prompt": "cat"})
    assert (refused.code, refused.field) == ("1212", "model")
    assert refused.english == "cogview-4 has no task API; models with it: glm-image"
    assert (
        refused.message_for("zhipu")
        == "当前模型不支持 async 调用方式。 (cogview-4 has no task API; models with it: glm-image)"
    )
    assert refused.message_for("openai") == refused.english
    assert str(refused) == refused.english


def test_an_unknown_model_is_1211() -> None:
    refused = rejection({"model": "nope", "prompt": "cat"})
    assert (refused.code, refused.field, refused.english) == ("1211", "model", "model 'nope' does not exist")
    assert refused.platform == "模型不存在，请检查模型代码。"


@pytest.mark.parametrize(
    ("change", "field", "english"),
    [
        (
            {"size": "1000x1000"},
            "size",
            "size: 1000x1000 is not valid for glm-image: width and height",
        ),
        ({"user_id": "abcdef\udc80"}, "user_id", "user_id: character 7 is a lone surrogate (U+DC80)"),
        ({"prompt": "   "}, "prompt", "prompt: must not be empty or only whitespace"),
    ],
)
def test_what_only_the_model_s_rules_refuse_is_1214_naming_the_field(
    change: dict[str, Any], field: str, english: str
) -> None:
    refused = rejection({"model": "glm-image", "prompt": "cat", **change})
    assert (refused.code, refused.field, refused.platform) == ("1214", field, f"{field}参数非法。请检查文档。")
    assert refused.english.startswith(english)
    assert refused.message_for("zhipu") == f"{field}参数非法。请检查文档。 ({refused.english})"
    assert isinstance(refused.__cause__, ValueError)


def test_a_body_that_is_not_an_object_is_1210() -> None:
    refused = rejection([1])
    assert (refused.code, refused.field, refused.english) == ("1210", None, "The body must be a JSON object.")
    assert refused.platform == MESSAGES["1210"]


@pytest.mark.parametrize("missing", ["model", "prompt"])
def test_a_missing_required_field_is_1213_naming_it(missing: str) -> None:
    body = {"model": "glm-image", "prompt": "cat"}
    del body[missing]
    for refused in (rejection(body), refused_generation("zhipu", body)):
        assert (refused.code, refused.platform, refused.english, refused.field) == (
            "1213",
            f"未正常接收到{missing}参数。",
            f"{missing} is required",
            missing,
        )


# generation requests


def test_an_unknown_model_is_1211_naming_the_endpoint_s_own_models() -> None:
    refused = refused_generation("zhipu", {"model": "midjourney", "prompt": "cat"})
    assert (refused.code, refused.platform, refused.field) == ("1211", MESSAGES["1211"], "model")
    assert refused.english == (
        "model 'midjourney' does not exist; known: glm-image, cogview-4-250304, cogview-4, cogview-3-flash"
    )
    elsewhere = refused_generation("openai", {"model": "glm-image", "prompt": "cat"})
    assert elsewhere.code == "1211"
    assert elsewhere.english == "model 'glm-image' does not exist; known: dall-e-2, dall-e-3"


def test_of_several_schema_errors_the_first_field_by_name_is_answered() -> None:
    refused = refused_generation("zhipu", {"model": "cogview-4", "prompt": "cat", "watermark_enabled": 5, "user_id": 5})
    assert (refused.code, refused.platform, refused.english, refused.field) == (
        "1214",
        "user_id参数非法。请检查文档。",
        "user_id: 5 is not of type 'string'",
        "user_id",
    )


def test_a_schema_error_other_than_a_list_of_values_speaks_before_the_model_s_rules() -> None:
    refused = refused_generation("zhipu", {"model": "cogview-4", "prompt": "cat", "size": 7})
    assert (refused.code, refused.english, refused.field) == ("1214", "size: 7 is not of type 'string'", "size")


@pytest.mark.parametrize(
    ("provider", "body", "field", "says"),
    [
        ("openai", {"model": "dall-e-2", "prompt": "cat", "style": "vivid"}, "style", "dall-e-2 does not take style"),
        ("openai", {"model": "dall-e-2", "prompt": "cat", "user": "u\udc80"}, "user_id", "lone surrogate"),
        ("zhipu", {"model": "cogview-4", "prompt": "cat", "user_id": "user-\udc80"}, "user_id", "lone surrogate"),
    ],
)
def test_what_only_the_model_s_rules_refuse_in_a_generation_is_1214_naming_the_field(
    provider: str, body: dict[str, Any], field: str, says: str
) -> None:
    refused = refused_generation(provider, body)
    assert (refused.code, refused.field, refused.platform) == ("1214", field, f"{field}参数非法。请检查文档。")
    assert says in refused.english
