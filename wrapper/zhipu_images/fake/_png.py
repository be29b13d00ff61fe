"""Real PNG files of any size, deterministic from a seed, fast, with only the standard library.

Eight horizontal colour bands of an indexed-colour PNG: the pixels (which band
each row is) depend only on the size, so their compressed data is made once per
size and kept; the seed only picks the eight palette colours. Each band is one
literal row followed by rows using PNG's "Up" filter (all zero bytes), which
zlib compresses almost for free. A new 2048x2048 size takes a few ms, every
image of a size already drawn a few microseconds, and a 1024x1024 file is ~2 KB.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BANDS = 8


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.lru_cache(maxsize=64)  # sizes, not images: a test suite uses a handful
def _pixels(width: int, height: int) -> tuple[bytes, bytes]:
    """The IHDR and IDAT chunks of an 8-bit indexed image of ``width`` x ``height`` in ``_BANDS`` bands."""
    compressor = zlib.compressobj(1)
    parts = []
    up_row = b"\x02" + bytes(width)  # filter 2 (Up), zero deltas: same pixels as the row above
    for band in range(_BANDS):
        rows = height // _BANDS + (1 if band < height % _BANDS else 0)
        if rows:
            parts.append(compressor.compress(b"\x00" + bytes((band,)) * width))
            parts.append(compressor.compress(up_row * (rows - 1)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)  # 8 bits per pixel, indexed colour
    return _chunk(b"IHDR", header), _chunk(b"IDAT", b"".join(parts))


def make_png(width: int, height: int, seed: str) -> bytes:
    """A PNG of exactly ``width`` x ``height`` whose colours depend only on ``seed``."""
    header, pixels = _pixels(width, height)
    palette = hashlib.sha256(seed.encode()).digest()[: 3 * _BANDS]
    return SIGNATURE + header + _chunk(b"PLTE", palette) + pixels + _chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    if not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height
