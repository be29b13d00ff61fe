"""httpx transports on httpcore's connection pools and proxies, with the library's network backends.

What httpx's ``HTTPTransport`` does, on httpcore's public API only: the request handed to a pool (or a
proxy, which is a pool of its own), the answer's body streamed, and httpcore's errors raised as httpx's.
One addition: a connection closed before any byte of the answer is ``ClosedBeforeAnswer`` (``exchange``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from .exchange import CURRENT, ClosedBeforeAnswer, Exchange
from .network import CountedBackend, DeadlineBackend

if TYPE_CHECKING:
    import ssl

#: httpcore's errors and httpx's, the more specific first: the first that matches is raised.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _as_httpx(error: Exception, request: httpx.Request, exchange: Exchange | None = None) -> Exception:
    if exchange is not None and exchange.unanswered and isinstance(error, httpcore.RemoteProtocolError):
        return ClosedBeforeAnswer(str(error), request=request)
    for core, mapped in _ERRORS:
        if isinstance(error, core):
            return mapped(str(error), request=request)
    return error


@contextlib.contextmanager
def _mapped(request: httpx.Request, exchange: Exchange | None = None) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        mapped = _as_httpx(error, request, exchange)
        if mapped is error:
            raise
        raise mapped from error


def _core_request(request: httpx.Request) -> httpcore.Request:
    url = request.url
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


def _proxy_url(proxy: httpx.Proxy) -> httpcore.URL:
    url = proxy.url
    return httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)


def _pool(
    kinds: tuple[Any, Any, Any], limits: httpx.Limits, tls: ssl.SSLContext, proxy: httpx.Proxy | None, backend: Any
) -> Any:
    """A pool of the kind ``proxy`` asks for: ``kinds`` are httpcore's (sync or async) plain, HTTP-proxy and
    SOCKS-proxy pools."""
    plain, http_proxy, socks_proxy = kinds
    options: dict[str, Any] = {
        "ssl_context": tls,
        "network_backend": backend,
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }
    if proxy is None:
        return plain(**options)
    if proxy.url.scheme in ("http", "https"):
        return http_proxy(
            proxy_url=_proxy_url(proxy),
            proxy_auth=proxy.raw_auth,
            proxy_headers=proxy.headers.raw,
            proxy_ssl_context=proxy.ssl_context,
            **options,
        )
    return socks_proxy(proxy_url=_proxy_url(proxy), proxy_auth=proxy.raw_auth, **options)


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, stream: Any, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _mapped(self._request):
            yield from self._stream

    def close(self) -> None:
        self._stream.close()


class SyncTransport(httpx.BaseTransport):
    """httpx's sync transport, its reads bound by the attempt's deadline (``network.DeadlineBackend``)."""

    def __init__(self, limits: httpx.Limits, tls: ssl.SSLContext, proxy: httpx.Proxy | None = None) -> None:
        kinds = (httpcore.ConnectionPool, httpcore.HTTPProxy, httpcore.SOCKSProxy)
        self._connections = _pool(kinds, limits, tls, proxy, DeadlineBackend())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange = Exchange()
        token = CURRENT.set(exchange)
        try:
            with _mapped(request, exchange):
                answer = self._connections.handle_request(_core_request(request))
        finally:
            CURRENT.reset(token)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_SyncBody(answer.stream, request),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        self._connections.close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: Any, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self._request):
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        await self._stream.aclose()


class AsyncTransport(httpx.AsyncBaseTransport):
    """httpx's async transport (an attempt's deadline is ``asyncio.timeout``, set by the client)."""

    def __init__(self, limits: httpx.Limits, tls: ssl.SSLContext, proxy: httpx.Proxy | None = None) -> None:
        kinds = (httpcore.AsyncConnectionPool, httpcore.AsyncHTTPProxy, httpcore.AsyncSOCKSProxy)
        self._connections = _pool(kinds, limits, tls, proxy, CountedBackend())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = Exchange()
        token = CURRENT.set(exchange)
        try:
            with _mapped(request, exchange):
                answer = await self._connections.handle_async_request(_core_request(request))
        finally:
            CURRENT.reset(token)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_AsyncBody(answer.stream, request),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self._connections.aclose()
