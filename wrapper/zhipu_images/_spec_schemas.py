"""JSON Schema validators for the vendored specs' components, as the generated packages ship them.

Shared by the fake (which checks what it receives) and the conformance probes
(which check what an endpoint answers). jsonschema is imported on first use.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

#: provider -> the generated package whose ``openapi.json`` holds its spec
PACKAGES = {"zhipu": "zhipu_images_api", "openai": "openai_images_api"}


@cache
def schema_validator(package: str, name: str) -> Any:
    """A validator for ``components/schemas/<name>`` of ``package``'s spec (OpenAPI 3.0: Draft 4 keywords,
    with OpenAPI's ``nullable`` turned into the JSON Schema it means)."""
    from jsonschema import Draft4Validator

    spec = _json_schema(json.loads(resources.files(package).joinpath("openapi.json").read_text(encoding="utf-8")))
    return Draft4Validator({**spec["components"]["schemas"][name], "components": spec["components"]})


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``{"type": T, "nullable": true}`` as JSON Schema: ``{"type": [T, "null"]}``."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        converted["type"] = [node["type"], "null"]
    return converted


def schema_problem(provider: str, name: str, instance: Any) -> str | None:
    """Why ``instance`` does not match the spec's schema ``name``, or None if it does."""
    errors = sorted(schema_validator(PACKAGES[provider], name).iter_errors(instance), key=lambda e: list(e.path))
    if not errors:
        return None
    where = "/".join(map(str, errors[0].path)) or "the body"
    return f"{where}: {errors[0].message[:200]}"
