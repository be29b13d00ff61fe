"""Keeping the key and terminal tricks out of everything a server's words reach.

A server may echo the key back anywhere: in the error message, the business
code, the request id, a header, an image URL. Rather than chase each field, the
answer's bytes are scrubbed once as they arrive (``scrub_body``), and the few
header values used are scrubbed as they are read (``safe_text``). Text shown to
people (exception messages, the CLI) also goes through ``safe_text``: control
characters, ANSI escape sequences and bidirectional overrides are written out
as ``\\x1b``-style escapes, so a server cannot move the cursor, rewrite a log
line or hide text; and the length is bounded.
"""

from __future__ import annotations

import json
import re

#: What replaces the key wherever it appears.
MASK = "***"
#: C0/C1 controls (newlines and tabs included: a message is one line), zero-width and bidi controls, and what
#: no file can hold as text: lone surrogate halves and the noncharacters XML refuses (U+FFFE, U+FFFF).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff\ufffe\uffff]")
#: Longer server text is cut: a message is for people, not a channel for megabytes.
MAX_TEXT = 2000
#: DECISION: a key shorter than this is not scrubbed. Such a key is a placeholder (the platform's keys
#: are ``id.secret``, 40+ characters; OpenAI's start ``sk-`` and are longer still), and scrubbing it
#: would cut ordinary text apart: the key ``k`` turned every image URL containing ``fake-`` into
#: ``fa***e-`` and the batch lost all the images it had paid for.
MIN_SECRET_LENGTH = 8


def _escaped(match: re.Match[str]) -> str:
    point = ord(match[0])
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def safe_text(text: str, secret: str | None = None, *, limit: int = MAX_TEXT) -> str:
    """``text`` without ``secret``, with control characters escaped, at most about ``limit`` characters."""
    if secret and len(secret) >= MIN_SECRET_LENGTH:
        text = text.replace(secret, MASK)
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text)} characters)"
    return _UNSAFE.sub(_escaped, text)


def secret_forms(secret: str) -> tuple[bytes, ...]:
    """The byte strings ``secret`` can appear as in a JSON answer: as is, JSON-escaped, with ``/`` escaped.

    Empty for a key too short to be told from ordinary text (``MIN_SECRET_LENGTH``): nothing is scrubbed.
    """
    if len(secret) < MIN_SECRET_LENGTH:
        return ()
    plain = secret.encode()
    escaped = json.dumps(secret)[1:-1].encode()
    forms = {plain, escaped, escaped.replace(b"/", b"\\/")}
    return tuple(sorted(forms, key=len, reverse=True))


def scrub_body(content: bytes, forms: tuple[bytes, ...]) -> bytes:
    """``content`` with every form of the secret replaced by the mask (a ``find`` per form: cheap)."""
    for form in forms:
        if form in content:
            content = content.replace(form, MASK.encode())
    return content
