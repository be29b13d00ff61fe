"""The sync transport's deadline: an httpcore network backend that clamps each socket read to the time left.

Loaded when a sync client builds its own transport (``_deadline.deadline_transport``), not by
``import zhipu_images``: httpx itself imports httpcore only when a client is made.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

if TYPE_CHECKING:
    import ssl

from ._deadline import DEADLINE


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    at = DEADLINE.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the attempt's total deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose reads end by the deadline. Writes keep their own timeout: a request body
    is small enough for the socket's buffer, so only reading can be stretched by the server."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        # Bound directly, not delegated: httpcore calls these on every request.
        self.write = stream.write  # type: ignore[method-assign]
        self.close = stream.close  # type: ignore[method-assign]
        self.get_extra_info = stream.get_extra_info  # type: ignore[method-assign]

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(stream)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync backend with every operation's timeout clamped to the current deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_transport(limits: httpx.Limits, tls: ssl.SSLContext) -> httpx.HTTPTransport:
    """httpx's own transport, its socket operations bound by the current deadline.

    httpx does not take a network backend, so it is set on the transport's
    connection pool; if a later httpx moves it, the transport is used as it is
    (the body loop's deadline still applies) and the tests say so.
    """
    transport = httpx.HTTPTransport(limits=limits, verify=tls)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport
