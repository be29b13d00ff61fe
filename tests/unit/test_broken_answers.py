"""What a body that failed to arrive whole means: for a 200, an error that is never resent and may be billed;
for an error status, that error with the reason its body is missing. And which bytes get decoded."""

from __future__ import annotations

import gzip

import httpx
import pytest

from zhipu_images import APIConnectionError, APITimeoutError, IncompleteResponseError, UnexpectedResponseError
from zhipu_images._bounded import BodyTooLarge, BodyUndecodable
from zhipu_images._deadline import DeadlineExceeded
from zhipu_images._exceptions import ImagesError
from zhipu_images._reading import AnswerReader, broken_answer, decoder_for, raw_chunks

NOT_RETRIED = "the image may have been generated and billed, so the request is not sent again"


def streamed(status: int, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))


def broken_success(failure: BaseException) -> ImagesError:
    response = streamed(200, b"", {"x-request-id": "r"})
    with pytest.raises(ImagesError) as caught:
        broken_answer(response, failure, 1000)
    assert caught.value.__cause__ is failure
    return caught.value


@pytest.mark.parametrize(
    ("failure", "kind", "message"),
    [
        (BodyTooLarge(), UnexpectedResponseError,
         "the 200 response is larger than the 1000 byte cap (max_response_bytes)"),
        (DeadlineExceeded(), APITimeoutError, "the 200 response did not arrive whole in time"),
        (httpx.ReadTimeout("slow"), APITimeoutError, "the 200 response did not arrive whole in time"),
        (BodyUndecodable("bad gzip"), APIConnectionError, "the 200 response could not be decoded (bad gzip)"),
        (httpx.DecodingError("bad"), APIConnectionError, "the 200 response could not be decoded (bad)"),
        (httpx.ReadError("reset"), IncompleteResponseError,
         "the 200 response broke off before it was whole (ReadError)"),
    ],
)  # fmt: skip
def test_a_broken_200_may_be_billed_and_is_never_resent(failure: BaseException, kind: type, message: str) -> None:
    error = broken_success(failure)
    assert type(error) is kind
    assert str(error).startswith(f"{message}; {NOT_RETRIED}")
    assert getattr(error, "retryable", None) is False
    assert error.may_be_billed is True
    if isinstance(error, UnexpectedResponseError):
        assert error.status_code == 200


@pytest.mark.parametrize(
    ("failure", "problem"),
    [
        (BodyTooLarge(), "a body over the 1000 byte cap (max_response_bytes)"),
        (DeadlineExceeded(), "a body that did not arrive in time"),
        (httpx.ReadTimeout("slow"), "a body that did not arrive in time"),
        (BodyUndecodable("bad gzip"), "a body that could not be decoded (bad gzip)"),
        (httpx.ReadError("reset"), "a body that broke off (ReadError)"),
    ],
)
def test_an_error_status_whose_body_broke_keeps_its_status_headers_and_why(
    failure: BaseException, problem: str
) -> None:
    response = streamed(503, b"", {"retry-after": "2"})
    answer = broken_answer(response, failure, 1000)
    assert (answer.status_code, answer.content, answer.problem) == (503, b"", problem)
    assert answer.headers["retry-after"] == "2"


def test_a_streamed_body_is_decoded_by_its_content_encoding() -> None:
    body = gzip.compress(b'{"data": []}')
    response = streamed(200, body, {"content-encoding": "gzip"})
    reader = AnswerReader(response, 1000, ())
    for chunk in raw_chunks(response):
        reader.feed(chunk)
    assert reader.answer().content == b'{"data": []}'


def test_a_body_already_read_is_not_decoded_again() -> None:
    """An in-process transport (the fake, respx) hands over the body decoded: its Content-Encoding is history."""
    response = httpx.Response(200, headers={"content-encoding": "gzip"}, content=gzip.compress(b"plain"))
    response.read()
    assert list(raw_chunks(response)) == [b"plain"]
    assert list(decoder_for(response, 10).feed(b"plain")) == [b"plain"]


def test_a_streamed_body_with_an_encoding_it_cannot_bound_is_refused() -> None:
    with pytest.raises(BodyUndecodable, match="unsupported Content-Encoding 'br'"):
        decoder_for(streamed(200, b"x", {"content-encoding": "br"}), 10)
