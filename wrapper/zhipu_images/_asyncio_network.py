"""httpcore's network layer for ``AsyncImagesClient``, on asyncio's own transports rather than anyio's streams.

Why: httpcore's default async backend goes through anyio, which yields to the event loop on every write
and every read of data already there, and builds a dict of socket attributes (with a ``getpeername``
system call) each time the pool asks whether an idle connection was closed, which it does for every
idle connection on every request and every answer. Under a batch's load that was a fifth of the
client's time (bench/faulted_batch.py).

Only the sockets change: httpcore's pool, its HTTP/1.1 and its locks stay. Each operation raises the
error httpcore's anyio backend raises in the same situation, since the retry policy reads them
(``_retry``): a refused or timed-out connect or TLS handshake is ``ConnectError`` / ``ConnectTimeout``
(nothing was sent: retried); a connection reset is ``ReadError`` / ``WriteError`` (maybe billed: not
retried); a connection the server closed reads as ``b""``, which httpcore reports as "Server
disconnected without sending a response" when no answer had begun.

Memory is bounded: reading from the socket pauses while more than ``PAUSE_AT`` bytes wait unread.

Small writes are sent together: httpcore writes a request's headers and its body separately, and each
``send`` on loopback cost 150-350 us in our benchmark VM and woke the server twice. What is written is
held until the stream is read (httpcore reads the answer next), the loop's next turn, or ``SEND_AT`` bytes.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable

#: Unread bytes at which reading from the socket pauses, and at or below which it resumes.
PAUSE_AT = 256 * 1024
RESUME_AT = 64 * 1024
#: Bytes written but held back at which they are sent at once (and the write waits for the socket).
SEND_AT = 64 * 1024
#: RFC 8305's delay before trying a host's next address, as anyio's ``connect_tcp`` uses.
HAPPY_EYEBALLS_DELAY = 0.25

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class _Connection(asyncio.Protocol):
    """What arrived on one connection, and whether it may be written to; shared by its plain and TLS streams."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.unread = 0
        self.at_eof = False
        #: why the connection was lost, when it was lost by an error
        self.error: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        self.reading_paused = False
        self.arrived: asyncio.Future[None] | None = None
        self.writable: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.unread += len(data)
        if self.unread > PAUSE_AT and not self.reading_paused and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        _wake(self.arrived)

    def eof_received(self) -> bool:
        self.at_eof = True
        _wake(self.arrived)
        return False  # the transport closes itself

    def connection_lost(self, error: Exception | None) -> None:
        self.error = error
        self.at_eof = True
        _wake(self.arrived)
        _wake(self.writable)

    def pause_writing(self) -> None:
        if self.writable is None or self.writable.done():
            self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        _wake(self.writable)

    def take(self, max_bytes: int) -> bytes:
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            chunk, rest = chunk[:max_bytes], chunk[max_bytes:]
            self.chunks.appendleft(rest)
        self.unread -= len(chunk)
        if self.reading_paused and self.unread <= RESUME_AT and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()
        return chunk


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, connection: _Connection) -> None:
        self._transport = transport
        self._connection = connection
        #: asyncio's view of the socket (``trsock.TransportSocket``), or None for a transport without one
        self._socket: Any = transport.get_extra_info("socket")
        #: written, not yet handed to the transport
        self._held: list[bytes] = []
        self._held_size = 0

    def _send_held(self) -> None:
        if self._held:
            data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
            self._held.clear()
            self._held_size = 0
            self._transport.write(data)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._send_held()
        connection = self._connection
        if not connection.chunks and not connection.at_eof:
            connection.arrived = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await connection.arrived
            except TimeoutError as late:
                raise httpcore.ReadTimeout(str(late) or "timed out") from late
            finally:
                connection.arrived = None
        if connection.chunks:
            return connection.take(max_bytes)
        if connection.error is not None:
            raise httpcore.ReadError(str(connection.error)) from connection.error
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        connection = self._connection
        if connection.error is not None:
            raise httpcore.WriteError(str(connection.error)) from connection.error
        # On a connection the server has closed, asyncio drops the bytes; the read that follows reports it,
        # as with anyio's streams.
        self._held.append(buffer)
        self._held_size += len(buffer)
        if self._held_size < SEND_AT:
            if len(self._held) == 1:  # sent on the loop's next turn if nothing reads before
                asyncio.get_running_loop().call_soon(self._send_held)
            return
        self._send_held()
        waiter = connection.writable
        if waiter is not None and not waiter.done():
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError as late:
                raise httpcore.WriteTimeout(str(late) or "timed out") from late
            if connection.error is not None:
                raise httpcore.WriteError(str(connection.error)) from connection.error

    async def aclose(self) -> None:
        # What is still held is dropped: httpcore closes a connection it wrote to without reading only when
        # the request was abandoned, better never sent. (asyncio drops writes after ``close`` too, but not
        # while the transport still has older bytes to send.)
        self._held.clear()
        self._held_size = 0
        # As httpcore's anyio backend: no TLS close_notify exchange (``standard_compatible=False``).
        if self._transport.get_extra_info("ssl_object") is not None:
            self._transport.abort()
        else:
            self._transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        self._send_held()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as late:
            self._transport.abort()
            raise httpcore.ConnectTimeout(str(late) or "timed out") from late
        except (OSError, ssl.SSLError) as failure:  # a bad certificate, a reset during the handshake
            self._transport.abort()
            raise httpcore.ConnectError(str(failure)) from failure
        except BaseException:
            self._transport.abort()
            raise
        if transport is None:  # the loop gives None only for a transport already closing
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)
        self._connection.transport = transport
        return AsyncioStream(transport, self._connection)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # What the loop has delivered answers without a system call. While it reads the socket, an end it
            # has not delivered came during this very turn of the loop: the race any check has (the close
            # may come a microsecond after it), and httpcore's answer to it, "disconnected without sending a
            # response", is resent. Only while reading is paused is the socket asked, as httpcore does (no
            # socket counts as an end, as there). The pool asks this of every idle connection on every
            # request and answer: a poll each, 7-40 us in our benchmark VM, about 4 per generation in a batch.
            connection = self._connection
            if connection.chunks or connection.at_eof:
                return True
            if self._socket is not None and not connection.reading_paused:
                return False
            return is_socket_readable(self._socket)
        if info == "socket":
            return self._socket
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        connect = loop.create_connection(
            _Connection,
            host,
            port,
            local_addr=(local_address, 0) if local_address else None,
            happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
        )
        return await self._connected(connect, timeout, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.AsyncNetworkStream:
        connect = asyncio.get_running_loop().create_unix_connection(_Connection, path)
        return await self._connected(connect, timeout, socket_options)

    async def _connected(
        self, connect: Any, timeout: float | None, socket_options: Iterable[SocketOption] | None
    ) -> AsyncioStream:
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await connect
        except TimeoutError as late:  # before OSError: TimeoutError is one
            raise httpcore.ConnectTimeout(str(late) or "timed out") from late
        except OSError as failure:  # refused, unreachable, no such host
            raise httpcore.ConnectError(str(failure)) from failure
        stream = AsyncioStream(transport, connection)
        sock = stream.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return stream

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def asyncio_transport(limits: httpx.Limits, tls: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    """httpx's own async transport, its connections on ``AsyncioBackend``.

    httpx does not take a network backend, so it is set on the transport's connection pool; if a later
    httpx moves it, the transport is used as it is (anyio's streams) and the tests say so."""
    transport = httpx.AsyncHTTPTransport(limits=limits, verify=tls)
    pool = getattr(transport, "_pool", None)
    if isinstance(getattr(pool, "_network_backend", None), httpcore.AsyncNetworkBackend):
        pool._network_backend = AsyncioBackend()  # type: ignore[union-attr]
    return transport
