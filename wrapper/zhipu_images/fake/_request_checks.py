"""What the fake checks of a generation request's body, in this order: its shape, the required fields, the
model, the vendored schema, then the per-model rules (the wrapper's own table, through ``validate_request``).
A refusal carries the platform's code and its words."""

from __future__ import annotations

import warnings
from typing import Any

from .._exceptions import RequestValidationError
from .._rules import MODELS
from .._spec_models import spec_models
from .._spec_schemas import PACKAGES, schema_validator
from .._validation import validate_request
from ._answers import MESSAGES

#: The side of the image the fake draws when no size was sent (as for the CogView models' default)
_DEFAULT_SIDE = 1024
#: provider -> the spec's schema of a generation request's body (the spec: ``PACKAGES``)
REQUEST_SCHEMAS = {"zhipu": "CreateImageRequest", "openai": "ImageGenerationRequest"}
#: the spec's schema of a task submission's body (Zhipu's spec)
TASK_SCHEMA = "AsyncCreateImageRequest"


class Rejection(Exception):
    """A request refused for its parameters: ``platform`` in the platform's words (Chinese, as it answers),
    ``english`` for the OpenAI-compatible endpoint, which answers in English as such servers do."""

    def __init__(self, code: str, platform: str, english: str, field: str | None = None):
        super().__init__(english)
        self.code, self.platform, self.english, self.field = code, platform, english, field

    def message_for(self, provider: str) -> str:
        return self.english if provider == "openai" else f"{self.platform} ({self.english})"


def _checked_shape(provider: str, body: Any, schema_name: str) -> tuple[dict[str, Any], Any]:
    """The body as a dict with the model's name normalized, and its schema's validator; its required fields
    checked."""
    if not isinstance(body, dict):
        raise Rejection("1210", MESSAGES["1210"], "The body must be a JSON object.")
    body = dict(body)
    if provider == "zhipu" and isinstance(body.get("model"), str):
        # DECISION: model names are case-insensitive; the docs' own example sends cogView-4-250304.
        body["model"] = body["model"].lower()
    if provider == "openai":
        body.setdefault("model", "dall-e-2")  # seed 004: model defaults to dall-e-2
    schema = schema_validator(PACKAGES[provider], schema_name)
    for name in schema.schema.get("required", []):
        if name not in body:
            raise Rejection("1213", f"未正常接收到{name}参数。", f"{name} is required", name)
    return body, schema


def _known_models(provider: str) -> list[str]:
    known = [m for m, r in MODELS.items() if r.provider == provider]
    if provider == "zhipu":  # a model the spec lists is served with the schema's rules, as the wrapper does
        known += sorted(spec_models() - set(known))
    return known


#: Fields whose schema lists every model's values at once: the model's own rule says more (dall-e-3's sizes,
#: not the union of dall-e-2's and dall-e-3's), so it speaks first.
_RULED_ENUMS = frozenset({"size", "quality", "style", "response_format"})


def _schema_rejection(schema: Any, body: dict[str, Any]) -> tuple[Rejection | None, bool]:
    """The body's first schema error as a ``Rejection`` (None: none), and whether the model's rules should be
    asked first (an enum of a ruled field)."""
    error = next(iter(sorted(schema.iter_errors(body), key=lambda e: list(map(str, e.path)))), None)
    if error is None:
        return None, False
    name = str(error.path[0]) if error.path else "body"
    rejection = Rejection("1214", f"{name}参数非法。请检查文档。", f"{name}: {error.message}", name)
    return rejection, error.validator == "enum" and name in _RULED_ENUMS


def _schema_errors(schema: Any, body: dict[str, Any]) -> None:
    rejection, _ = _schema_rejection(schema, body)
    if rejection is not None:
        raise rejection


def checked_task_body(body: Any) -> tuple[str, dict[str, Any]]:
    """Check a task submission (the spec's ``AsyncCreateImageRequest``, then the model's rules); return the
    prompt and what to generate, or raise ``Rejection``. DECISION: a model the platform has but without the task
    API is answered 1212 ("the model does not support this call method", the code table's words for it)."""
    from .._tasks import task_models, validate_task_request

    body, schema = _checked_shape("zhipu", body, TASK_SCHEMA)
    model = body.get("model")
    if isinstance(model, str) and model not in task_models():
        if model in _known_models("zhipu"):
            with_tasks = ", ".join(sorted(task_models()))
            raise Rejection("1212", MESSAGES["1212"], f"{model} has no task API; models with it: {with_tasks}", "model")
        raise Rejection("1211", MESSAGES["1211"], f"model {model!r} does not exist", "model")
    _schema_errors(schema, body)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            valid = validate_task_request(
                body["model"],
                body["prompt"],
                size=body.get("size"),
                quality=body.get("quality"),
                user_id=body.get("user_id"),
                watermark_enabled=body.get("watermark_enabled"),
            )
    except RequestValidationError as invalid:
        raise Rejection("1214", f"{invalid.field}参数非法。请检查文档。", str(invalid), invalid.field) from invalid
    return valid.prompt, {
        "width": valid.width or _DEFAULT_SIDE,
        "height": valid.height or _DEFAULT_SIDE,
        "count": 1,
        "b64": False,
        "revised": False,
    }


def checked_body(provider: str, body: Any) -> tuple[str, dict[str, Any]]:
    """Check the body; return the prompt and what to generate, or raise ``Rejection``."""
    body, schema = _checked_shape(provider, body, REQUEST_SCHEMAS[provider])
    model = body.get("model")
    known = _known_models(provider)
    if isinstance(model, str) and model not in known:
        known_models = f"model {model!r} does not exist; known: {', '.join(known)}"
        raise Rejection("1211", MESSAGES["1211"], known_models, "model")
    schema_rejection, rules_first = _schema_rejection(schema, body)
    if schema_rejection is not None and not rules_first:
        raise schema_rejection
    params: dict[str, Any] = {"size": body.get("size"), "quality": body.get("quality")}
    if provider == "zhipu":
        params.update(user_id=body.get("user_id"), watermark_enabled=body.get("watermark_enabled"))
    else:
        params.update(
            n=body.get("n"),
            style=body.get("style"),
            response_format=body.get("response_format"),
            user_id=body.get("user"),
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            valid = validate_request(body["model"], body["prompt"], **params)
    except RequestValidationError as invalid:
        code = "1211" if invalid.rule == "unknown_model" else "1214"
        raise Rejection(code, f"{invalid.field}参数非法。请检查文档。", str(invalid), invalid.field) from invalid
    if schema_rejection is not None:
        raise schema_rejection
    count = valid.n if provider == "openai" else 1  # Zhipu: one image per request
    return valid.prompt, {
        "width": valid.width or _DEFAULT_SIDE,  # no size sent to a model known from the spec alone
        "height": valid.height or _DEFAULT_SIDE,
        "count": count,
        "b64": valid.response_format == "b64_json",
        "revised": valid.model == "dall-e-3",
    }
