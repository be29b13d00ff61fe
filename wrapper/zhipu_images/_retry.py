"""When to retry and how long to wait: one policy, used by the sync and the async client.

Retried: ``RateLimitError`` (1302, 1305, a 429 without a code), ``ServerError``
(5xx, 500, 1230, 1234), code 1120, and connection failures. Never retried:
1113 (no balance, sent as HTTP 429), quotas, auth, bad requests, content filter.

A **read timeout is not retried**: the platform may have accepted the request
and will bill the image even though the answer did not arrive in time; retrying
could pay twice. Connect and pool timeouts are retried (nothing was sent), and
so is a connection closed before any byte of the answer arrived (usually a
stale keep-alive socket the server had closed; only the library's own
transports count those bytes, so through an ``http_client`` you pass such a
close is not retried). Once a status line has arrived nothing is
retried on account of the body (``_reading``): a 200 cut short is billed.

The wait is the server's ``retry-after-ms`` / ``Retry-After`` when it sends one,
otherwise exponential backoff with full jitter. A retry whose wait would push
the total past ``max_total_wait`` is not made: the error is raised instead.
"""

from __future__ import annotations

import logging
import random

import httpx
from attrs import frozen

from . import _exceptions as exc
from ._redact import safe_text
from ._responses import PROXY_CREDENTIALS
from ._transports.exchange import ClosedBeforeAnswer

logger = logging.getLogger("zhipu_images")

#: httpx failures where the request certainly or very probably never reached the platform
_SAFE_TRANSPORT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@frozen
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_total_wait: float = 60.0

    def delay(self, error: exc.ImagesError, attempt: int, waited: float) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up and raise."""
        if attempt >= self.max_retries or not getattr(error, "retryable", False):
            return None
        requested = error.retry_after if isinstance(error, exc.APIError) else None
        if requested is not None:
            wait = requested
        else:
            wait = random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
        if waited + wait > self.max_total_wait:
            return None
        code = getattr(error, "code", None)
        logger.info(
            "retrying after %s%s: waiting %.2fs (retry %d of %d)",
            type(error).__name__,
            f" (code {code})" if code else "",
            wait,
            attempt + 1,
            self.max_retries,
        )
        return wait


def transport_error(error: httpx.RequestError) -> exc.APIConnectionError:
    """The library's error for an httpx failure; ``retryable`` says whether resending is safe.

    Besides transport failures this covers an answer httpx could not decode (a
    corrupt compressed body) and endless redirects: no usable answer reached us,
    and resending is not known to help, so those are not retried.
    """
    if isinstance(error, httpx.TimeoutException):
        failure: exc.APIConnectionError = exc.APITimeoutError(f"no answer in time ({type(error).__name__})")
    elif isinstance(error, httpx.ProxyError):  # the proxy refused the tunnel: nothing reached the platform
        why = PROXY_CREDENTIALS if str(error).startswith("407") else safe_text(str(error), limit=100)
        failure = exc.APIConnectionError(f"the proxy refused the connection: {why}")
    elif isinstance(error, httpx.TransportError):
        failure = exc.APIConnectionError(f"connection failed: {type(error).__name__}")
    else:
        failure = exc.APIConnectionError(f"the answer could not be read: {type(error).__name__}")
    failure.retryable = isinstance(error, (*_SAFE_TRANSPORT_ERRORS, ClosedBeforeAnswer))
    # Sent whole, then no answer or a broken one: the platform may be generating it, or has.
    failure.may_be_billed = isinstance(error, httpx.ReadTimeout | httpx.ReadError | httpx.RemoteProtocolError) and not (
        isinstance(error, ClosedBeforeAnswer)
    )
    return failure


def late_answer() -> exc.APITimeoutError:
    """The attempt's deadline passed before a status line arrived: never retried, the image may be billed."""
    failure = exc.APITimeoutError("no answer in time (the attempt's deadline passed)")
    failure.retryable = False
    failure.may_be_billed = True
    return failure
