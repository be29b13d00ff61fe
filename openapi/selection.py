"""The operations each vendored document contributes to a generated client, and the schemas they need.

The platform publishes one document for all its APIs (53 paths: chat, video,
files, knowledge bases, ...). It is vendored whole, byte for byte, so the next
published version is a file replacement; this names the image operations taken
from it. ``select_operations`` runs before the fixes, ``prune_components`` after
them (a fix may drop references, such as the chat and video branches of the
async result), so the generated client holds the image API and nothing else.

A selected operation that the document no longer has fails loudly: the person
running ``make regen`` looks at what upstream changed.
"""

from __future__ import annotations

import json
from typing import Any

Document = dict[str, Any]

#: Vendored file name -> (method, path) of each operation the generated client covers; None: the whole document.
SELECTIONS: dict[str, tuple[tuple[str, str], ...] | None] = {
    "bigmodel-openapi.json": (
        ("post", "/paas/v4/images/generations"),
        ("post", "/paas/v4/async/images/generations"),
        ("get", "/paas/v4/async-result/{id}"),
    ),
    "openai-compatible.yaml": None,
}


class SelectionNoLongerApplies(RuntimeError):
    """The document lacks an operation the selection names."""


def select_operations(name: str, doc: Document) -> list[str]:
    """Keep only the selected operations of ``doc`` (in place); return them as ``METHOD path``."""
    wanted = SELECTIONS[name]
    if wanted is None:
        return [f"{method.upper()} {path}" for path, item in doc["paths"].items() for method in item]
    paths: dict[str, Any] = {}
    for method, path in wanted:
        operation = doc.get("paths", {}).get(path, {}).get(method)
        if not isinstance(operation, dict):
            raise SelectionNoLongerApplies(
                f"{name} has no {method.upper()} {path} any more: review SELECTIONS in openapi/selection.py"
            )
        paths.setdefault(path, {})[method] = operation
    doc["paths"] = paths
    used_tags = {tag for item in paths.values() for op in item.values() for tag in op.get("tags", [])}
    if "tags" in doc:
        doc["tags"] = [tag for tag in doc["tags"] if tag.get("name") in used_tags]
    return [f"{method.upper()} {path}" for method, path in wanted]


def _references(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def prune_components(doc: Document) -> None:
    """Drop every schema and parameter that no kept operation reaches (security schemes stay)."""
    components = doc.get("components", {})
    reached: set[str] = set()
    frontier = _references(doc["paths"])
    while frontier:
        ref = frontier.pop()
        if ref in reached:
            continue
        reached.add(ref)
        _, _, kind, key = ref.split("/", 3)
        target = components.get(kind, {}).get(key)
        if target is not None:
            frontier |= _references(target) - reached
    for kind in ("schemas", "parameters", "responses", "requestBodies"):
        if kind in components:
            components[kind] = {
                key: value for key, value in components[kind].items() if f"#/components/{kind}/{key}" in reached
            }
            if not components[kind]:
                del components[kind]


def load_document(text: str, name: str) -> Document:
    """A vendored document: JSON as the platform now publishes it, YAML as the older pages did."""
    if name.endswith(".json"):
        doc = json.loads(text)
    else:
        import yaml

        doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ValueError(f"{name} is not an OpenAPI document (a JSON or YAML object)")
    return doc
