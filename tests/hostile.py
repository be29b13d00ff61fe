"""A hostile HTTP server on loopback: one mode per way a broken or malicious server can hurt a client.

Written on raw sockets, because the faults live below what an HTTP framework
lets a handler do: a ``content-length`` larger than the body, a connection
closed mid-body, headers sent a byte at a time. The mode is the first path
segment, so one server serves every mode: a client with
``base_url=f"{server.url}/cut_body/api/paas/v4"`` meets ``cut_body``.

The server counts, per mode, the requests it received and the body bytes it
managed to send before the client hung up: tests assert on those counts (an
answered 200 is requested once; a trickle stops within the deadline), not on
wall time.
"""

from __future__ import annotations

import collections
import contextlib
import json
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from functools import cache

#: What a hostile server sends to make a terminal misbehave: clear the screen, retitle it, a fake new log line.
ESCAPES = "\x1b[2J\x1b]0;pwned\x07\r\nINFO all good\u202e"
#: How long a trickling server keeps going if nobody hangs up (the tests' deadlines are far shorter).
TRICKLE_BYTES = 400
TRICKLE_INTERVAL = 0.05


def png(width: int = 4, height: int = 4) -> bytes:
    """A small real PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@cache
def gzip_bomb(inflated_mib: int = 1024, prefix: bytes = b"") -> bytes:
    """``prefix`` and then zeros, ``inflated_mib`` MiB in all, as gzip (1 GiB is ~1 MB on the wire).

    Built without compressing a GiB: after a full flush the compressor starts
    afresh, so every MiB of zeros compresses to the same bytes, repeated.
    """
    block = bytes(1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = compressor.compress(prefix + block[len(prefix) :]) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(block, zlib.crc32(prefix + block[len(prefix) :]))
    for _ in range(inflated_mib - 2):
        crc = zlib.crc32(block, crc)
    trailer = struct.pack("<II", crc & 0xFFFFFFFF, (inflated_mib * len(block)) & 0xFFFFFFFF)
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return gzip_header + head + repeated * (inflated_mib - 1) + compressor.flush() + trailer


class Exchange:
    """One request as the handler sees it, and ways to answer it."""

    def __init__(self, handler: _Handler, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.handler = handler
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    @property
    def key(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")

    def send(self, data: bytes) -> bool:
        """Send bytes; False once the client has hung up."""
        try:
            self.handler.request.sendall(data)
        except OSError:
            return False
        if self.handler.in_body:
            self.handler.server.body_bytes[self.handler.mode] += len(data)
        return True

    def head(self, status: int, headers: dict[str, str]) -> bool:
        # Every answer closes its connection: a client must not reuse one the server is about to close.
        lines = [f"HTTP/1.1 {status} X", "connection: close"] + [f"{name}: {value}" for name, value in headers.items()]
        sent = self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.handler.in_body = True
        return sent

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        all_headers = {"content-type": "application/json", "content-length": str(len(body)), **(headers or {})}
        if self.head(status, all_headers):
            self.send(body)

    def stream(self, status: int, chunks: Iterator[bytes], headers: dict[str, str]) -> None:
        if not self.head(status, headers):
            return
        for chunk in chunks:
            if not self.send(chunk):
                return

    def trickle(self, data: bytes) -> None:
        for index in range(len(data)):
            if not self.send(data[index : index + 1]):
                return
            time.sleep(TRICKLE_INTERVAL)


def _image_url(exchange: Exchange, name: str) -> str:
    host = exchange.headers.get("host", "127.0.0.1")
    return f"http://{host}/{exchange.handler.mode}/{name}"


def _success(url: str) -> bytes:
    return json.dumps({"created": 1, "data": [{"url": url}]}).encode()


def _huge() -> Iterator[bytes]:
    yield b'{"created": 1, "data": [{"url": "http://127.0.0.1/x.png"}], "pad": "'
    block = b"a" * (1024 * 1024)
    for _mib in range(100):
        yield block
    yield b'"}'


# --- modes: each answers one request -----------------------------------------------------------------------------


def cut_body(exchange: Exchange) -> None:
    """A 200 whose content-length promises more than arrives: the connection closes mid-body."""
    body = _success(_image_url(exchange, "a.png"))
    if exchange.head(200, {"content-type": "application/json", "content-length": str(len(body) + 500)}):
        exchange.send(body)


def cut_chunked(exchange: Exchange) -> None:
    """A chunked 200 that stops after its first chunk."""
    body = _success(_image_url(exchange, "a.png"))
    if exchange.head(200, {"content-type": "application/json", "transfer-encoding": "chunked"}):
        exchange.send(f"{len(body) // 2:x}\r\n".encode() + body[: len(body) // 2] + b"\r\n")


def closed_before_status(exchange: Exchange) -> None:
    """Reads the request, then closes without a byte of answer (nothing was processed: safe to resend)."""


def closed_in_status_line(exchange: Exchange) -> None:
    """Reads the request, starts the status line and closes: the platform saw the request (maybe billed)."""
    exchange.send(b"HTTP/1.1 20")


def reset_before_status(exchange: Exchange) -> None:
    """Reads the request, then resets the connection: the platform may have taken the request, and bill it."""
    exchange.handler.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    exchange.handler.request.close()


def huge_json(exchange: Exchange) -> None:
    """A 100 MiB JSON answer."""
    exchange.stream(200, _huge(), {"content-type": "application/json", "content-length": str(100 * 2**20 + 75)})


def gzip_bomb_200(exchange: Exchange) -> None:
    """2 MB... of gzip on the wire, a GiB of zeros once inflated."""
    body = gzip_bomb()
    exchange.answer(200, body, {"content-encoding": "gzip"})


def gzip_bomb_500(exchange: Exchange) -> None:
    """The gzip bomb as a retryable 500: each retry must be bounded too."""
    exchange.answer(500, gzip_bomb(), {"content-encoding": "gzip"})


def trickle_body(exchange: Exchange) -> None:
    """A 200 whose body arrives a byte at a time: no single read ever times out."""
    body = _success("http://127.0.0.1/a.png").ljust(TRICKLE_BYTES)
    if exchange.head(200, {"content-type": "application/json", "content-length": str(len(body))}):
        exchange.trickle(body)


def trickle_headers(exchange: Exchange) -> None:
    """The status line, then headers a byte at a time."""
    if exchange.send(b"HTTP/1.1 200 OK\r\n"):
        exchange.handler.in_body = True  # count what is trickled
        exchange.trickle(b"x-pad: " + b"a" * TRICKLE_BYTES + b"\r\n\r\n")


def deep_json_200(exchange: Exchange) -> None:
    exchange.answer(200, b"[" * 100_000 + b"]" * 100_000)


def deep_json_error(exchange: Exchange) -> None:
    exchange.answer(400, b'{"error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def echo_key(exchange: Exchange) -> None:
    """An error that puts the key it received everywhere: code, message, request id (body and header)."""
    key = exchange.key
    body = {"error": {"code": key, "message": f"bad key {key} {ESCAPES}"}, "request_id": key}
    exchange.answer(429, json.dumps(body).encode(), {"x-request-id": key})


def echo_key_html(exchange: Exchange) -> None:
    """A non-JSON error whose content-type and request id header carry the key."""
    key = exchange.key
    exchange.answer(502, b"<html>bad gateway</html>", {"content-type": f"text/html; k={key}", "x-request-id": key})


def echo_key_success(exchange: Exchange) -> None:
    """A 200 whose image URL and extra fields carry the key."""
    key = exchange.key
    body = {"created": 1, "data": [{"url": f"http://127.0.0.1/{key}.png", "note": key}], "id": key}
    exchange.answer(200, json.dumps(body).encode())


def lone_surrogate(exchange: Exchange) -> None:
    """A gateway that cut strings inside an emoji: a lone surrogate escape in the request id and in the image's
    extra field. The image is served as PNG on GET."""
    if exchange.method != "POST":
        exchange.answer(200, png(), {"content-type": "image/png"})
        return
    body = {"created": 1, "id": "req-\\ud83d", "data": [{"url": _image_url(exchange, "a.png"), "note": "\\udc00"}]}
    exchange.answer(200, json.dumps(body).replace("\\\\", "\\").encode())


def one_item_without_url(exchange: Exchange) -> None:
    """An OpenAI-compatible answer of n images, the last of which has no URL; the others are served as PNG."""
    if exchange.method != "POST":
        exchange.answer(200, png(), {"content-type": "image/png"})
        return
    count = json.loads(exchange.body or b"{}").get("n", 1)
    items: list[dict[str, str]] = [{"url": _image_url(exchange, f"{i}.png")} for i in range(count - 1)]
    exchange.answer(200, json.dumps({"created": 1, "data": [*items, {"revised_prompt": "no url"}]}).encode())


def lone_surrogate_error(exchange: Exchange) -> None:
    exchange.answer(400, b'{"error": {"code": "1214", "message": "bad \\ud83d size"}, "request_id": "r-\\udfff"}')


def escaped_key_error(exchange: Exchange) -> None:
    """The key echoed with its first character written as a JSON escape: the bytes differ, the text does not."""
    key = exchange.key
    escaped = f"\\u{ord(key[0]):04x}{key[1:]}"
    body = json.dumps({"error": {"code": "1214", "message": "bad key KEY"}, "request_id": "KEY"})
    exchange.answer(400, body.replace("KEY", escaped).encode())


def control_url(exchange: Exchange) -> None:
    """A 200 whose image URL has a control character in it."""
    exchange.answer(200, _success(_image_url(exchange, "a\x01b.png")))


def png_then_html(exchange: Exchange) -> None:
    """Serves (for its image) a PNG signature followed by an HTML page."""
    if exchange.method == "POST":
        exchange.answer(200, _success(_image_url(exchange, "a.png")))
    else:
        exchange.answer(
            200, b"\x89PNG\r\n\x1a\n<html><body>login required</body></html>", {"content-type": "image/png"}
        )


def gzip_png(exchange: Exchange) -> None:
    """Serves (for its image) a 'PNG' of 1 GiB gzip-compressed to ~1 MB."""
    if exchange.method == "POST":
        exchange.answer(200, _success(_image_url(exchange, "a.png")))
    else:
        exchange.answer(200, gzip_bomb(prefix=png()[:16]), {"content-type": "image/png", "content-encoding": "gzip"})


def trickle_image(exchange: Exchange) -> None:
    """Serves (for its image) a PNG a byte at a time."""
    if exchange.method == "POST":
        exchange.answer(200, _success(_image_url(exchange, "a.png")))
        return
    image = png().ljust(TRICKLE_BYTES, b"\x00")
    if exchange.head(200, {"content-type": "image/png", "content-length": str(len(image))}):
        exchange.trickle(image)


def good(exchange: Exchange) -> None:
    """A well-behaved platform (the baseline of the memory measurements)."""
    if exchange.method == "POST":
        exchange.answer(200, _success(_image_url(exchange, "a.png")))
    else:
        exchange.answer(200, png(), {"content-type": "image/png"})


MODES: dict[str, Callable[[Exchange], None]] = {
    function.__name__: function
    for function in (
        cut_body,
        cut_chunked,
        closed_before_status,
        closed_in_status_line,
        reset_before_status,
        huge_json,
        gzip_bomb_200,
        gzip_bomb_500,
        trickle_body,
        trickle_headers,
        deep_json_200,
        deep_json_error,
        echo_key,
        echo_key_html,
        echo_key_success,
        lone_surrogate,
        one_item_without_url,
        lone_surrogate_error,
        escaped_key_error,
        control_url,
        png_then_html,
        gzip_png,
        trickle_image,
        good,
    )
}


class _Handler(socketserver.BaseRequestHandler):
    server: HostileServer
    mode = ""
    in_body = False

    def handle(self) -> None:
        self.request.settimeout(30)
        reader = self.request.makefile("rb")
        try:
            line = reader.readline(65536).decode("latin-1")
            if not line:
                return
            method, target, _ = line.split(" ", 2)
            headers: dict[str, str] = {}
            while (header := reader.readline(65536).decode("latin-1").strip()) != "":
                name, _, value = header.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = reader.read(int(headers.get("content-length", "0") or 0))
        except (OSError, ValueError):
            return
        self.mode = target.lstrip("/").split("/", 1)[0]
        with self.server.lock:
            self.server.requests[(self.mode, method)] += 1
        handler = MODES.get(self.mode)
        if handler is not None:
            handler(Exchange(self, method, target, headers, body))

    def setup(self) -> None:
        with self.server.lock:
            self.server.active += 1

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self.request.shutdown(socket.SHUT_RDWR)
        with self.server.lock:
            self.server.active -= 1


class HostileServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        #: (mode, method) -> requests received
        self.requests: collections.Counter[tuple[str, str]] = collections.Counter()
        #: mode -> bytes sent after the status line, before the client hung up
        self.body_bytes: collections.Counter[str] = collections.Counter()
        #: handlers still running (a trickle goes on until its send fails)
        self.active = 0
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def base_url(self, mode: str) -> str:
        assert mode in MODES, mode
        return f"{self.url}/{mode}/api/paas/v4"

    def posts(self, mode: str) -> int:
        return self.requests[(mode, "POST")]

    def sent(self, mode: str, *, within: float = 30.0) -> int:
        """Body bytes sent in ``mode``, once every handler has noticed its client hung up."""
        give_up = time.monotonic() + within
        while self.active and time.monotonic() < give_up:
            time.sleep(0.02)
        return self.body_bytes[mode]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()
