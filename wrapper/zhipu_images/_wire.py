"""An ``ImageRequest`` as the JSON body each endpoint receives, built with the generated models.

Every optional field is passed explicitly (a value or ``UNSET``): left alone,
the generated models would send glm-image's ``quality: hd`` and ``size:
1280x1280`` for every Zhipu model, and dall-e-3's ``quality``/``style`` for
dall-e-2 (generated/README.md, trap 1).
"""

from __future__ import annotations

from typing import Any

from zhipu_images_api.models import CreateImageRequest, ImageModel, ImageQuality
from zhipu_images_api.types import UNSET

from ._validation import ImageRequest

# Value -> member by dict lookup: Enum(value) costs more than the rest of building the body.
_MODELS = {member.value: member for member in ImageModel}
_QUALITIES = {member.value: member for member in ImageQuality}


def zhipu_body(request: ImageRequest) -> dict[str, Any]:
    """One Zhipu request (the platform returns one image per call; ``n`` is served by the client).

    A model the generated enum does not have (``allow_unknown_model``: released after the spec this
    client was generated from) is sent by its name; so is a quality the enum lacks.
    """
    model = _MODELS.get(request.model, ImageModel.GLM_IMAGE)
    quality = _QUALITIES.get(request.quality) if request.quality is not None else None
    body = CreateImageRequest(
        model=model,
        prompt=request.prompt,
        size=request.size if request.size is not None else UNSET,
        quality=quality if quality is not None else UNSET,
        user_id=request.user_id if request.user_id is not None else UNSET,
        watermark_enabled=request.watermark_enabled if request.watermark_enabled is not None else UNSET,
    ).to_dict()
    if model.value != request.model:
        body["model"] = request.model
    if request.quality is not None and quality is None:
        body["quality"] = request.quality
    return body


def openai_body(request: ImageRequest) -> dict[str, Any]:
    # Imported on first use: a plain Zhipu generate call never needs the OpenAI-compatible client.
    from openai_images_api.models import CreateImageRequest as OpenAICreateImageRequest
    from openai_images_api.models import ImageQuality as OpenAIQuality
    from openai_images_api.models import ImageSize, ImageStyle, ResponseFormat
    from openai_images_api.types import UNSET as OPENAI_UNSET

    assert request.size is not None  # every OpenAI-compatible model has documented sizes and a default
    return OpenAICreateImageRequest(
        prompt=request.prompt,
        model=request.model,
        n=request.n,
        size=ImageSize(request.size),
        quality=OpenAIQuality(request.quality) if request.quality is not None else OPENAI_UNSET,
        style=ImageStyle(request.style) if request.style is not None else OPENAI_UNSET,
        response_format=ResponseFormat(request.response_format or "url"),
        user=request.user_id if request.user_id is not None else OPENAI_UNSET,
    ).to_dict()


def request_body(request: ImageRequest) -> dict[str, Any]:
    return zhipu_body(request) if request.rules.provider == "zhipu" else openai_body(request)


def task_body(request: ImageRequest) -> dict[str, Any]:
    """A task submission (``validate_task_request`` checked it against the task API's model and quality)."""
    from zhipu_images_api.models import CreateImageTaskRequest, TaskImageModel, TaskImageQuality

    return CreateImageTaskRequest(
        model=TaskImageModel(request.model),
        prompt=request.prompt,
        size=request.size if request.size is not None else UNSET,
        quality=TaskImageQuality(request.quality) if request.quality is not None else UNSET,
        user_id=request.user_id if request.user_id is not None else UNSET,
        watermark_enabled=request.watermark_enabled if request.watermark_enabled is not None else UNSET,
    ).to_dict()
