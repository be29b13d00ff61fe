"""What ``generate`` returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from attrs import field, frozen

from ._validation import ImageRequest


class ContentFilter(NamedTuple):
    """One content-safety note: where it applied (``user``, ``assistant``,
    ``history``, or a role the platform adds later) and how severe it was
    (0 most severe, 3 slight)."""

    role: str
    level: int | None


@frozen
class GeneratedImage:
    """One image: a temporary ``url`` (Zhipu: valid 30 days) or inline ``b64_json``."""

    url: str | None = None
    b64_json: str | None = field(default=None, repr=lambda v: "None" if v is None else f"<{len(v)} base64 chars>")
    revised_prompt: str | None = None
    #: fields the platform sent that this version does not know, kept as is
    extra: Mapping[str, Any] = field(factory=dict, repr=False)


@frozen
class ImagesResult:
    """The images of one ``generate`` call, merged across its requests when ``n > 1``."""

    created: int | None
    images: tuple[GeneratedImage, ...]
    content_filter: tuple[ContentFilter, ...]
    #: the normalized request that was sent
    request: ImageRequest
    request_ids: tuple[str, ...] = ()
    #: top-level fields the platform sent that this version does not know (from the first response)
    extra: Mapping[str, Any] = field(factory=dict, repr=False)
