"""Named, minimal fixes applied to the vendored OpenAPI documents at regen time.

The vendored files stay byte-for-byte what upstream publishes, so a spec update
is a file replacement. Each fix below states why the tools need it and first
checks that the problem it repairs is still there: if upstream changed or fixed
it, the fix raises ``FixNoLongerApplies`` instead of silently doing nothing, so
the person running ``make regen`` looks at it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Document = dict[str, Any]
Fix = Callable[[Document], None]

#: A stable ASCII tag for the image operations. The generator derives module names from tag +
#: operationId; the upstream tags are Chinese (``模型 API``), which yields a module folder named ``模型_api``.
OPERATION_TAG = "images"


class FixNoLongerApplies(RuntimeError):
    """Upstream changed the document so that a fix no longer matches it."""


def _require(condition: bool, fix: str, what: str) -> None:
    if not condition:
        raise FixNoLongerApplies(
            f"fix {fix!r} no longer applies: {what}. Upstream changed the document; "
            "review the fix in openapi/fixes.py and drop or adapt it."
        )


def _operation(doc: Document, path: str, method: str = "post") -> dict[str, Any]:
    operation = doc.get("paths", {}).get(path, {}).get(method)
    _require(isinstance(operation, dict), "locate-operation", f"no {method.upper()} {path}")
    assert isinstance(operation, dict)
    return operation


# --- Zhipu: the platform's whole document (bigmodel-openapi.json) ----------------

#: The operations openapi/selection.py takes from the whole document, and the ASCII ids they get.
ZHIPU_OPERATIONS = {
    ("post", "/paas/v4/images/generations"): "create_image",
    ("post", "/paas/v4/async/images/generations"): "create_image_task",
    ("get", "/paas/v4/async-result/{id}"): "get_async_result",
}
_ASYNC_RESULT = "/paas/v4/async-result/{id}"
_IMAGE_TASK_RESULT = "#/components/schemas/AsyncImageGenerationResponse"


def zhipu_ascii_operation_ids(doc: Document) -> None:
    """No operationIds: the generator would name each module after its path."""
    for (method, path), operation_id in ZHIPU_OPERATIONS.items():
        op = _operation(doc, path, method)
        _require("operationId" not in op, "zhipu_ascii_operation_ids", f"{path} has an operationId upstream")
        op["operationId"] = operation_id


def zhipu_ascii_tags(doc: Document) -> None:
    """The tag ``模型 API`` becomes an unreadable, non-ASCII module folder."""
    for method, path in ZHIPU_OPERATIONS:
        op = _operation(doc, path, method)
        _require(op.get("tags") == ["模型 API"], "zhipu_ascii_tags", f"{path}'s tags are now {op.get('tags')!r}")
        op["tags"] = [OPERATION_TAG]


def zhipu_async_result_images_only(doc: Document) -> None:
    """The task result is a ``oneOf`` of chat, video and image results (and a chat event stream): generated
    whole, it would bring the chat API's hundred models into an image client, and a ``oneOf`` without a
    discriminator is parsed by trying each branch. The image client's answer is the image branch; the wrapper
    reads every answer tolerantly itself (``_tasks``), so a chat or video result there is still understood."""
    responses = _operation(doc, _ASYNC_RESULT, "get").get("responses", {})
    content = responses.get("200", {}).get("content", {})
    branches = content.get("application/json", {}).get("schema", {}).get("oneOf")
    _require(
        isinstance(branches, list) and any(b.get("$ref") == _IMAGE_TASK_RESULT for b in branches) and len(branches) > 1,
        "zhipu_async_result_images_only",
        "the async result is no longer a oneOf that includes the image result",
    )
    content.pop("text/event-stream", None)
    content["application/json"]["schema"] = {"$ref": _IMAGE_TASK_RESULT}


# --- OpenAI-compatible (seed 004) -------------------------------------------

_OPENAI_PATH = "/v1/images/generations"


def _strip_x_apifox(requirements: Any, where: str) -> None:
    _require(isinstance(requirements, list), "openai_security_without_x_apifox", f"{where} is not a list")
    found = False
    for requirement in requirements:
        if isinstance(requirement, dict) and "x-apifox" in requirement:
            del requirement["x-apifox"]
            found = True
    _require(found, "openai_security_without_x_apifox", f"no x-apifox key in {where}")


def openai_security_without_x_apifox(doc: Document) -> None:
    """A security requirement maps scheme names to scopes; the exporter's
    ``x-apifox`` key in it is read as a scheme that does not exist, and the
    generator and validator both reject the document."""
    _strip_x_apifox(doc.get("security"), "top-level security")
    _strip_x_apifox(_operation(doc, _OPENAI_PATH).get("security"), "operation security")


def openai_bearer_scheme_type(doc: Document) -> None:
    """``type: bearer`` is not an OpenAPI security scheme type; bearer auth is
    ``type: http`` with ``scheme: bearer``."""
    scheme = doc.get("components", {}).get("securitySchemes", {}).get("BearerAuth")
    _require(
        isinstance(scheme, dict) and scheme.get("type") == "bearer",
        "openai_bearer_scheme_type",
        f"BearerAuth is now {scheme!r}",
    )
    assert isinstance(scheme, dict)
    scheme["type"] = "http"
    scheme["scheme"] = "bearer"


def openai_examples_to_example(doc: Document) -> None:
    """``examples:`` inside a schema is a 3.1 keyword; this is a 3.0 document,
    where a schema carries a single ``example``."""
    model = (
        doc.get("components", {})
        .get("schemas", {})
        .get("ImageGenerationRequest", {})
        .get("properties", {})
        .get("model", {})
    )
    examples = model.get("examples")
    _require(
        isinstance(examples, list) and len(examples) > 0,
        "openai_examples_to_example",
        "ImageGenerationRequest.model has no `examples` list",
    )
    assert isinstance(examples, list)
    del model["examples"]
    model["example"] = examples[0]


def openai_ascii_tag(doc: Document) -> None:
    """The first tag ``图片生成/编辑(Images)/OpenAI兼容格式`` names the module
    folder; keep one ASCII tag. The operationId ``createImage`` is already set
    upstream, and snake-cases to the same ``create_image`` as the Zhipu one."""
    op = _operation(doc, _OPENAI_PATH)
    tags = op.get("tags")
    _require(
        isinstance(tags, list) and len(tags) == 2 and tags[1] == "Images" and not tags[0].isascii(),
        "openai_ascii_tag",
        f"tags are now {tags!r}",
    )
    _require(
        op.get("operationId") == "createImage", "openai_ascii_tag", f"operationId is now {op.get('operationId')!r}"
    )
    op["tags"] = [OPERATION_TAG]


def openai_document_error_responses(doc: Document) -> None:
    """The operation declares only its 200. OpenAI-compatible servers answer
    errors as ``{"error": {"message", "type", "param", "code"}}``; without that
    documented, the generated client parses every error to ``None`` and no
    contract test can check an error body or status."""
    responses = _operation(doc, _OPENAI_PATH).get("responses", {})
    _require(set(responses) == {"200"}, "openai_document_error_responses", f"responses are now {sorted(responses)!r}")
    schemas = doc["components"]["schemas"]
    _require("ErrorResponse" not in schemas, "openai_document_error_responses", "ErrorResponse exists upstream")
    schemas["ErrorResponse"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string", "nullable": True},
                    "param": {"type": "string", "nullable": True},
                    "code": {"type": "string", "nullable": True},
                },
            }
        },
    }
    responses["default"] = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


#: Vendored file name -> the fixes it needs, applied in order.
FIXES: dict[str, list[Fix]] = {
    "bigmodel-openapi.json": [zhipu_ascii_operation_ids, zhipu_ascii_tags, zhipu_async_result_images_only],
    "openai-compatible.yaml": [
        openai_security_without_x_apifox,
        openai_bearer_scheme_type,
        openai_examples_to_example,
        openai_ascii_tag,
        openai_document_error_responses,
    ],
}


def apply_fixes(name: str, doc: Document) -> list[str]:
    """Apply every fix registered for ``name`` in place; return their names."""
    applied = []
    for fix in FIXES[name]:
        fix(doc)
        applied.append(fix.__name__)
    return applied
