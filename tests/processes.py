"""The processes tests start (the CLI, fake-server, redis-server, Prism): their environment and their ports."""

from __future__ import annotations

import os
import socket
import time

#: Every variable the library or the CLI reads; tests and their processes start without them.
#: A developer's proxy would stand between the tests and their loopback servers.
PROXY_VARIABLES = tuple(
    name for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") for name in (base, base.upper())
)
PLATFORM_VARIABLES = (
    *PROXY_VARIABLES,
    "ZHIPUAI_API_KEY",
    "ZAI_API_KEY",
    "OPENAI_API_KEY",
    "ZHIPUAI_BASE_URL",
    "ZAI_BASE_URL",
    "OPENAI_BASE_URL",
    "ZHIPU_IMAGES_FAKE",
    "ZHIPU_IMAGES_SHARED_BUDGET",
)


def child_env(**variables: str) -> dict[str, str]:
    """This process's environment without the platform's variables (a developer's own key or URL must not
    change an outcome), plus ``variables``."""
    return {k: v for k, v in os.environ.items() if k not in PLATFORM_VARIABLES} | variables


def free_port() -> int:
    """A loopback port nothing listens on now (for a server the test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_listening(port: int, within: float) -> bool:
    """Whether something accepts connections on the loopback ``port`` within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False
