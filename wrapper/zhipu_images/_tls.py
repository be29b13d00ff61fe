"""The TLS context a client verifies with, made ahead of time in a thread when a caller knows one is coming.

Making it (``httpx.create_ssl_context``: loading ~150 CA certificates) takes ~50 ms, most of it in OpenSSL
with the GIL released. The CLI calls ``prepare`` as a sending command starts, so the context is made while
the rest of the library is imported; a client made without ``prepare`` makes its own at once, as before.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

_prepared: Future[ssl.SSLContext] | None = None
_lock = threading.Lock()


def _make() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()


def _make_into(future: Future[ssl.SSLContext]) -> None:
    try:
        future.set_result(_make())
    except BaseException as error:  # given to the client that takes it, which raises it as it would have
        future.set_exception(error)


def prepare() -> None:
    """Start making a context in a thread, for the next client made (once: a second call does nothing)."""
    global _prepared
    import httpx  # noqa: F401  here: the thread then only loads certificates, mostly with the GIL released
    # (and the caller's own import of httpx would otherwise wait for the thread's)

    with _lock:
        if _prepared is not None:
            return
        _prepared = Future()
        # Not a daemon: a command that fails before it takes the context exits only once it is made. Exiting
        # while the thread was inside OpenSSL crashed the interpreter (SIGSEGV instead of exit code 2).
        threading.Thread(target=_make_into, args=(_prepared,), name="zhipu-images-tls").start()


def context() -> ssl.SSLContext:
    """The context ``prepare`` started (taken by one client: later ones make their own), or a new one."""
    global _prepared
    with _lock:
        future, _prepared = _prepared, None
    return _make() if future is None else future.result()
