"""Where requests go and with which key: arguments first, then the official SDKs' environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from attrs import field, frozen

from ._exceptions import ConfigurationError

DEFAULT_BASE_URL = "https://open.bigmodel.cn/api/paas/v4"
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


def _checked_url(url: str, argument: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{argument}: {url!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL}")
    return url.rstrip("/") + "/images/generations"


def resolve_endpoints(
    api_key: str | None,
    base_url: str | None,
    openai_base_url: str | None,
    env: Mapping[str, str] | None = None,
) -> Endpoints:
    """Resolve key and endpoint URLs (``base_url + "/images/generations"``, as the official SDKs do)."""
    env = os.environ if env is None else env
    zhipu = base_url or _first(env, ZHIPU_URL_VARIABLES) or DEFAULT_BASE_URL
    openai = openai_base_url or env.get(OPENAI_URL_VARIABLE) or (zhipu if _is_openai_style(zhipu) else None)
    key_variables = ZHIPU_KEY_VARIABLES + ((OPENAI_KEY_VARIABLE,) if openai else ())
    key = api_key if api_key is not None else _first(env, key_variables)
    if not key or not key.strip():
        raise ConfigurationError(
            "no API key: pass api_key=... or set " + " or ".join(key_variables) + " (see your platform's API keys page)"
        )
    return Endpoints(
        api_key=key.strip(),
        zhipu_url=_checked_url(zhipu, "base_url"),
        openai_url=_checked_url(openai, "openai_base_url") if openai else None,
    )
