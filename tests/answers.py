"""Answers as the reader hands them to the decisions (``error_from_response``, ``result_from_response``, the task
readers), made without a network."""

from __future__ import annotations

import json
from typing import Any

import httpx

from zhipu_images._responses import Answer


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    """``body`` as JSON (or raw bytes), with a JSON content type unless ``headers`` names another."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(status, httpx.Headers({"content-type": "application/json", **(headers or {})}), content)
