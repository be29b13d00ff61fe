"""What changed between two versions of a vendored spec, and what of it the rules table does not cover.

``make regen`` prints this against the previous generated code; ``make
update-spec`` against the document it replaces. Lines are plain sentences a
reviewer can act on: a model added (usable at once, checked by the schema
only), a model removed (its rules are orphaned), a request field added (send it
through ``extra_body`` until the wrapper learns it), an enum or default changed.
"""

from __future__ import annotations

from typing import Any

#: The request body schema of each vendored document.
REQUEST_SCHEMAS = {"bigmodel-openapi.json": "CreateImageRequest", "openai-compatible.yaml": "ImageGenerationRequest"}
#: Request fields the wrapper sets from its own checked arguments, per document.
WRAPPER_FIELDS = {
    "bigmodel-openapi.json": {"model", "prompt", "size", "quality", "user_id", "watermark_enabled"},
    "openai-compatible.yaml": {"model", "prompt", "size", "quality", "n", "style", "response_format", "user"},
}
#: Further request schemas of a document (the task API's), reported with their name before each line.
OTHER_REQUEST_SCHEMAS = {"bigmodel-openapi.json": ("AsyncCreateImageRequest",), "openai-compatible.yaml": ()}
_COMPARED = ("type", "enum", "default", "minLength", "maxLength", "minimum", "maximum", "format", "nullable")


def request_properties(doc: dict[str, Any], schema: str = "CreateImageRequest") -> dict[str, dict[str, Any]]:
    """The request body's properties, from an OpenAPI document or from the docs site's rendering of one
    operation (the older page's ``paths: {path, method, request: ...}`` form)."""
    if "components" in doc and doc["components"].get("schemas"):
        properties = doc["components"]["schemas"][schema].get("properties", {})
    else:
        properties = doc["paths"]["request"]["body"]["application/json"]["schemaArray"][0]["properties"]
    flattened = {}
    for name, prop in properties.items():
        for part in prop.get("allOf", []):
            prop = {**prop, **part}
        flattened[name] = dict(prop)
    return flattened


def _models(properties: dict[str, dict[str, Any]]) -> set[str]:
    return set(properties.get("model", {}).get("enum", []))


def _operations(doc: dict[str, Any] | None) -> dict[str, str]:
    """``METHOD path`` -> operationId of an OpenAPI document (none for the older page's rendering)."""
    if doc is None or "components" not in doc:
        return {}
    return {
        f"{method.upper()} {path}": str(op.get("operationId", ""))
        for path, item in doc.get("paths", {}).items()
        for method, op in item.items()
        if isinstance(op, dict)
    }


def _has_schema(doc: dict[str, Any] | None, schema: str) -> bool:
    return doc is not None and schema in doc.get("components", {}).get("schemas", {})


def drift(name: str, old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What changed in the operations and requests of document ``name`` from ``old`` (None: nothing before)
    to ``new``."""
    lines = _request_drift(REQUEST_SCHEMAS[name], old, new)
    before_ops, after_ops = _operations(old), _operations(new)
    if old is not None:
        lines += [f"operation added: {op} ({after_ops[op]})" for op in sorted(set(after_ops) - set(before_ops))]
        lines += [f"operation removed: {op}" for op in sorted(set(before_ops) - set(after_ops))]
    for schema in OTHER_REQUEST_SCHEMAS[name]:
        if not _has_schema(new, schema):
            lines += [f"request schema removed: {schema}"] if _has_schema(old, schema) else []
        elif not _has_schema(old, schema):
            models = ", ".join(sorted(_models(request_properties(new, schema)))) or "any"
            lines.append(f"request schema added: {schema} (models: {models})")
        else:
            lines += [f"{schema}: {line}" for line in _request_drift(schema, old, new)]
    return lines


def _request_drift(schema: str, old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    after = request_properties(new, schema)
    before = request_properties(old, schema) if old is not None else {}
    lines = [f"model added: {m}" for m in sorted(_models(after) - _models(before))]
    lines += [f"model removed: {m}" for m in sorted(_models(before) - _models(after))]
    lines += [f"request field added: {f}" for f in sorted(set(after) - set(before))]
    lines += [f"request field removed: {f}" for f in sorted(set(before) - set(after))]
    for field in sorted(set(after) & set(before)):
        for key in _COMPARED:
            if key == "enum" and field == "model":
                continue  # reported as models added and removed
            if before[field].get(key) != after[field].get(key):
                lines.append(f"request field {field}: {key} {before[field].get(key)!r} -> {after[field].get(key)!r}")
    return lines


def uncovered(name: str, new: dict[str, Any]) -> list[str]:
    """What in document ``name`` the rules table and the wrapper do not cover (what a person must act on)."""
    from zhipu_images import MODELS

    properties = request_properties(new, REQUEST_SCHEMAS[name])
    provider = "zhipu" if name == "bigmodel-openapi.json" else "openai"
    with_rules = {model for model, rules in MODELS.items() if rules.provider == provider}
    lines = []
    if provider == "zhipu":
        spec_models = _models(properties)
        lines += [
            f"model {m!r} has no rules: usable, checked by the schema only (UnspecifiedModelWarning)"
            for m in sorted(spec_models - with_rules)
        ]
        lines += [
            f"model {m!r} has rules but left the spec: its rules are orphaned" for m in sorted(with_rules - spec_models)
        ]
    lines += [
        f"request field {f!r} is not sent by this version: pass extra_body={{{f!r}: ...}} until it is"
        for f in sorted(set(properties) - WRAPPER_FIELDS[name])
    ]
    return lines


def report(name: str, old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """The drift report of one document, for people."""
    changes = drift(name, old, new)
    gaps = uncovered(name, new)
    lines = [f"{name}: " + ("no changes to the request" if not changes else f"{len(changes)} change(s)")]
    lines += [f"  {line}" for line in changes]
    if gaps:
        lines.append(f"{name}: not covered by the rules table or the wrapper:")
        lines += [f"  {line}" for line in gaps]
    return "\n".join(lines)
