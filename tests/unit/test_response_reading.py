"""Answers read field by field: the result of a 200, what breaks its contract, the key in escaped JSON, request ids.

The client tests see these through a fake server; here each field's reading is pinned on its own, so that a
changed condition (``and`` for ``or``, a dropped argument) in the reader is a failing test, not a quiet change.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.answers import answer
from zhipu_images import ContentFilterError, RateLimitError, ServerError, UnexpectedResponseError
from zhipu_images._redact import MASK
from zhipu_images._responses import Answer, _json, error_from_response, result_from_response
from zhipu_images._results import ContentFilter
from zhipu_images._validation import validate_request

KEY = "abcdef0123456789.secretpart"
REQUEST = validate_request("cogview-4", "a cat")


def unexpected(body: Any, headers: dict[str, str] | None = None) -> UnexpectedResponseError:
    with pytest.raises(UnexpectedResponseError) as caught:
        result_from_response(answer(200, body, headers), REQUEST, redact=KEY)
    return caught.value


# a 200's result


def test_a_result_keeps_every_field_and_what_it_does_not_know() -> None:
    body = {
        "created": 1700000000,
        "data": [{"url": "https://x/1.png", "revised_prompt": "a fine cat", "seed": 7}, {"b64_json": "aGk="}],
        "content_filter": [{"role": "assistant", "level": 3}, {"level": 1}, {"role": 5, "level": True}, "junk"],
        "id": "req-1",
        "usage": {"images": 2},
    }
    result = result_from_response(answer(200, body), REQUEST)
    assert result.created == 1700000000
    assert [(i.url, i.b64_json, i.revised_prompt, dict(i.extra)) for i in result.images] == [
        ("https://x/1.png", None, "a fine cat", {"seed": 7}),
        (None, "aGk=", None, {}),
    ]
    assert result.content_filter == (
        ContentFilter(role="assistant", level=3),
        ContentFilter(role="unknown", level=1),
        ContentFilter(role="5", level=None),
    )
    assert result.request is REQUEST
    assert result.request_ids == ("req-1",)
    assert dict(result.extra) == {"id": "req-1", "usage": {"images": 2}}


@pytest.mark.parametrize("created", ["1700000000", True, 1.5, None])
def test_a_created_that_is_not_an_integer_is_left_out(created: object) -> None:
    assert result_from_response(answer(200, {"created": created, "data": [{"url": "u"}]}), REQUEST).created is None


@pytest.mark.parametrize(
    ("image", "url", "b64"),
    [
        ({"url": "u", "b64_json": ""}, "u", None),
        ({"url": "", "b64_json": "aGk="}, None, "aGk="),
        ({"url": 5, "b64_json": "aGk="}, None, "aGk="),
        ({"url": "u", "b64_json": ["x"]}, "u", None),
    ],
)
def test_an_empty_or_mistyped_image_field_is_absent(image: dict[str, Any], url: str | None, b64: str | None) -> None:
    (only,) = result_from_response(answer(200, {"data": [{**image, "revised_prompt": 3}]}), REQUEST).images
    assert (only.url, only.b64_json, only.revised_prompt) == (url, b64, None)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>", "is not JSON"),
        ([1], "is a JSON list, not an object"),
        ("text", "is a JSON str, not an object"),
        ({"data": []}, "has no images in `data`"),
        ({"data": {"url": "u"}}, "has no images in `data`"),
        ({}, "has no images in `data`"),
        ({"data": ["u"]}, "has a `data` item that is a str, not an object"),
        ({"data": [{"url": ""}]}, "has an image with neither `url` nor `b64_json`"),
        ({"data": [{"url": None, "b64_json": 3}]}, "has an image with neither `url` nor `b64_json`"),
    ],
)
def test_a_200_that_breaks_the_contract_says_how(body: Any, why: str) -> None:
    error = unexpected(body, headers={"x-request-id": "r-9"})
    assert error.message == f"the 200 response {why}"
    assert (error.status_code, error.request_id) == (200, "r-9")


def test_a_200_that_is_not_json_keeps_its_cause() -> None:
    assert isinstance(unexpected(b"<html>").__cause__, json.JSONDecodeError)


def test_the_images_that_did_arrive_are_kept_with_the_error_and_may_be_billed() -> None:
    error = unexpected({"data": [{"url": "u1"}, 7, {"url": "u2"}], "id": "req-2"})
    assert error.may_be_billed
    assert error.message == "the 200 response has a `data` item that is a int, not an object"
    assert error.partial_result is not None
    assert [image.url for image in error.partial_result.images] == ["u1", "u2"]
    assert error.request_id == "req-2"
    none_arrived = unexpected({"data": [{"url": ""}]})
    assert none_arrived.may_be_billed
    assert none_arrived.partial_result is None


def test_a_200_with_an_error_object_is_that_error() -> None:
    body = {"error": {"code": "1302", "message": "slow down"}}
    with pytest.raises(RateLimitError) as caught:
        result_from_response(answer(200, body, {"retry-after": "3", "x-request-id": KEY}), REQUEST, redact=KEY)
    assert (caught.value.code, caught.value.retry_after, caught.value.message) == ("1302", 3.0, "slow down")
    assert caught.value.request_id == MASK  # the key, echoed in a header, is not quoted


# the key and lone surrogates in escaped JSON


def test_a_key_written_with_escapes_is_masked_wherever_it_is_in_the_body() -> None:
    escaped = json.dumps(KEY, ensure_ascii=True).replace("a", "\\u0061")  # passes a byte-level scrubber
    content = f'{{"data": [{{"url": "u", {escaped}: [{escaped}, {{"k": {escaped}}}]}}], "note": {escaped}}}'.encode()
    assert KEY.encode() not in content
    result = result_from_response(answer(200, content), REQUEST, redact=KEY)
    assert KEY not in repr(dict(result.extra)) + repr(dict(result.images[0].extra))
    assert result.extra["note"] == MASK
    assert dict(result.images[0].extra) == {MASK: [MASK, {"k": MASK}]}


def test_a_key_shorter_than_a_secret_is_not_taken_for_one() -> None:
    assert _json(b'{"a": "\\u0061bcdefg"}', redact="abcdefg") == {"a": "abcdefg"}
    assert _json(b'{"a": "\\u0061bcdefgh"}', redact="abcdefgh") == {"a": MASK}


def test_lone_surrogates_are_replaced_only_where_escapes_were() -> None:
    assert _json(b'["\\ud83d", {"\\udc00": "x\\ud800y"}]') == ["\ufffd", {"\ufffd": "x\ufffdy"}]
    assert _json('"\u00e9"'.encode()) == "\u00e9"
    assert _json(b'"\\ud83d"') == "\ufffd"


def test_json_nested_past_the_parser_s_depth_is_not_json() -> None:
    with pytest.raises(ValueError, match=r"^JSON nested too deeply$"):
        _json(b"[" * 200_000 + b"]" * 200_000)


# errors


def test_request_ids_come_from_the_headers_first_then_the_body() -> None:
    def request_id(headers: dict[str, str], body: Any) -> str | None:
        return error_from_response(answer(400, body, headers)).request_id

    assert request_id({"request-id": "h1"}, {"request_id": "b1"}) == "h1"
    assert request_id({"x-log-id": "h2"}, {}) == "h2"
    assert request_id({}, {"request_id": "b1", "id": "b2"}) == "b1"
    assert request_id({}, {"request_id": 5, "id": "b2"}) == "b2"
    assert request_id({}, {"id": "x" * 300}) == "x" * 200 + "… (300 characters)"
    assert request_id({"x-request-id": "y" * 250}, {}) == "y" * 200 + "… (250 characters)"


def test_an_error_without_json_names_its_content_type_bounded() -> None:
    error = error_from_response(answer(502, b"<html>", {"content-type": "text/html" + "x" * 200}))
    assert error.message == f"HTTP 502 with a body that is not JSON (text/html{'x' * 91}… (209 characters))"
    assert isinstance(error, ServerError)
    plain = error_from_response(Answer(418, httpx.Headers(), b"<html>"))
    assert plain.message == "HTTP 418 with a body that is not JSON (no content type)"
    assert type(plain) is UnexpectedResponseError


def test_an_error_whose_body_never_arrived_whole_says_why_and_keeps_retry_after() -> None:
    broken = Answer(503, httpx.Headers({"retry-after": "4", "x-request-id": "r"}), b"", problem="the body broke off")
    error = error_from_response(broken)
    assert error.message == "HTTP 503 with the body broke off"
    assert (error.retry_after, error.request_id) == (4.0, "r")
    assert isinstance(error.__cause__, ValueError)
    assert str(error.__cause__) == "the body broke off"


def test_an_error_code_is_kept_as_text_within_forty_characters() -> None:
    assert error_from_response(answer(429, {"error": {"code": 1302}})).code == "1302"
    long = error_from_response(answer(400, {"error": {"code": "c" * 60}})).code
    assert long == "c" * 40 + "… (60 characters)"
    assert error_from_response(answer(400, {"error": {"code": True}})).code is None
    no_message = error_from_response(answer(429, {"error": {"code": "1302", "message": 5}}))
    assert no_message.message == "HTTP 429 without an error message"


def test_a_content_filter_error_carries_which_side_was_judged() -> None:
    for name in ("contentFilter", "content_filter"):
        body = {"error": {"code": "1301", "message": "unsafe"}, name: [{"role": "user", "level": 2}]}
        error = error_from_response(answer(400, body))
        assert isinstance(error, ContentFilterError)
        assert error.content_filter == (ContentFilter(role="user", level=2),)
    both = {"error": {"code": "1301"}, "contentFilter": [{"role": "assistant"}], "content_filter": [{"role": "user"}]}
    assert error_from_response(answer(400, both)).content_filter == (ContentFilter(role="assistant", level=None),)  # type: ignore[attr-defined]


def test_only_the_code_that_means_try_later_is_retried_for_its_account() -> None:
    later = error_from_response(answer(400, {"error": {"code": "1120"}}))
    assert (later.retryable, later.scope) == (True, "request")
    locked = error_from_response(answer(400, {"error": {"code": "1121"}}))
    assert not locked.retryable


# the key where a server echoes it


def escaped(text: str) -> str:
    """``text`` as a JSON string with its ``a``s written as escapes: bytes that do not contain it."""
    return json.dumps(text).replace("a", "\\u0061")


def test_an_error_s_message_with_the_key_in_escapes_is_masked() -> None:
    content = f'{{"error": {{"code": "1000", "message": {escaped("bad key " + KEY)}}}}}'.encode()
    error = error_from_response(answer(401, content), redact=KEY)
    assert error.message == f"bad key {MASK}"
    whole = error_from_response(answer(400, escaped(KEY).encode()), redact=KEY)
    assert KEY not in repr(whole) + str(whole)
    assert _json(escaped(KEY).encode(), redact=KEY) == MASK


def test_headers_that_echo_the_key_are_masked_in_errors_and_broken_results() -> None:
    echoing = {"content-type": f"text/html; key={KEY}", "x-request-id": f"req {KEY}"}
    not_json = error_from_response(answer(502, b"<html>", echoing), redact=KEY)
    assert not_json.message == f"HTTP 502 with a body that is not JSON (text/html; key={MASK})"
    assert not_json.request_id == f"req {MASK}"
    coded = error_from_response(answer(429, {"error": {"code": "1302"}}, echoing), redact=KEY)
    assert coded.request_id == f"req {MASK}"
    broken = unexpected({"data": "not a list"}, headers=echoing)
    assert broken.request_id == f"req {MASK}"


@pytest.mark.parametrize("body", [[1, 2], "text", 7, None])
def test_an_error_whose_json_is_not_an_object_is_classed_by_its_status(body: Any) -> None:
    error = error_from_response(answer(429, body))
    assert isinstance(error, RateLimitError)
    assert (error.message, error.code) == ("HTTP 429 without an error message", None)


def test_only_a_content_filter_error_takes_the_content_filter_notes() -> None:
    body = {"error": {"code": "1302", "message": "busy"}, "contentFilter": [{"role": "user", "level": 2}]}
    error = error_from_response(answer(429, body))
    assert isinstance(error, RateLimitError)
    assert "content_filter" not in vars(error)


def test_a_result_s_request_id_header_that_echoes_the_key_is_masked() -> None:
    body = {"data": [{"url": "https://x/1.png"}]}
    result = result_from_response(answer(200, body, {"x-request-id": f"req {KEY}"}), REQUEST, redact=KEY)
    assert result.request_ids == (f"req {MASK}",)
