"""Turn an HTTP response into a result or a typed error, reading tolerantly.

The generated parsers fail on an HTML error page, an unknown status, a new enum
value or an image without ``url`` (generated/README.md); here each of those is
either kept (unknown fields and enum values) or becomes a typed error with the
response's status, code and request id.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any, NamedTuple

import httpx

from . import _exceptions as exc
from ._redact import MASK, MIN_SECRET_LENGTH, safe_text
from ._results import ContentFilter, GeneratedImage, ImagesResult
from ._validation import ImageRequest


class Answer(NamedTuple):
    """What arrived: the status, the headers, and the body read within its caps (already scrubbed of the key).

    ``problem`` says why the body is missing when it could not be read whole
    (over the cap, broken off, too slow); only error statuses get this far with
    one, since a broken 200 is never treated as an answer. A tuple: one is made per request.
    """

    status_code: int
    headers: httpx.Headers
    content: bytes
    problem: str | None = None


#: business code -> error class (reference: zhipu-error-codes.md)
_CODE_CLASSES: dict[str, type[exc.APIError]] = {
    # "401": what the platform was seen to answer for a wrong or expired key (../shared/reference), not 1002.
    **dict.fromkeys(["401", "1000", "1001", "1002", "1003", "1004"], exc.AuthenticationError),
    **dict.fromkeys(["1100", "1110", "1111", "1112", "1120", "1121"], exc.AccountError),
    "1113": exc.InsufficientBalanceError,
    **dict.fromkeys(["1200", "1210", "1212", "1213", "1214", "1215", "1231"], exc.BadRequestError),
    "1211": exc.ModelNotFoundError,
    **dict.fromkeys(["1220", "1221", "1222"], exc.PermissionDeniedError),
    **dict.fromkeys(["500", "1230", "1234"], exc.ServerError),
    **dict.fromkeys(["1300", "1301"], exc.ContentFilterError),
    **dict.fromkeys(["1302", "1305"], exc.RateLimitError),
    **dict.fromkeys(["1304", "1308", "1309", "1310"], exc.QuotaExceededError),
    # OpenAI-compatible gateways send word codes.
    **dict.fromkeys(["invalid_api_key", "invalid_authentication"], exc.AuthenticationError),
    "insufficient_quota": exc.InsufficientBalanceError,
    "rate_limit_exceeded": exc.RateLimitError,
    "content_policy_violation": exc.ContentFilterError,
    "model_not_found": exc.ModelNotFoundError,
}
#: every business code the platform documents or was seen to answer, and OpenAI-compatible word codes
DOCUMENTED_CODES = frozenset(_CODE_CLASSES)
#: codes that are worth retrying although their class is not (1120: "account unreachable, try later")
_RETRYABLE_CODES = frozenset({"1120"})

_STATUS_CLASSES: dict[int, type[exc.APIError]] = {
    400: exc.BadRequestError,
    401: exc.AuthenticationError,
    403: exc.PermissionDeniedError,
    429: exc.RateLimitError,
    434: exc.PermissionDeniedError,
    435: exc.BadRequestError,
}
_REQUEST_ID_HEADERS = frozenset({"x-request-id", "request-id", "x-log-id"})


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date (never NaN)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _request_id(response: Answer, body: Any, redact: str | None) -> str | None:
    # One pass over the (lower-cased) headers: each `name in response.headers` would be a scan of its own.
    for name, value in response.headers.multi_items():
        if name in _REQUEST_ID_HEADERS:
            return safe_text(value, redact, limit=200)
    if isinstance(body, dict):
        for candidate in (body.get("request_id"), body.get("id")):
            if isinstance(candidate, str):
                return safe_text(candidate, limit=200)  # the body was scrubbed as it arrived
    return None


def _json(content: bytes, redact: str | None = None) -> Any:
    """The parsed body; ``ValueError`` for anything that is not JSON (nesting too deep for the parser included).

    Its text is what the bytes said once ``\\u`` escapes are read: a key written with an escaped character
    passed the byte-level scrubber, and a lone surrogate (a string cut inside an emoji) cannot be written to
    a file or a terminal. Where the body has escapes, its strings are scrubbed again and such halves replaced.
    """
    try:
        data = json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return _cleaned(data, redact) if b"\\u" in content else data


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_text(text: str, redact: str | None) -> str:
    if redact and len(redact) >= MIN_SECRET_LENGTH and redact in text:
        text = text.replace(redact, MASK)
    return _SURROGATE.sub("\ufffd", text)


def _cleaned(data: Any, redact: str | None) -> Any:
    """``data`` with every string (keys too) through ``_clean_text``; iterative, as deep as the parser went."""
    if isinstance(data, str):
        return _clean_text(data, redact)
    root: list[Any] = [data]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, at = stack.pop()
        node = parent[at]
        if isinstance(node, str):
            parent[at] = _clean_text(node, redact)
        elif isinstance(node, list):
            stack.extend((node, index) for index in range(len(node)))
        elif isinstance(node, dict):
            cleaned = {_clean_text(key, redact): value for key, value in node.items()}
            parent[at] = cleaned
            stack.extend((cleaned, key) for key in cleaned)
    return root[0]


#: What a proxy's refusal of its credentials (or their absence) needs.
PROXY_CREDENTIALS = (
    "a proxy on the way asks for credentials; give them in the proxy URL "
    "(proxy='http://user:password@host:port', or in HTTP_PROXY / HTTPS_PROXY)"
)


def error_from_response(response: Answer, redact: str | None = None) -> exc.APIError:
    """The typed error for a non-success response. The business code decides; the status is the fallback.

    ``redact`` (the API key) is removed from header values quoted here; the body was scrubbed as it arrived.
    """
    status = response.status_code
    if status == 407:  # from a proxy on the way, not from the platform
        return exc.APIError(f"HTTP 407: {PROXY_CREDENTIALS}", status_code=status)
    try:
        if response.problem is not None:
            raise ValueError(response.problem)
        body = _json(response.content, redact)
    except ValueError as not_json:  # JSONDecodeError, bytes that are not text, or a body that never arrived whole
        content_type = safe_text(response.headers.get("content-type", "no content type"), redact, limit=100)
        cls = exc.ServerError if status >= 500 else _STATUS_CLASSES.get(status, exc.UnexpectedResponseError)
        what = response.problem or f"a body that is not JSON ({content_type})"
        error = cls(
            f"HTTP {status} with {what}",
            status_code=status,
            request_id=_request_id(response, None, redact),
            retry_after=parse_retry_after(response.headers),
        )
        error.__cause__ = not_json
        return error
    detail = body.get("error") if isinstance(body, dict) else None
    code = message = None
    if isinstance(detail, dict):
        raw_code, raw_message = detail.get("code"), detail.get("message")
        if isinstance(raw_code, (str, int)) and not isinstance(raw_code, bool):
            code = safe_text(str(raw_code), limit=40)
        message = raw_message if isinstance(raw_message, str) else None
    if code in _CODE_CLASSES:
        cls = _CODE_CLASSES[code]
    elif status >= 500:
        cls = exc.ServerError
    else:
        cls = _STATUS_CLASSES.get(status, exc.APIError)
    error = cls(
        safe_text(message or f"HTTP {status} without an error message"),
        status_code=status,
        code=code,
        request_id=_request_id(response, body, redact),
        retry_after=parse_retry_after(response.headers),
    )
    if isinstance(error, exc.ContentFilterError) and isinstance(body, dict):
        # The image model's 1301 carries `contentFilter` beside `error`: which side was judged unsafe.
        error.content_filter = _content_filter(body.get("contentFilter", body.get("content_filter")))
    if code in _RETRYABLE_CODES:  # "try later": the account is fine, the moment is not
        error.retryable = True
        error.scope = "request"
    return error


def result_from_response(response: Answer, request: ImageRequest, redact: str | None = None) -> ImagesResult:
    """The result of a 200 response, or ``UnexpectedResponseError`` if it breaks the contract.

    ``redact`` (the API key) is removed from header values quoted here, as in ``error_from_response``.
    """

    def unexpected(why: str) -> exc.UnexpectedResponseError:
        return exc.UnexpectedResponseError(
            f"the 200 response {why}", status_code=response.status_code, request_id=_request_id(response, body, redact)
        )

    body: Any = None
    try:
        body = _json(response.content, redact)
    except ValueError as not_json:
        raise unexpected("is not JSON") from not_json
    if not isinstance(body, dict):
        raise unexpected(f"is a JSON {type(body).__name__}, not an object")
    data = body.get("data")
    if not isinstance(data, list) or not data:
        if isinstance(body.get("error"), dict):
            raise error_from_response(response, redact=redact)
        raise unexpected("has no images in `data`")
    images, broken = [], None
    for item in data:
        try:
            images.append(_image(item, unexpected))
        except exc.UnexpectedResponseError as error:
            broken = broken or error
    created = body.get("created")
    result = ImagesResult(
        created=created if isinstance(created, int) and not isinstance(created, bool) else None,
        images=tuple(images),
        content_filter=_content_filter(body.get("content_filter")),
        request=request,
        request_ids=tuple(filter(None, [_request_id(response, body, redact)])),
        extra={k: v for k, v in body.items() if k not in _RESULT_FIELDS},
    )
    if broken is not None:  # the images that did arrive were paid for: keep them with the error
        broken.may_be_billed = True
        broken.partial_result = result if images else None
        raise broken
    return result


_IMAGE_FIELDS = ("url", "b64_json", "revised_prompt")
_RESULT_FIELDS = ("created", "data", "content_filter")


def _image(item: Any, unexpected: Any) -> GeneratedImage:
    if not isinstance(item, dict):
        raise unexpected(f"has a `data` item that is a {type(item).__name__}, not an object")
    url, b64, revised = (item.get(name) for name in _IMAGE_FIELDS)
    if not (isinstance(url, str) and url) and not (isinstance(b64, str) and b64):
        raise unexpected("has an image with neither `url` nor `b64_json`")
    return GeneratedImage(
        url=url if isinstance(url, str) and url else None,
        b64_json=b64 if isinstance(b64, str) and b64 else None,
        revised_prompt=revised if isinstance(revised, str) else None,
        extra={k: v for k, v in item.items() if k not in _IMAGE_FIELDS},
    )


def _content_filter(raw: Any) -> tuple[ContentFilter, ...]:
    if not isinstance(raw, list):
        return ()
    notes = []
    for item in raw:
        if isinstance(item, dict):
            role, level = item.get("role"), item.get("level")
            notes.append(
                ContentFilter(
                    role=str(role) if role is not None else "unknown",
                    level=level if isinstance(level, int) and not isinstance(level, bool) else None,
                )
            )
    return tuple(notes)
