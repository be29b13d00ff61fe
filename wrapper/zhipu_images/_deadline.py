"""A total deadline for each request attempt and each download, on top of httpx's per-operation timeouts.

httpx (and openai-python, which passes its ``timeout`` to httpx) applies a
timeout to each network operation: connecting, each write, each read. A server
that sends one byte every second never trips a 60 s read timeout, and keeps a
call busy for as long as it likes. Here ``timeout`` also sets a deadline for
the whole attempt (connecting, sending, waiting, reading the answer) and for a
whole download: its read value, i.e. the number you passed (``timeout=60``: an
attempt ends within 60 s). ``timeout=None`` sets no deadline.

- async: the attempt runs under ``asyncio.timeout``, whatever httpx client is used.
- sync: a blocking socket read cannot be interrupted from outside, so the
  client's own transport clamps every socket operation's timeout to what is
  left of the deadline (``DeadlineBackend``, an httpcore network backend), and
  the body loop checks the deadline between chunks. With an ``http_client``
  you pass, only the body loop applies: one read may outlast the deadline by
  that client's read timeout.
"""

from __future__ import annotations

import contextvars
import time
from typing import Any

import httpcore
import httpx

#: monotonic time by which the current attempt must end, for the sync transport's socket operations
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("zhipu_images_deadline", default=None)


class DeadlineExceeded(Exception):
    """The attempt's total deadline passed."""


def deadline_seconds(timeout: httpx.Timeout) -> float | None:
    """The total time one attempt may take: the timeout's read value (None: no deadline)."""
    return timeout.read


def expiry(timeout: httpx.Timeout) -> float | None:
    seconds = deadline_seconds(timeout)
    return None if seconds is None else time.monotonic() + seconds


def check(at: float | None) -> None:
    if at is not None and time.monotonic() >= at:
        raise DeadlineExceeded


def enter(at: float | None) -> contextvars.Token[float | None]:
    """Make ``at`` the deadline of the sync transport's socket operations until ``leave``.

    A pair of calls rather than a context manager: this is on every request's path."""
    return _DEADLINE.set(at)


def leave(token: contextvars.Token[float | None]) -> None:
    _DEADLINE.reset(token)


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    at = _DEADLINE.get()
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


def deadline_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's own transport, its socket operations bound by the current deadline.

    httpx does not take a network backend, so it is set on the transport's
    connection pool; if a later httpx moves it, the transport is used as it is
    (the body loop's deadline still applies) and the tests say so.
    """
    transport = httpx.HTTPTransport(limits=limits)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport
