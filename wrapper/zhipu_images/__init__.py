"""zhipu_images: validated image generation for Zhipu BigModel and OpenAI-compatible endpoints.

Checks each request against its model's documented rules before sending it,
maps the platform's business codes to typed errors, retries only what can
succeed, and keeps the images whose URLs expire.
"""

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    AccountError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContentFilterError,
    DownloadError,
    ImagesError,
    IncompleteResponseError,
    InsufficientBalanceError,
    ModelNotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    TaskError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
    UnexpectedResponseError,
)
from ._limits import TIERS
from ._results import ContentFilter, GeneratedImage, ImagesResult, ImageTask
from ._rules import MODELS, CustomSizes, ModelRules
from ._validation import ImageRequest, SizeOutsideRecommendedRangeWarning, UnspecifiedModelWarning, validate_request

if TYPE_CHECKING:
    from ._async_client import AsyncImagesClient
    from ._client import ImagesClient

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The clients are loaded on first use. ImagesClient brings httpx, which validation, the errors and the
    # CLI's --help, check and models never need; AsyncImagesClient also brings asyncio.
    if name == "ImagesClient":
        from ._client import ImagesClient

        globals()[name] = ImagesClient  # once: later lookups find it without this function
        return ImagesClient
    if name == "AsyncImagesClient":
        from ._async_client import AsyncImagesClient

        globals()[name] = AsyncImagesClient
        return AsyncImagesClient
    raise AttributeError(f"module 'zhipu_images' has no attribute {name!r}")


__all__ = [
    "MODELS",
    "TIERS",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AccountError",
    "AsyncImagesClient",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ContentFilter",
    "ContentFilterError",
    "CustomSizes",
    "DownloadError",
    "GeneratedImage",
    "ImageRequest",
    "ImageTask",
    "ImagesClient",
    "ImagesError",
    "ImagesResult",
    "IncompleteResponseError",
    "InsufficientBalanceError",
    "ModelNotFoundError",
    "ModelRules",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestValidationError",
    "ServerError",
    "SizeOutsideRecommendedRangeWarning",
    "TaskError",
    "TaskFailedError",
    "TaskNotFoundError",
    "TaskTimeoutError",
    "UnexpectedResponseError",
    "UnspecifiedModelWarning",
    "validate_request",
]
