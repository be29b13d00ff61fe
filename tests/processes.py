"""The environment of the processes tests start (the CLI, fake-server, scripts)."""

from __future__ import annotations

import os

#: Every variable the library or the CLI reads; tests and their processes start without them.
PLATFORM_VARIABLES = (
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
