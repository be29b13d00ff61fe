"""The decisions that cost or save money, pinned one by one: when to resend, how long to wait, which class
an answer is. Each case here is a way the code could be wrong that the wider tests would not notice."""

from __future__ import annotations

import email.utils
import random
import time

import httpx
import pytest

from tests.answers import answer
from zhipu_images import (
    AccountError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from zhipu_images._responses import error_from_response, parse_retry_after
from zhipu_images._retry import RetryPolicy, late_answer, transport_error
from zhipu_images._transports.exchange import ClosedBeforeAnswer, Exchange

# --- resending ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "retryable", "may_be_billed"),
    [
        (httpx.ConnectError("refused"), True, False),
        (httpx.ConnectTimeout("slow connect"), True, False),
        (httpx.PoolTimeout("no free connection"), True, False),
        (ClosedBeforeAnswer("closed before any byte"), True, False),
        # the same error without the proof that no byte arrived: the platform may have answered
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), False, True),
        (httpx.RemoteProtocolError("illegal status line"), False, True),
        (httpx.ReadTimeout("no answer in time"), False, True),
        (httpx.ReadError("reset"), False, True),
        (httpx.WriteError("broken pipe"), False, False),
        (httpx.ProxyError("407 Proxy Authentication Required"), False, False),
    ],
)
def test_only_a_request_that_never_reached_the_platform_is_resent(
    failure: httpx.RequestError, retryable: bool, may_be_billed: bool
) -> None:
    error = transport_error(failure)
    assert (error.retryable, error.may_be_billed) == (retryable, may_be_billed)
    assert isinstance(error, APITimeoutError) == isinstance(failure, httpx.TimeoutException)


def test_an_exchange_is_unanswered_only_when_written_and_nothing_read_since() -> None:
    exchange = Exchange()
    assert not exchange.unanswered  # nothing written yet
    exchange.wrote()
    assert exchange.unanswered
    exchange.received += 1
    assert not exchange.unanswered
    exchange.wrote()  # a tunnel's CONNECT answer, then the request itself
    assert exchange.unanswered


# --- waiting ------------------------------------------------------------------------------------------------------


def _retryable(retry_after: float | None = None) -> APIError:
    error = RateLimitError("busy", status_code=429, code="1302", retry_after=retry_after)
    error.retryable = True
    return error


def test_the_backoff_doubles_from_half_a_second_up_to_eight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # the top of each jitter range
    policy = RetryPolicy(max_retries=10)
    assert [policy.delay(_retryable(), attempt, 0.0) for attempt in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_the_jitter_is_drawn_from_zero_to_the_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        drawn.append((low, high))
        return low

    monkeypatch.setattr(random, "uniform", uniform)
    assert RetryPolicy().delay(_retryable(), 1, 0.0) == 0.0
    assert drawn == [(0, 1.0)]


def test_the_total_wait_is_capped_at_sixty_seconds_by_default() -> None:
    policy = RetryPolicy()
    assert policy.delay(_retryable(retry_after=59.0), 0, 1.0) == 59.0  # exactly at the cap: waited
    assert policy.delay(_retryable(retry_after=59.0), 0, 1.5) is None  # past it: raised instead


def test_retries_stop_at_max_retries_and_never_for_what_is_not_retryable() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay(_retryable(retry_after=1.0), 1, 0.0) == 1.0
    assert policy.delay(_retryable(retry_after=1.0), 2, 0.0) is None
    final = RateLimitError("busy", status_code=429, code="1302", retry_after=1.0)
    final.retryable = False
    assert policy.delay(final, 0, 0.0) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": email.utils.formatdate(time.time() - 3600, usegmt=True)}, 0.0),
        ({"retry-after-ms": "0"}, 0.0),
        ({"retry-after-ms": "soon", "retry-after": "2"}, 2.0),
    ],
)
def test_a_retry_after_now_or_in_the_past_means_no_wait(headers: dict[str, str], expected: float) -> None:
    assert parse_retry_after(httpx.Headers(headers)) == expected


# --- which class an answer is -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["401", "1000", "1001", "1002", "1003", "1004"])
@pytest.mark.parametrize("status", [400, 429, 500])
def test_an_authentication_code_decides_the_class_whatever_the_status(code: str, status: int) -> None:
    error = error_from_response(answer(status, {"error": {"code": code, "message": "bad key"}}))
    assert type(error) is AuthenticationError
    assert error.scope == "account"


@pytest.mark.parametrize("status", [400, 429, 500])
def test_an_account_code_decides_the_class_whatever_the_status(status: int) -> None:
    assert type(error_from_response(answer(status, {"error": {"code": "1100", "message": "m"}}))) is AccountError


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, BadRequestError), (401, AuthenticationError), (403, PermissionDeniedError), (435, BadRequestError)],
)
def test_without_a_known_code_the_status_decides(status: int, expected: type[APIError]) -> None:
    assert type(error_from_response(answer(status, {"error": {"code": "9999", "message": "m"}}))) is expected
    assert type(error_from_response(answer(status, {"error": {"message": "m"}}))) is expected


@pytest.mark.parametrize("body", [b"Internal Server Error", {"error": {"message": "boom"}}])
def test_a_plain_or_json_500_is_a_server_error_and_retried(body: object) -> None:
    error = error_from_response(answer(500, body))
    assert type(error) is ServerError
    assert error.retryable


def test_a_body_that_is_not_json_keeps_its_cause() -> None:
    error = error_from_response(answer(418, b"<html>teapot</html>"))
    assert type(error) is UnexpectedResponseError
    assert isinstance(error.__cause__, ValueError)


def test_a_proxy_s_407_says_what_the_proxy_needs() -> None:
    error = error_from_response(answer(407, b'{"error": {"code": "1302"}}'))
    assert "a proxy on the way asks for credentials" in str(error)
    assert (type(error), error.status_code, error.code) == (APIError, 407, None)  # the proxy's, whatever the body


def test_a_failed_connection_error_is_a_connection_error() -> None:
    assert type(transport_error(httpx.ConnectError("refused"))) is APIConnectionError


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (httpx.ReadTimeout("x"), "no answer in time (ReadTimeout)"),
        (httpx.ConnectError("x"), "connection failed: ConnectError"),
        (httpx.DecodingError("x"), "the answer could not be read: DecodingError"),
        (httpx.ProxyError("403 Forbidden\x1b[2J"), "the proxy refused the connection: 403 Forbidden\\x1b[2J"),
        (httpx.ProxyError("407 Proxy Authentication Required"), "the proxy refused the connection: a proxy on the way"),
    ],
)
def test_a_transport_failure_says_what_happened(failure: httpx.RequestError, message: str) -> None:
    """The failure's kind, never its text beyond a proxy's status (its escapes written out)."""
    assert str(transport_error(failure)).startswith(message)


def test_a_late_answer_is_a_timeout_that_may_be_billed_and_is_not_resent() -> None:
    error = late_answer()
    assert str(error) == "no answer in time (the attempt's deadline passed)"
    assert error.retryable is False
    assert error.may_be_billed is True


def test_an_error_that_does_not_say_it_is_retryable_is_not_retried() -> None:
    from zhipu_images import RequestValidationError

    error = RequestValidationError("size", "format", "cannot read size 'x'")
    assert not hasattr(type(error), "retryable")
    assert RetryPolicy().delay(error, 0, 0.0) is None


def test_each_retry_is_logged_with_its_cause_code_and_wait(caplog: pytest.LogCaptureFixture) -> None:
    policy = RetryPolicy()
    with caplog.at_level("INFO", logger="zhipu_images"):
        policy.delay(ServerError("busy", status_code=500, code="1234", retry_after=1.5), 0, 0.0)
        policy.delay(APIConnectionError("refused"), 1, 0.0)
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == "retrying after ServerError (code 1234): waiting 1.50s (retry 1 of 2)"
    assert messages[1].startswith("retrying after APIConnectionError: waiting ")
    assert messages[1].endswith("s (retry 2 of 2)")


def test_a_proxy_s_long_refusal_is_quoted_within_a_hundred_characters() -> None:
    error = transport_error(httpx.ProxyError("5" * 150))
    assert str(error).endswith("the proxy refused the connection: " + "5" * 100 + "… (150 characters)")
