"""Reading one API answer: bounded in size, within the deadline, scrubbed of the key; and what a broken one means.

The sync and async clients feed the raw chunks they receive; everything else
is decided here, once. The rule that protects the user's money: **once a
status line has arrived, the request is never sent again.** A 200 whose body
breaks off, runs over the cap or arrives too slowly may describe an image that
was generated and billed; it raises an error with ``may_be_billed`` that the
retry policy does not retry. An error status with a broken body is still that
error (the platform does not bill errors), so its class decides as usual.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx

from . import _exceptions as exc
from ._bounded import BodyTooLarge, BodyUndecodable, BoundedDecoder
from ._deadline import DeadlineExceeded
from ._redact import scrub_body
from ._responses import Answer

#: What ``AnswerReader.broken`` understands: the ways a body can fail to arrive whole.
BODY_FAILURES = (httpx.RequestError, DeadlineExceeded, BodyTooLarge, BodyUndecodable)


def decoder_for(response: httpx.Response, cap: int) -> BoundedDecoder:
    """The bounded decoder for ``response``'s raw chunks (``raw_chunks``/``araw_chunks``)."""
    encoding = None if response.is_stream_consumed else response.headers.get("content-encoding")
    return BoundedDecoder(encoding, cap)


def raw_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body as it comes off the network; an in-process transport (the fake, respx) hands over
    the whole body at once, already decoded, so it is taken as one chunk."""
    if response.is_stream_consumed:
        return iter((response.content,))
    return response.iter_raw()  # the transport's own chunks: no re-chunking on the hot path


async def araw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """``raw_chunks`` for the async client."""
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk


class AnswerReader:
    """Collects one answer's body from raw chunks; raises one of ``BODY_FAILURES`` if it cannot."""

    __slots__ = ("_decoder", "_parts", "response", "secret_forms")

    def __init__(self, response: httpx.Response, cap: int, secret_forms: tuple[bytes, ...]) -> None:
        self.response = response
        self.secret_forms = secret_forms
        self._parts: list[bytes] = []
        self._decoder = decoder_for(response, cap)

    def feed(self, chunk: bytes) -> None:
        self._parts.extend(self._decoder.feed(chunk))

    def answer(self) -> Answer:
        self._parts.append(self._decoder.flush())
        content = scrub_body(b"".join(self._parts), self.secret_forms)
        return Answer(self.response.status_code, self.response.headers, content)


def broken_answer(response: httpx.Response, failure: BaseException, cap: int) -> Answer:
    """The answer of an error status whose body failed; for a 200, raises the error that must not be retried."""
    status = response.status_code
    if status == 200:
        raise _broken_success(failure, cap) from failure
    return Answer(status, response.headers, b"", problem=_what_broke(failure, cap))


_NOT_RETRIED = "the image may have been generated and billed, so the request is not sent again"


def _broken_success(failure: BaseException, cap: int) -> exc.ImagesError:
    error: exc.ImagesError
    if isinstance(failure, BodyTooLarge):
        error = exc.UnexpectedResponseError(
            f"the 200 response is larger than the {cap} byte cap (max_response_bytes); {_NOT_RETRIED}", status_code=200
        )
    elif isinstance(failure, DeadlineExceeded | httpx.TimeoutException):
        error = exc.APITimeoutError(f"the 200 response did not arrive whole in time; {_NOT_RETRIED}")
    elif isinstance(failure, BodyUndecodable | httpx.DecodingError):
        error = exc.APIConnectionError(f"the 200 response could not be decoded ({failure}); {_NOT_RETRIED}")
    else:
        error = exc.IncompleteResponseError(
            f"the 200 response broke off before it was whole ({type(failure).__name__}); {_NOT_RETRIED}"
        )
    error.retryable = False
    error.may_be_billed = True
    return error


def _what_broke(failure: BaseException, cap: int) -> str:
    if isinstance(failure, BodyTooLarge):
        return f"a body over the {cap} byte cap (max_response_bytes)"
    if isinstance(failure, DeadlineExceeded | httpx.TimeoutException):
        return "a body that did not arrive in time"
    if isinstance(failure, BodyUndecodable):
        return f"a body that could not be decoded ({failure})"
    return f"a body that broke off ({type(failure).__name__})"
