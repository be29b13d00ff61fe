"""Contains all the data models used in inputs/outputs"""

from .create_image_request import CreateImageRequest
from .error_detail import ErrorDetail
from .error_response import ErrorResponse
from .generated_image import GeneratedImage
from .image_generation_response import ImageGenerationResponse
from .image_quality import ImageQuality
from .image_size import ImageSize
from .image_style import ImageStyle
from .response_format import ResponseFormat

__all__ = (
    "CreateImageRequest",
    "ErrorDetail",
    "ErrorResponse",
    "GeneratedImage",
    "ImageGenerationResponse",
    "ImageQuality",
    "ImageSize",
    "ImageStyle",
    "ResponseFormat",
)
