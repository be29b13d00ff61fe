"""A forward proxy on loopback, as a corporate network puts between a service and the platform.

It relays plain-HTTP requests sent in absolute form (``POST http://host/path``) and tunnels ``CONNECT``
(what a client does for an ``https://`` URL), optionally asking for a user name and password. It
records every request it was asked to relay and every byte that went through a tunnel, so tests see
what a proxy sees: which URLs, which headers, and whether a key crossed it in the clear.
"""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator

import attrs


@attrs.define
class Relayed:
    method: str
    target: str
    headers: dict[str, str]


class _Handler(socketserver.StreamRequestHandler):
    server: ProxyServer
    rbufsize = 0  # unbuffered: what follows the request's head is read from the socket, not lost in a buffer

    def handle(self) -> None:
        while self._one():
            pass

    def _one(self) -> bool:
        line = self.rfile.readline(65536)
        if not line.strip():
            return False
        method, target, _version = line.decode("latin-1").split()
        raw_headers: list[bytes] = []
        headers: dict[str, str] = {}
        while (header := self.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
            raw_headers.append(header)
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        with self.server.lock:
            self.server.relayed.append(Relayed(method, target, headers))
        if self.server.credentials is not None:
            expected = "Basic " + base64.b64encode(self.server.credentials.encode()).decode()
            if headers.get("proxy-authorization") != expected:
                self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n")
                return True
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pipe(upstream)
            return False
        # absolute form: http://host:port/path -> origin form to the host, the answer relayed until it closes
        rest = target.split("://", 1)[1]
        authority, _, path = rest.partition("/")
        host, _, port = authority.rpartition(":")
        upstream = socket.create_connection((host, int(port or 80)))
        kept = [h for h in raw_headers if not h.lower().startswith((b"proxy-", b"connection:"))]
        upstream.sendall(f"{method} /{path} HTTP/1.1\r\n".encode() + b"".join(kept) + b"connection: close\r\n\r\n")
        length = int(headers.get("content-length", "0"))
        while length > 0:
            chunk = self.rfile.read(length)
            if not chunk:
                break
            upstream.sendall(chunk)
            length -= len(chunk)
        self._pipe(upstream, until_upstream_closes=True)
        return False

    def _pipe(self, upstream: socket.socket, *, until_upstream_closes: bool = False) -> None:
        client = self.connection
        with upstream:
            while True:
                ready, _, _ = select.select([client, upstream], [], [], 10)
                if not ready:
                    return
                for side in ready:
                    data = side.recv(65536)
                    if not data:
                        if side is upstream or not until_upstream_closes:
                            return
                        continue
                    with self.server.lock:
                        self.server.tunnelled.extend(data)
                    (upstream if side is client else client).sendall(data)


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, credentials: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        #: "user:password" the proxy asks for (None: anyone may use it)
        self.credentials = credentials
        self.lock = threading.Lock()
        self.relayed: list[Relayed] = []
        #: every byte both ways through a tunnel or a relayed exchange
        self.tunnelled = bytearray()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def running_proxy(credentials: str | None = None) -> Iterator[ProxyServer]:
    server = ProxyServer(credentials)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def tls_front(context: ssl.SSLContext, port: int) -> Iterator[int]:
    """A TLS endpoint on loopback relaying to the plain-HTTP server on ``port``: an https:// platform."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def relay(plain: socket.socket) -> None:
        try:
            secure = context.wrap_socket(plain, server_side=True)
        except (ssl.SSLError, OSError):
            plain.close()
            return
        with secure, socket.create_connection(("127.0.0.1", port)) as upstream:
            while not stop.is_set():
                ready, _, _ = select.select([secure, upstream], [], [], 0.5)
                for side in ready:
                    try:
                        data = side.recv(65536)
                    except ssl.SSLWantReadError:
                        continue
                    except OSError:
                        return
                    if not data:
                        return
                    if side is secure:
                        while secure.pending():  # decrypted bytes select cannot see
                            data += secure.recv(secure.pending())
                    (upstream if side is secure else secure).sendall(data)

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                plain, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=relay, args=(plain,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()
