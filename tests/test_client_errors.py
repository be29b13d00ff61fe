"""Typed errors and retries: one table, run against the sync and the async client alike."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

import zhipu_images._async_client
import zhipu_images._client
from tests.drivers import DRIVERS, Driver
from zhipu_images import (
    AccountError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentFilter,
    ContentFilterError,
    ImagesError,
    InsufficientBalanceError,
    ModelNotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from zhipu_images._responses import parse_retry_after
from zhipu_images._transports.exchange import ClosedBeforeAnswer

URL = "https://open.bigmodel.cn/api/paas/v4/images/generations"
OK = {"created": 1700000000, "data": [{"url": "https://cdn.test/a.png"}]}


@pytest.fixture(params=DRIVERS, ids=lambda d: d.kind)
def driver(request: pytest.FixtureRequest) -> Driver:
    cls: type[Driver] = request.param
    return cls(max_retries=2)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every retry wait the clients would sleep, recorded instead of slept."""
    recorded: list[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(zhipu_images._client, "_sleep", recorded.append)
    monkeypatch.setattr(zhipu_images._async_client, "_async_sleep", async_sleep)
    return recorded


@pytest.fixture
def api() -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(URL)


def error_body(code: str, message: str = "msg") -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


# (status, JSON body or raw bytes, expected class, business code, retried?)
ERROR_TABLE: list[tuple[int, Any, type[ImagesError], str | None, bool]] = [
    *[(401, error_body(c), AuthenticationError, c, False) for c in ["1000", "1001", "1002", "1003", "1004"]],
    *[(434, error_body(c), PermissionDeniedError, c, False) for c in ["1220", "1221", "1222"]],
    *[(400, error_body(c), BadRequestError, c, False) for c in ["1200", "1210", "1212", "1213", "1214", "1215"]],
    (400, error_body("1211"), ModelNotFoundError, "1211", False),
    *[(400, error_body(c), ContentFilterError, c, False) for c in ["1300", "1301"]],
    *[(429, error_body(c), RateLimitError, c, True) for c in ["1302", "1305"]],
    (429, {"error": {"message": "slow down"}}, RateLimitError, None, True),
    (429, b"Too Many Requests", RateLimitError, None, True),
    (429, error_body("1113"), InsufficientBalanceError, "1113", False),
    *[(429, error_body(c), QuotaExceededError, c, False) for c in ["1304", "1308", "1309", "1310"]],
    *[(429, error_body(c), AccountError, c, False) for c in ["1110", "1111", "1112", "1121"]],
    (500, error_body("1120"), AccountError, "1120", True),
    *[(500, error_body(c), ServerError, c, True) for c in ["500", "1230", "1234"]],
    (503, b"<html><body>503 Service Unavailable</body></html>", ServerError, None, True),
    (502, b"", ServerError, None, True),
    (434, {"unexpected": "shape"}, PermissionDeniedError, None, False),
    (418, error_body("9999"), APIError, "9999", False),
    (200, b"<html>not json</html>", UnexpectedResponseError, None, False),
    (200, [1, 2], UnexpectedResponseError, None, False),
    (200, {"created": 1, "data": []}, UnexpectedResponseError, None, False),
    (200, {"created": 1, "data": [{"revised_prompt": "x"}]}, UnexpectedResponseError, None, False),
    (200, {"created": 1, "data": ["https://cdn.test/a.png"]}, UnexpectedResponseError, None, False),
]


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers={"content-type": "text/html", **(headers or {})})
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(("status", "body", "expected", "code", "retried"), ERROR_TABLE)
def test_every_error_maps_to_its_class_and_only_retryable_ones_retry(
    driver: Driver,
    api: respx.Route,
    waits: list[float],
    status: int,
    body: Any,
    expected: type[ImagesError],
    code: str | None,
    retried: bool,
) -> None:
    api.mock(return_value=_response(status, body, {"x-request-id": "req-42"}))
    with pytest.raises(expected) as info:
        driver.generate("a cat")
    error = info.value
    assert type(error) is expected
    assert isinstance(error, APIError)
    assert (error.status_code, error.code, error.request_id) == (status, code, "req-42")
    assert error.retryable is retried
    assert api.call_count == (3 if retried else 1)
    assert len(waits) == (2 if retried else 0)


#: The business codes after which every further request with the same key fails the same way.
ACCOUNT_CODES = {"1000", "1001", "1002", "1003", "1004", "1110", "1111", "1112", "1113", "1121", "1220", "1221"}
ACCOUNT_CODES |= {"1222", "1304", "1308", "1309", "1310"}


@pytest.mark.parametrize(("status", "body", "expected", "code", "retried"), ERROR_TABLE)
def test_an_error_s_scope_says_whether_the_account_or_the_request_failed(
    driver: Driver,
    api: respx.Route,
    waits: list[float],
    status: int,
    body: Any,
    expected: type[ImagesError],
    code: str | None,
    retried: bool,
) -> None:
    api.mock(return_value=_response(status, body))
    with pytest.raises(expected) as info:
        driver.generate("a cat")
    account = code in ACCOUNT_CODES or (code is None and status in (401, 434))
    assert info.value.scope == ("account" if account else "request"), (status, code)


def test_balance_exhausted_is_never_retried_although_sent_as_429(
    driver: Driver, api: respx.Route, waits: list[float]
) -> None:
    api.mock(return_value=_response(429, error_body("1113", "您的账户已欠费"), {"retry-after": "1"}))
    with pytest.raises(InsufficientBalanceError, match="1113"):
        driver.generate("a cat")
    assert api.call_count == 1
    assert waits == []


