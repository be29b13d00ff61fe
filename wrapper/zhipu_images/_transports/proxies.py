"""The proxy variables, read as httpx reads them when a client is made without a transport of its own.

``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` (or lower case) name a proxy per scheme; ``NO_PROXY`` names the
hosts reached directly (``*`` for all). httpx reads them only when it builds its own transport; the
library's clients pass theirs, so they read them here, with the same result: URL patterns, as
``httpx.Client(mounts=...)`` takes them, each to a proxy URL or to None (no proxy).
"""

from __future__ import annotations

import ipaddress
import urllib.request


def _is_ip(host: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(host.split("/")[0]).version == version
    except ValueError:
        return False


def environment_proxies() -> dict[str, str | None]:
    """URL pattern -> proxy URL (None: reached directly), from the environment's proxy variables."""
    found = urllib.request.getproxies()
    mounts: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        url = found.get(scheme)
        if url:
            mounts[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for host in (part.strip() for part in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            mounts[host] = None
        elif _is_ip(host, 4) or host.lower() == "localhost":
            mounts[f"all://{host}"] = None
        elif _is_ip(host, 6):
            mounts[f"all://[{host}]"] = None
        else:
            mounts[f"all://*{host}"] = None
    return mounts


def without_credentials(url: str) -> str:
    """A proxy URL fit for a message: its user name and password replaced by ``***``."""
    scheme, sep, rest = url.rpartition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"
