"""No log line holds a live client's key, whoever writes it.

httpx and httpcore log at DEBUG what they send and receive, response headers included: with
``logging.basicConfig(level=logging.DEBUG)`` (common in development) a server that echoes the key in a
header puts it in the log. A filter on their loggers replaces the keys of the clients alive in this
process before any handler sees the record. A logger's filters see only the records made on it, not those
of its children, so each logger they write to is named here.
"""

from __future__ import annotations

import logging
import threading
import weakref

from ._redact import MASK, MIN_SECRET_LENGTH

#: The loggers httpx and httpcore write to (httpcore: one per module).
GUARDED = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")

_secrets: dict[int, str] = {}
_lock = threading.Lock()


class _SecretFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = list(_secrets.values())
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: left to the handler to report
            return True
        if any(secret in message for secret in secrets):
            for secret in secrets:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, None
        return True


_FILTER = _SecretFilter()


def guard(owner: object, secret: str) -> None:
    """Keep ``secret`` out of those loggers for as long as ``owner`` (a client) lives."""
    if len(secret) < MIN_SECRET_LENGTH:  # a placeholder: scrubbing it would cut ordinary text apart
        return
    with _lock:
        if not _secrets:
            for name in GUARDED:
                logging.getLogger(name).addFilter(_FILTER)  # once: addFilter keeps one of each
        _secrets[id(owner)] = secret
    weakref.finalize(owner, _forget, id(owner))


def _forget(owner_id: int) -> None:
    with _lock:
        _secrets.pop(owner_id, None)