def test_not_json_error_keeps_the_decode_error_as_cause(driver: Driver, api: respx.Route) -> None:
    api.mock(return_value=_response(200, b"<html>oops</html>"))
    with pytest.raises(UnexpectedResponseError) as info:
        driver.generate("a cat")
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "3", "retry-after-ms": "250"}, 0.25),
    ],
)
def test_retry_waits_what_the_server_asks(
    driver: Driver, api: respx.Route, waits: list[float], headers: dict[str, str], expected_wait: float
) -> None:
    api.side_effect = [_response(429, error_body("1302"), headers), _response(200, OK)]
    assert driver.generate("a cat").images[0].url == "https://cdn.test/a.png"
    assert waits == [expected_wait]


def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    wait = parse_retry_after(httpx.Headers({"retry-after": when}))
    assert wait is not None
    assert 28 <= wait <= 31
    assert parse_retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert parse_retry_after(httpx.Headers({})) is None


def test_a_wait_beyond_the_total_cap_is_not_made(driver: Driver, api: respx.Route, waits: list[float]) -> None:
    api.mock(return_value=_response(429, error_body("1302"), {"retry-after": "3600"}))
    with pytest.raises(RateLimitError) as info:
        driver.generate("a cat")
    assert info.value.retry_after == 3600
    assert api.call_count == 1
    assert waits == []


def test_backoff_without_retry_after_is_jittered_exponential(
    driver: Driver, api: respx.Route, waits: list[float]
) -> None:
    api.mock(return_value=_response(500, error_body("500")))
    with pytest.raises(ServerError):
        driver.generate("a cat")
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.5
    assert 0 <= waits[1] <= 1.0


def test_max_retries_zero_sends_once(api: respx.Route, waits: list[float]) -> None:
    for cls in DRIVERS:
        api.reset()
        api.mock(return_value=_response(429, error_body("1302")))
        with pytest.raises(RateLimitError):
            cls(max_retries=0).generate("a cat")
        assert api.call_count == 1
    assert waits == []


def test_each_retry_is_logged_with_code_and_wait(
    driver: Driver, api: respx.Route, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    api.side_effect = [_response(429, error_body("1305"), {"retry-after": "2"}), _response(200, OK)]
    with caplog.at_level(logging.INFO, logger="zhipu_images"):
        driver.generate("a cat")
    messages = [r.getMessage() for r in caplog.records if r.name == "zhipu_images"]
    assert messages == ["retrying after RateLimitError (code 1305): waiting 2.00s (retry 1 of 2)"]


@pytest.mark.parametrize(
    ("failure", "expected", "retried"),
    [
        (httpx.ConnectError("refused"), APIConnectionError, True),
        (httpx.ConnectTimeout("slow connect"), APITimeoutError, True),
        (httpx.PoolTimeout("pool"), APITimeoutError, True),
        # The library's transports tell a close before any byte of the answer from one part-way through it;
        # the same words from another transport prove nothing, and the request may have been billed.
        (ClosedBeforeAnswer("Server disconnected without sending a response."), APIConnectionError, True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), APIConnectionError, False),
        (httpx.RemoteProtocolError("illegal status line"), APIConnectionError, False),
        (httpx.ReadTimeout("slow answer"), APITimeoutError, False),
        (httpx.ReadError("reset mid-answer"), APIConnectionError, False),
        (httpx.DecodingError("corrupt gzip body"), APIConnectionError, False),
        (httpx.TooManyRedirects("redirect loop"), APIConnectionError, False),
    ],
)
def test_transport_failures(
    driver: Driver,
    api: respx.Route,
    waits: list[float],
    failure: httpx.RequestError,
    expected: type[ImagesError],
    retried: bool,
) -> None:
    api.side_effect = failure
    with pytest.raises(expected) as info:
        driver.generate("a cat")
    assert type(info.value) is expected
    assert info.value.__cause__ is failure
    assert api.call_count == (3 if retried else 1)


def test_a_connection_failure_then_success_recovers(driver: Driver, api: respx.Route, waits: list[float]) -> None:
    api.side_effect = [httpx.ConnectError("refused"), _response(200, OK)]
    assert len(driver.generate("a cat").images) == 1
    assert api.call_count == 2


def test_a_content_filter_error_carries_the_platform_s_notes(driver: Driver, api: respx.Route) -> None:
    body = {
        "contentFilter": [{"level": 2, "role": "user"}],
        **error_body("1301", "系统检测到输入或生成内容可能包含不安全"),
    }
    api.mock(return_value=_response(400, body))
    with pytest.raises(ContentFilterError) as info:
        driver.generate("a cat")
    assert info.value.content_filter == (ContentFilter(role="user", level=2),)


def test_a_wrong_key_answered_with_code_401_is_an_account_error(driver: Driver, api: respx.Route) -> None:
    api.mock(return_value=_response(401, error_body("401", "令牌已过期或验证不正确")))
    with pytest.raises(AuthenticationError) as info:
        driver.generate("a cat")
    assert (info.value.code, info.value.scope, info.value.retryable) == ("401", "account", False)


def test_every_documented_business_code_has_an_english_explanation() -> None:
    from zhipu_images._explanations import EXPLANATIONS
    from zhipu_images._responses import DOCUMENTED_CODES

    assert {code for code in DOCUMENTED_CODES if code.isdigit()} <= set(EXPLANATIONS)


def test_an_error_says_what_the_code_means_in_english_and_keeps_the_platform_s_words(
    driver: Driver, api: respx.Route
) -> None:
    api.mock(return_value=_response(429, error_body("1113", "余额不足或无可用资源包,请充值。")))
    with pytest.raises(InsufficientBalanceError) as info:
        driver.generate("a cat")
    assert str(info.value).startswith("the account has no balance: top it up on the platform. The platform said: 余额")
    assert info.value.message == "余额不足或无可用资源包,请充值。"
