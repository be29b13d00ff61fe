"""Contains all the data models used in inputs/outputs"""

from .content_filter import ContentFilter
from .content_filter_role import ContentFilterRole
from .create_image_request import CreateImageRequest
from .error_detail import ErrorDetail
from .error_response import ErrorResponse
from .generated_image import GeneratedImage
from .image_generation_response import ImageGenerationResponse
from .image_model import ImageModel
from .image_quality import ImageQuality

__all__ = (
    "ContentFilter",
    "ContentFilterRole",
    "CreateImageRequest",
    "ErrorDetail",
    "ErrorResponse",
    "GeneratedImage",
    "ImageGenerationResponse",
    "ImageModel",
    "ImageQuality",
)
