"""How much of an answer has been read since the request was written, for the request in progress.

A connection that ends before a single byte of the answer came back was, almost always, a keep-alive
socket the server had already closed: the request never reached the platform and is safe to send
again. One that ends part-way through the answer was seen by the platform and may be billed. httpcore
raises the same ``RemoteProtocolError`` for both; the library's own transports tell them apart by
counting, in their network streams, what was read since the last write (``ClosedBeforeAnswer``).
"""

from __future__ import annotations

import contextvars

import httpx


class ClosedBeforeAnswer(httpx.RemoteProtocolError):
    """The connection closed after the request was written and before any byte of the answer arrived."""


class Exchange:
    """One request on the wire: whether it was written, and the bytes read since it last was."""

    __slots__ = ("received", "written")

    def __init__(self) -> None:
        self.written = False
        self.received = 0

    def wrote(self) -> None:
        self.written = True
        self.received = 0

    @property
    def unanswered(self) -> bool:
        return self.written and self.received == 0


#: the exchange of the request the current thread or task is sending (None outside the library's transports)
CURRENT: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar("zhipu_images_exchange", default=None)
