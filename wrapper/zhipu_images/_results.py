"""What ``generate`` returns, and the tasks ``submit`` returns."""

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
    #: the normalized request that was sent; None for a task's result fetched by its id alone (``wait(id)``)
    request: ImageRequest | None
    request_ids: tuple[str, ...] = ()
    #: top-level fields the platform sent that this version does not know (from the first response)
    extra: Mapping[str, Any] = field(factory=dict, repr=False)


#: A task's statuses (``ImageTask.status``), as the platform names them.
PROCESSING, SUCCESS, FAIL = "PROCESSING", "SUCCESS", "FAIL"


@frozen
class ImageTask:
    """One task of the task API, as last seen: ``status`` is ``PROCESSING``, ``SUCCESS`` or ``FAIL`` (or a
    status the platform adds later, kept as sent). ``images`` are set once it succeeded."""

    id: str
    request_id: str | None
    model: str | None
    status: str
    images: tuple[GeneratedImage, ...] = ()
    #: the checked request it was submitted with; None for a task fetched by its id alone
    request: ImageRequest | None = field(default=None, eq=False, repr=False)
    #: ``time.monotonic()`` when its submission was answered (None: not submitted by this process)
    submitted_at: float | None = field(default=None, eq=False, repr=False)
    #: top-level fields of the last answer that this version does not read, kept as sent
    extra: Mapping[str, Any] = field(factory=dict, eq=False, repr=False)

    @property
    def done(self) -> bool:
        return self.status in (SUCCESS, FAIL)

    def result(self) -> ImagesResult:
        """The images of a task that succeeded, shaped as ``generate`` returns them."""
        return ImagesResult(
            created=None,
            images=self.images,
            content_filter=(),
            request=self.request,
            request_ids=tuple(filter(None, [self.request_id])),
            extra=self.extra,
        )
