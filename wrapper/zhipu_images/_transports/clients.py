"""The httpx clients a library client owns: its transport, and a proxy transport per pattern that
``proxy=`` or the environment's proxy variables ask for (``proxies``)."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import httpx

from .._exceptions import ConfigurationError
from .http import AsyncTransport, SyncTransport
from .proxies import environment_proxies, without_credentials

if TYPE_CHECKING:
    import ssl

ProxySetting = str | httpx.Proxy | None


def _proxy(value: object, where: str) -> httpx.Proxy:
    if not isinstance(value, str | httpx.Proxy):
        raise TypeError(f"{where}: expected a proxy URL (str) or an httpx.Proxy, got {type(value).__name__}")
    try:
        proxy = value if isinstance(value, httpx.Proxy) else httpx.Proxy(value)
    except (ValueError, TypeError, httpx.InvalidURL):  # httpx's message quotes the URL, password included
        proxy = None
    if proxy is None or not proxy.url.host or proxy.url.scheme not in ("http", "https", "socks5", "socks5h"):
        shown = without_credentials(value if isinstance(value, str) else str(value.url))
        raise ConfigurationError(
            f"{where}: not a proxy URL ({shown}); expected http://, https://, socks5:// or socks5h:// and a host, "
            "e.g. http://proxy.internal:3128"
        )
    if proxy.url.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise ConfigurationError(f"{where}: a SOCKS proxy needs the socksio package: pip install 'httpx[socks]'")
    return proxy


def checked_proxy(value: object) -> ProxySetting:
    """``proxy=`` as a client takes it, checked when the client is made: None, a URL or an ``httpx.Proxy``."""
    return None if value is None else _proxy(value, "proxy")


def _routes(proxy: ProxySetting) -> dict[str, httpx.Proxy | None]:
    """URL pattern -> the proxy for it (None: directly): ``proxy`` for every URL, else the environment's."""
    if proxy is not None:
        return {"all://": _proxy(proxy, "proxy")}
    return {
        pattern: None if url is None else _proxy(url, "a proxy variable (HTTP_PROXY, HTTPS_PROXY or ALL_PROXY)")
        for pattern, url in environment_proxies().items()
    }


def sync_client(timeout: httpx.Timeout, limits: httpx.Limits, tls: ssl.SSLContext, proxy: ProxySetting) -> httpx.Client:
    mounts: dict[str, httpx.BaseTransport | None] = {
        pattern: None if via is None else SyncTransport(limits, tls, via) for pattern, via in _routes(proxy).items()
    }
    return httpx.Client(timeout=timeout, transport=SyncTransport(limits, tls), mounts=mounts)


def async_client(
    timeout: httpx.Timeout, limits: httpx.Limits, tls: ssl.SSLContext, proxy: ProxySetting
) -> httpx.AsyncClient:
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {
        pattern: None if via is None else AsyncTransport(limits, tls, via) for pattern, via in _routes(proxy).items()
    }
    return httpx.AsyncClient(timeout=timeout, transport=AsyncTransport(limits, tls), mounts=mounts)
