"""Where requests go and with which key: arguments first, then the official SDKs' environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx
from attrs import field, frozen

from ._exceptions import ConfigurationError
from ._redact import safe_text

DEFAULT_BASE_URL = "https://open.bigmodel.cn/api/paas/v4"
#: The two platforms of the same API (../shared/reference/zai-platform.md): BigModel in mainland China, Z.AI
#: outside it. Their keys are their own: one platform refuses the other's.
PLATFORMS = {"bigmodel": DEFAULT_BASE_URL, "zai": "https://api.z.ai/api/paas/v4"}
PLATFORM_NAMES = {"bigmodel": "BigModel (open.bigmodel.cn)", "zai": "Z.AI (api.z.ai)"}
#: The models each platform serves, where it serves fewer than the spec lists (Z.AI: not cogview-4 and
#: cogview-3-flash, per its docs).
PLATFORM_MODELS = {"zai": frozenset({"glm-image", "cogview-4-250304"})}
ZHIPU_KEY_VARIABLES = ("ZHIPUAI_API_KEY", "ZAI_API_KEY")  # zhipuai's, then zai-sdk's
ZHIPU_URL_VARIABLES = ("ZHIPUAI_BASE_URL", "ZAI_BASE_URL")
OPENAI_KEY_VARIABLE = "OPENAI_API_KEY"
OPENAI_URL_VARIABLE = "OPENAI_BASE_URL"


@frozen
class Endpoints:
    """Resolved configuration. The key is kept out of ``repr``."""

    api_key: str = field(repr=False)
    zhipu_url: str
    #: where OpenAI-compatible models (dall-e-*) go; None when none was configured
    openai_url: str | None
    #: "bigmodel" or "zai": chosen, or told by the base URL's host (any other host: "bigmodel", the default)
    platform: str = "bigmodel"

    def url_for(self, provider: str, model: str) -> str:
        if provider == "zhipu":
            return self.zhipu_url
        if self.openai_url is None:
            raise ConfigurationError(
                f"{model} is served by OpenAI-compatible endpoints: pass openai_base_url='https://host/v1' "
                f"(or a base_url ending in /v1), or set {OPENAI_URL_VARIABLE}"
            )
        return self.openai_url


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _is_openai_style(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/v1")


#: What an HTTP header can carry of a key: printable ASCII, no spaces (RFC 9110 token68 and then some).
_KEY = re.compile(r"[\x21-\x7e]+")


def _checked_url(url: object, argument: str) -> str:
    if not isinstance(url, str):
        raise ConfigurationError(f"{argument}: expected a URL string, got {type(url).__name__}")
    shown = safe_text(url, limit=200)
    try:
        parts = urlsplit(url)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as error:
        raise ConfigurationError(
            f"{argument}: {shown!r} is not a valid URL ({error}), e.g. {DEFAULT_BASE_URL}"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{argument}: {shown!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL}")
    if not _KEY.fullmatch(url):
        raise ConfigurationError(f"{argument}: {shown!r} contains spaces, control or non-ASCII characters")
    return url.rstrip("/") + "/images/generations"


def checked_key(key: object, source: str) -> str:
    """The key if it can be sent as a header; an error that names where it came from, never the key itself."""
    if not isinstance(key, str):
        raise ConfigurationError(f"api_key: expected a string, got {type(key).__name__}")
    key = key.strip()
    bad = next((i for i, char in enumerate(key) if not _KEY.fullmatch(char)), None)
    if bad is not None:
        char = key[bad]
        what = "a line break" if char in "\r\n" else "a space" if char.isspace() else f"U+{ord(char):04X}"
        raise ConfigurationError(
            f"the API key from {source} cannot be sent in an HTTP header: character {bad + 1} of {len(key)} is "
            f"{what} (keys are printable ASCII without spaces; check for a stray character or a second line)"
        )
    return key


def checked_platform(platform: object) -> str | None:
    if platform is None:
        return None
    if isinstance(platform, str) and platform in PLATFORMS:
        return platform
    raise ConfigurationError(
        f"platform: expected one of {', '.join(map(repr, PLATFORMS))}, got {safe_text(repr(platform), limit=100)}"
    )


def platform_of(url: str) -> str:
    """The platform a base URL belongs to: Z.AI's host, or BigModel (any other host is served as BigModel is)."""
    return "zai" if urlsplit(url).hostname == urlsplit(PLATFORMS["zai"]).hostname else "bigmodel"


def resolve_endpoints(
    api_key: str | None,
    base_url: str | None,
    openai_base_url: str | None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> Endpoints:
    """Resolve key and endpoint URLs (``base_url + "/images/generations"``, as the official SDKs do).

    ``platform`` ("bigmodel" or "zai") picks that platform's URL when no base URL is given (a base URL given,
    or from ``ZHIPUAI_BASE_URL``/``ZAI_BASE_URL``, wins) and its rules; without it, the base URL's host tells
    the platform."""
    env = os.environ if env is None else env
    chosen = checked_platform(platform)
    zhipu = base_url or _first(env, ZHIPU_URL_VARIABLES) or PLATFORMS[chosen or "bigmodel"]
    zhipu_url = _checked_url(zhipu, "base_url")
    openai = openai_base_url or env.get(OPENAI_URL_VARIABLE) or (zhipu if _is_openai_style(zhipu) else None)
    openai_url = _checked_url(openai, "openai_base_url") if openai else None
    key_variables = ZHIPU_KEY_VARIABLES + ((OPENAI_KEY_VARIABLE,) if openai else ())
    source = "api_key"
    key: object = api_key
    if api_key is None:
        source = next((name for name in key_variables if env.get(name, "").strip()), source)
        key = _first(env, key_variables)
    if key is None or (isinstance(key, str) and not key.strip()):
        raise ConfigurationError(
            "no API key: pass api_key=... or set " + " or ".join(key_variables) + " (see your platform's API keys page)"
        )
    return Endpoints(
        api_key=checked_key(key, source),
        zhipu_url=zhipu_url,
        openai_url=openai_url,
        platform=chosen or platform_of(zhipu),
    )
