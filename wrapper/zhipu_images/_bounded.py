"""Reading a body with a cap on its *decoded* size, so no answer can take more memory than asked.

httpx decodes ``Content-Encoding`` a whole network chunk at a time: 64 KiB of
gzip can inflate to 64 MiB before anyone counts, and a 2 MB gzip bomb to
gigabytes. ``BoundedDecoder`` inflates with ``zlib``'s ``max_length``, so it
never produces more than one byte past the cap, and also caps the raw bytes (a
compressed stream followed by endless junk). Only ``gzip`` and ``deflate`` are
accepted, the encodings the clients ask for; anything else is refused rather
than decoded unbounded.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

#: What the clients send as Accept-Encoding: only what ``BoundedDecoder`` can inflate with a bound.
ACCEPT_ENCODING = "gzip, deflate"
#: The most one inflate step produces.
PIECE = 1024 * 1024


class BodyTooLarge(Exception):
    """The body, decoded, is over the cap."""


class BodyUndecodable(Exception):
    """The body's Content-Encoding is unknown or its compressed data is corrupt."""


class BoundedDecoder:
    """Feeds raw chunks, returns decoded ones; raises ``BodyTooLarge`` past ``cap`` decoded (or raw) bytes."""

    def __init__(self, content_encoding: str | None, cap: int) -> None:
        self.cap = cap
        self.decoded = 0
        self.raw = 0
        self._inflater: zlib._Decompress | None = None
        #: deflate's first bytes, until there are two to tell a zlib header from raw deflate data
        self._head: bytes | None = None
        if not content_encoding:  # the common case
            return
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise BodyUndecodable(f"unsupported Content-Encoding {content_encoding!r} (asked for {ACCEPT_ENCODING})")
        if codings:
            deflate = codings[0] == "deflate"
            # gzip: its header; deflate: zlib-wrapped, or raw deflate as some servers send (told by the first
            # two bytes, however the network cut them).
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | (0 if deflate else 16))
            self._head = b"" if deflate else None

    def feed(self, chunk: bytes) -> Iterable[bytes]:
        """The decoded bytes of ``chunk`` in pieces of at most ``PIECE`` bytes: a bomb never sits in memory."""
        self.raw += len(chunk)
        if self.raw > self.cap:
            raise BodyTooLarge
        if self._inflater is None:  # identity, the common case: no generator on the hot path
            self._count(len(chunk))
            return (chunk,)
        return self._inflate(chunk)

    def _inflate(self, chunk: bytes) -> Iterator[bytes]:
        assert self._inflater is not None
        data = chunk
        if self._head is not None:
            data, self._head = self._head + data, None
            if len(data) < 2:
                self._head = data
                return
            if not _zlib_header(data):
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        while data:
            try:
                piece = self._inflater.decompress(data, min(PIECE, self.cap - self.decoded + 1))
            except zlib.error as error:
                raise BodyUndecodable(f"corrupt compressed body ({error})") from error
            self._count(len(piece))
            if piece:
                yield piece
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                break  # trailing bytes after the end of the stream are ignored (and were counted as raw)

    def flush(self) -> bytes:
        if self._inflater is None:
            return b""
        try:
            rest = self._inflater.flush()
        except zlib.error as error:
            raise BodyUndecodable(f"corrupt compressed body ({error})") from error
        self._count(len(rest))
        if not self._inflater.eof and self.raw:
            raise BodyUndecodable("compressed body cut short (its stream does not end)")
        return rest

    def _count(self, size: int) -> None:
        self.decoded += size
        if self.decoded > self.cap:
            raise BodyTooLarge


def _zlib_header(head: bytes) -> bool:
    """Whether two bytes open a zlib stream (RFC 1950: method 8, a header checksum divisible by 31)."""
    return head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
