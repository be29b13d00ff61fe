"""The fake platform as a real HTTP server on loopback, for other languages, other SDKs and Schemathesis."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ._answers import MESSAGES
from ._platform import FakePlatform, FakeRequest

#: The largest request body read; past it, 413 without reading it.
MAX_BODY = 4 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"
    # An answer up to this size (headers and body) leaves in one write once the request is done
    # (``handle_one_request`` flushes), as a real server sends a small answer: unbuffered, every answer was
    # two segments, and its client woke twice to read it.
    wbufsize = 64 * 1024
    # A larger one still goes out in two writes; with Nagle's algorithm on, the client's delayed ACK would
    # stall each by ~40 ms.
    disable_nagle_algorithm = True
    _arrived = 0.0

    def __getattr__(self, name: str) -> Any:
        # Every method (GET, POST, ... and any other token, e.g. QUERY) reaches the platform,
        # which answers 405 with Allow, or 404, as the real API would.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def parse_request(self) -> bool:
        # The request line has just arrived: the simulated latency runs from here, so the time this server
        # spends reading and checking the request is part of it rather than added to it (1-3 ms a request
        # under load, which a benchmark's ideal time, the latency alone, does not have).
        self._arrived = time.monotonic()
        return super().parse_request()

    def _serve(self) -> None:
        given = self.headers.get("content-length") or "0"
        length = int(given) if given.isdigit() and len(given) < 19 else -1
        if length < 0 or length > MAX_BODY:
            # DECISION: a gateway refuses a body it cannot read (400) or will not (413, past a few MiB; an image
            # request is a few hundred bytes) without reading it, and closes the connection.
            too_large = length > MAX_BODY
            self._refuse(413 if too_large else 400, "request body too large" if too_large else "bad Content-Length")
            return
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("host") or self.server.url.removeprefix("http://")
        request = FakeRequest(
            method=self.command,
            path=self.path.split("?", 1)[0],
            origin=f"http://{host}",
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        platform = self.server.platform
        reply = platform.handle(request)
        try:
            self.server.released.wait(HOLD_AT_MOST)
            remaining = reply.delay - (time.monotonic() - self._arrived)
            if remaining > 0:
                time.sleep(remaining)
            if reply.drop:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            # The slot is free before the answer leaves: a client that holds at most N requests in flight
            # sends its next one only after reading this answer, and must not find its old one still counted.
            platform.finish(reply)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        finally:
            platform.finish(reply)

    def _refuse(self, status: int, why: str) -> None:
        body = json.dumps({"error": {"code": "1210", "message": f"{MESSAGES['1210']} ({why})"}}, ensure_ascii=False)
        self.close_connection = True
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body.encode())))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


#: The longest ``FakeServer.hold`` keeps an answer: a test that forgets to release still ends.
HOLD_AT_MOST = 60.0


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks open hundreds of connections at once.
    request_queue_size = 512

    def __init__(self, host: str, port: int, platform: FakePlatform, *, verbose: bool = False) -> None:
        super().__init__((host, port), _Handler)
        self.platform = platform
        #: set while answers may leave; ``hold()`` clears it
        self.released = threading.Event()
        self.released.set()
        self.verbose = verbose
        # Ready when made: whoever is told the URL next may send at once, and the first requests found the
        # platform still importing and building its validators (54-85 ms, its threads waiting on that).
        platform.warm_up()

    def hold(self) -> None:
        """Keep every answer until ``release()`` (at most ``HOLD_AT_MOST`` seconds): the requests are received,
        decided and counted, and their clients wait. A test of what happens while requests are in flight
        then waits for an event, not for time."""
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"


@contextlib.contextmanager
def running_fake_server(
    platform: FakePlatform | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[FakeServer]:
    """A fake server on a background thread for the length of the block (port 0: any free port)."""
    server = FakeServer(host, port, platform or FakePlatform())
    # A short poll interval: stopping waits for one poll, and the default (0.5 s) made teardown most of a test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="zhipu-images-fake-server", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
