"""``_asyncio_network``: httpcore's sockets on asyncio's transports, with the errors of httpcore's anyio backend.

Each test runs a real server on loopback (plain asyncio, or TLS with a test CA from trustme) and drives
one stream; the errors matter because the retry policy reads them (a reset is maybe billed, a refused
connect is safe to resend).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpcore
import httpx
import pytest
import trustme

import zhipu_images._asyncio_network as network
from zhipu_images import AsyncImagesClient
from zhipu_images._asyncio_network import PAUSE_AT, SEND_AT, AsyncioBackend, AsyncioStream, asyncio_transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A loopback server running ``handler`` for each connection; yields its port."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def echo_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(await reader.readline())
    await writer.drain()
    await reader.read()  # until the client closes
    writer.close()


def closes_when(event: asyncio.Event) -> Handler:
    """A handler that reads nothing and closes the connection once ``event`` is set."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await event.wait()
        writer.close()

    return handler


async def connect(port: int, seconds: float | None = 5) -> AsyncioStream:
    stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=seconds)
    assert isinstance(stream, AsyncioStream)
    return stream


async def read_until(stream: httpcore.AsyncNetworkStream, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := await stream.read(65536, timeout=5)):
        data += chunk
    return data


async def test_bytes_written_come_back_and_the_stream_knows_its_addresses() -> None:
    async with serving(echo_line) as port:
        stream = await connect(port)
        await stream.write(b"hello\n", timeout=5)
        assert await read_until(stream, 6) == b"hello\n"
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
        assert stream.get_extra_info("socket").getsockname() == stream.get_extra_info("client_addr")
        assert stream.get_extra_info("ssl_object") is None
        await stream.aclose()


async def test_a_read_returns_at_most_what_was_asked_and_keeps_the_rest() -> None:
    async with serving(echo_line) as port:
        stream = await connect(port)
        await stream.write(b"0123456789\n", timeout=5)
        first = await stream.read(4, timeout=5)
        assert first == b"0123"
        assert first + await read_until(stream, 7) == b"0123456789\n"
        await stream.aclose()


async def test_an_idle_connection_is_readable_once_the_server_closes_it_and_then_reads_empty() -> None:
    """How httpcore's pool finds a keep-alive connection the server dropped: 'readable' while idle."""
    closing = asyncio.Event()
    async with serving(closes_when(closing)) as port:
        stream = await connect(port)
        assert stream.get_extra_info("is_readable") is False
        closing.set()
        for _ in range(200):  # until the FIN has arrived
            if stream.get_extra_info("is_readable"):
                break
            await asyncio.sleep(0.01)
        assert stream.get_extra_info("is_readable") is True
        assert await stream.read(65536, timeout=5) == b""  # httpcore: "Server disconnected ..."
        await stream.aclose()


