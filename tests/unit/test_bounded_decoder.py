"""BoundedDecoder on its own: what it accepts, where exactly its caps fall, what it says when it refuses.

The hostile-server tests reach it through a client and a socket; these pin the edges (a body of exactly the cap,
one byte more, each accepted spelling of an encoding) that a change of one operator would move.
"""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhipu_images._bounded import ACCEPT_ENCODING, PIECE, BodyTooLarge, BodyUndecodable, BoundedDecoder


def decode(decoder: BoundedDecoder, *chunks: bytes) -> bytes:
    out = b"".join(piece for chunk in chunks for piece in decoder.feed(chunk))
    return out + decoder.flush()


def deflated(data: bytes, *, raw: bool = False) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def halves(data: bytes) -> tuple[bytes, bytes]:
    return data[: len(data) // 2], data[len(data) // 2 :]


# Property: whatever the bytes and however the compressed stream is cut into chunks, each accepted encoding
# decodes back to exactly the original bytes.
@given(data=st.binary(max_size=4000), cut=st.integers(min_value=0, max_value=5000))
def test_each_accepted_encoding_decodes_back_to_the_original(data: bytes, cut: int) -> None:
    for encoding, body in (
        ("gzip", gzip.compress(data)),
        ("x-gzip", gzip.compress(data)),
        ("deflate", deflated(data)),
        ("deflate", deflated(data, raw=True)),
        (None, data),
        ("identity", data),
    ):
        at = min(cut, len(body))
        assert decode(BoundedDecoder(encoding, cap=10_000), body[:at], body[at:]) == data, encoding


@pytest.mark.parametrize("spelling", ["GZIP", " gzip ", "identity, gzip", "gzip,", "gzip, identity", "Gzip"])
def test_encoding_names_are_read_as_http_spells_them(spelling: str) -> None:
    assert decode(BoundedDecoder(spelling, cap=1000), gzip.compress(b"hello")) == b"hello"


@pytest.mark.parametrize("spelling", ["DEFLATE", "identity,deflate"])
def test_deflate_is_recognised_in_any_case_and_list(spelling: str) -> None:
    # raw deflate is only tried when the encoding was read as deflate: a gzip reading would refuse it
    assert decode(BoundedDecoder(spelling, cap=1000), deflated(b"hello", raw=True)) == b"hello"


@pytest.mark.parametrize("encoding", ["br", "gzip, gzip", "gzip, deflate", "zstd", "compress", "gzip br"])
def test_an_encoding_it_cannot_bound_is_refused_and_named(encoding: str) -> None:
    with pytest.raises(BodyUndecodable) as caught:
        BoundedDecoder(encoding, cap=1000)
    assert str(caught.value) == f"unsupported Content-Encoding {encoding!r} (asked for {ACCEPT_ENCODING})"


def test_identity_alone_is_no_encoding() -> None:
    decoder = BoundedDecoder("identity", cap=5)
    assert list(decoder.feed(b"abcde")) == [b"abcde"]
    assert decoder.flush() == b""


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_a_body_of_exactly_the_cap_passes_and_one_byte_more_does_not(encoding: str | None) -> None:
    def encode(data: bytes) -> bytes:
        return gzip.compress(data) if encoding else data

    assert decode(BoundedDecoder(encoding, cap=100), encode(b"x" * 100)) == b"x" * 100
    with pytest.raises(BodyTooLarge):
        decode(BoundedDecoder(encoding, cap=100), encode(b"x" * 101))


def test_the_decoded_size_is_counted_across_chunks() -> None:
    decoder = BoundedDecoder(None, cap=10)
    assert list(decoder.feed(b"123456")) == [b"123456"]
    assert decoder.decoded == 6
    with pytest.raises(BodyTooLarge):
        list(decoder.feed(b"12345"))


def test_raw_bytes_are_capped_even_when_they_decode_to_nothing() -> None:
    body = gzip.compress(b"") + b"\0" * 40  # an empty stream, then junk after its end
    decoder = BoundedDecoder("gzip", cap=len(body))
    assert decode(decoder, body) == b""
    assert decoder.raw == len(body)
    with pytest.raises(BodyTooLarge):
        decode(BoundedDecoder("gzip", cap=len(body) - 1), *halves(body))


def test_a_gzip_bomb_is_stopped_one_piece_past_the_cap_without_inflating_the_rest() -> None:
    bomb = gzip.compress(b"\0" * (50 * PIECE))
    decoder = BoundedDecoder("gzip", cap=3 * PIECE + 10)
    seen: list[int] = []

    def read_all() -> None:
        seen.extend(len(piece) for piece in decoder.feed(bomb))

    with pytest.raises(BodyTooLarge):
        read_all()
    assert max(seen) <= PIECE
    assert sum(seen) == 3 * PIECE  # the fourth piece was produced with one byte past the cap, and refused
    assert decoder.decoded == 3 * PIECE + 11


def test_pieces_are_at_most_one_mebibyte() -> None:
    data = bytes(range(256)) * (3 * PIECE // 256 + 7)
    pieces = list(BoundedDecoder("gzip", cap=len(data)).feed(gzip.compress(data)))
    assert len(pieces) >= 4
    assert all(len(piece) <= PIECE for piece in pieces)
    assert b"".join(pieces) == data


def test_corrupt_gzip_is_undecodable_and_says_so() -> None:
    with pytest.raises(BodyUndecodable, match=r"^corrupt compressed body \(Error -3 while decompressing data"):
        decode(BoundedDecoder("gzip", cap=1000), b"\x1f\x8b" + b"not gzip at all" * 3)


def test_deflate_tells_raw_from_zlib_data_by_its_first_two_bytes_however_they_arrive() -> None:
    for body in (deflated(b"abc" * 100), deflated(b"abc" * 100, raw=True), deflated(b"", raw=True)):
        for cut in range(4):
            decoder = BoundedDecoder("deflate", cap=10_000)
            pieces = [*decoder.feed(body[:1][:cut]), *decoder.feed(body[:cut][1:]), *decoder.feed(body[cut:])]
            assert b"".join(pieces) + decoder.flush() == (b"abc" * 100 if len(body) > 2 else b"")


def test_raw_deflate_whose_first_byte_looks_like_zlib_s_is_told_by_the_header_checksum() -> None:
    """A stored block's first byte may end in 0b1000 (zlib's method 8: its padding bits are free); what tells it
    from a zlib header is the checksum of the first two bytes (0x0805 is not a multiple of 31)."""
    stored = b"\x08\x05\x00\xfa\xffhello" + b"\x01\x00\x00\xff\xff"  # "hello", then an empty final block
    assert zlib.decompress(stored, -zlib.MAX_WBITS) == b"hello"
    decoder = BoundedDecoder("deflate", cap=100)
    assert decode(decoder, stored) == b"hello"
    for first in (0x78, 0x58, 0x08):  # zlib's own first bytes, each with a second byte that makes the sum
        second = (31 - (first << 8) % 31) % 31
        with pytest.raises(BodyUndecodable, match="corrupt compressed body"):
            decode(BoundedDecoder("deflate", cap=100), bytes([first, second]) + b"\xff" * 8)


def test_corrupt_data_after_a_good_start_is_undecodable() -> None:
    good = deflated(" ".join(str(i) for i in range(3000)).encode())
    decoder = BoundedDecoder("deflate", cap=100_000)
    assert b"".join(decoder.feed(good[:200])).startswith(b"0 1 2 3")
    with pytest.raises(BodyUndecodable, match="corrupt compressed body"):
        list(decoder.feed(b"\xff" * 40))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_stream_that_does_not_end_is_undecodable_at_flush(encoding: str) -> None:
    body = gzip.compress(b"abc" * 1000) if encoding == "gzip" else deflated(b"abc" * 1000)
    decoder = BoundedDecoder(encoding, cap=10_000)
    assert b"".join(decoder.feed(body[:-6])).startswith(b"abc")
    with pytest.raises(BodyUndecodable, match=r"^compressed body cut short \(its stream does not end\)$"):
        decoder.flush()
    one_byte = BoundedDecoder(encoding, cap=10_000)
    assert list(one_byte.feed(body[:1])) == []
    with pytest.raises(BodyUndecodable, match="cut short"):
        one_byte.flush()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_an_empty_body_is_empty_whatever_its_encoding(encoding: str) -> None:
    decoder = BoundedDecoder(encoding, cap=10)
    assert list(decoder.feed(b"")) == []
    assert decoder.flush() == b""