async def test_while_the_loop_reads_a_socket_idle_checks_make_no_system_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpcore's pool asks every idle connection, on every request and answer, whether it was closed: the loop
    already watches the socket, so only a paused one is polled."""
    polled: list[object] = []

    def poll(sock: object) -> bool:
        polled.append(sock)
        return False

    monkeypatch.setattr(network, "is_socket_readable", poll)
    async with serving(echo_line) as port:
        stream = await connect(port)
        assert [stream.get_extra_info("is_readable") for _ in range(3)] == [False, False, False]
        assert polled == []
        stream._connection.reading_paused = True
        assert stream.get_extra_info("is_readable") is False
        assert polled == [stream.get_extra_info("socket")]
        await stream.aclose()


class _Sends:
    """Records what a stream hands its transport (a unit-level spy on a real connection)."""

    def __init__(self, stream: AsyncioStream) -> None:
        self.calls: list[bytes] = []
        transport = stream._transport
        original = transport.write

        def write(data: bytes | bytearray | memoryview) -> None:
            self.calls.append(bytes(data))
            original(data)

        transport.write = write  # type: ignore[method-assign]


async def test_a_request_written_in_pieces_goes_out_in_one_send_before_its_answer_is_read() -> None:
    """httpcore writes headers and body apart; each send woke the server and cost 150-350 us on loopback."""
    async with serving(echo_line) as port:
        stream = await connect(port)
        sends = _Sends(stream)
        await stream.write(b"POST / HTTP/1.1\r\n", timeout=5)
        await stream.write(b"body\n", timeout=5)
        assert sends.calls == []  # held until the answer is read
        assert await read_until(stream, 17) == b"POST / HTTP/1.1\r\n"  # the server echoes the first line
        assert sends.calls == [b"POST / HTTP/1.1\r\nbody\n"]
        await stream.aclose()


async def test_what_is_written_goes_out_on_the_loop_s_next_turn_even_if_nothing_reads() -> None:
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.set_result(await reader.readline())
        await reader.read()
        writer.close()

    async with serving(record) as port:
        stream = await connect(port)
        await stream.write(b"no read follows\n", timeout=5)
        assert await asyncio.wait_for(received, 5) == b"no read follows\n"
        await stream.aclose()


async def test_a_large_write_is_sent_at_once() -> None:
    async with serving(echo_line) as port:
        stream = await connect(port)
        sends = _Sends(stream)
        await stream.write(b"x" * SEND_AT, timeout=5)
        assert [len(data) for data in sends.calls] == [SEND_AT]
        await stream.aclose()


async def test_a_request_abandoned_before_it_went_out_is_never_sent() -> None:
    """Closing a connection with a request still held (httpcore does so for a cancelled request) drops it:
    the platform never sees, nor bills, a request its client gave up on."""
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.set_result(await reader.read())
        writer.close()

    async with serving(record) as port:
        stream = await connect(port)
        await stream.write(b"POST /images/generations HTTP/1.1\r\n", timeout=5)
        await stream.aclose()
        assert await asyncio.wait_for(received, 5) == b""


async def test_a_connection_reset_reads_as_a_read_error() -> None:
    """A reset after the request may follow a generation the platform bills: ReadError, which is not retried."""

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with serving(reset) as port:
        stream = await connect(port)
        await stream.write(b"request\n", timeout=5)
        with pytest.raises(httpcore.ReadError):
            await read_until(stream, 1)
        with pytest.raises(httpcore.WriteError):  # and nothing more goes out on it
            await stream.write(b"again\n", timeout=5)
        await stream.aclose()


async def test_a_read_with_nothing_arriving_times_out() -> None:
    async with serving(echo_line) as port:
        stream = await connect(port)
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(65536, timeout=0.05)
        await stream.aclose()


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as placeholder:  # a port nobody listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    with pytest.raises(httpcore.ConnectError):
        await connect(port)


async def test_a_connect_out_of_time_is_a_connect_timeout() -> None:
    async with serving(echo_line) as port:
        with pytest.raises(httpcore.ConnectTimeout):
            await connect(port, seconds=0)


async def test_a_server_that_does_not_read_makes_a_large_write_time_out() -> None:
    stop = asyncio.Event()
    async with serving(closes_when(stop)) as port:  # it never reads
        stream = await connect(port)
        with pytest.raises(httpcore.WriteTimeout):
            await stream.write(b"x" * (64 * 2**20), timeout=0.2)  # more than the kernel's buffers take
        stop.set()
        await stream.aclose()


# What the server sends faster than it is read waits, at most, PAUSE_AT bytes and one socket read more in
# the client's memory (the rest stays in the kernel and the server's buffers); and every byte arrives.
async def test_unread_bytes_stay_bounded_while_the_reader_is_slow() -> None:
    size = 16 * 2**20
    payload = bytes(range(256)) * (size // 256)

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        writer.close()

    async with serving(flood) as port:
        stream = await connect(port)
        connection = stream._connection
        received = bytearray()
        most_unread = 0
        while chunk := await stream.read(65536, timeout=5):
            received += chunk
            most_unread = max(most_unread, connection.unread)
            await asyncio.sleep(0)  # a slow reader: the loop delivers more in between
        assert bytes(received) == payload
        assert most_unread <= PAUSE_AT + 256 * 1024  # asyncio reads up to 256 KiB at a time
        await stream.aclose()


# --- TLS ------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def server_tls(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    return context


def client_tls(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


async def test_tls_is_started_on_the_connection_and_carries_the_bytes(authority: trustme.CA) -> None:
    async with serving(echo_line, server_tls(authority)) as port:
        plain = await connect(port)
        stream = await plain.start_tls(client_tls(authority), server_hostname="localhost", timeout=5)
        assert isinstance(stream.get_extra_info("ssl_object"), ssl.SSLObject)
        await stream.write(b"secret\n", timeout=5)
        assert await read_until(stream, 7) == b"secret\n"
        assert stream.get_extra_info("is_readable") is False
        await stream.aclose()


async def test_a_certificate_for_another_host_is_a_connect_error(authority: trustme.CA) -> None:
    """Refused before anything is sent: a ConnectError, like httpcore's own backend gives."""
    async with serving(echo_line, server_tls(authority)) as port:
        plain = await connect(port)
        with pytest.raises(httpcore.ConnectError):
            await plain.start_tls(client_tls(authority), server_hostname="example.com", timeout=5)


async def test_an_https_request_goes_through_the_library_transport(authority: trustme.CA) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    async with serving(answer, server_tls(authority)) as port:
        transport = asyncio_transport(httpx.Limits(), client_tls(authority))
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(f"https://localhost:{port}/")
        assert (response.status_code, response.text) == (200, "ok")


# --- the client uses it ---------------------------------------------------------------------------------------------


async def test_the_async_client_sends_on_this_backend() -> None:
    """If a later httpx moves its pool, the client falls back to anyio's streams; this test says so."""
    client = AsyncImagesClient(api_key="network-test-key.0", base_url="http://127.0.0.1:9/api/paas/v4")
    for http in (client._http, client._image_http):
        pool = getattr(http._transport, "_pool", None)
        assert isinstance(getattr(pool, "_network_backend", None), AsyncioBackend)
    await client.aclose()
