"""Contains all the data models used in inputs/outputs"""

from .content_filter import ContentFilter
from .content_filter_role import ContentFilterRole
from .create_image_request import CreateImageRequest
from .create_image_task_request import CreateImageTaskRequest
from .error_detail import ErrorDetail
from .error_response import ErrorResponse
from .generated_image import GeneratedImage
from .image_generation_response import ImageGenerationResponse
from .image_model import ImageModel
from .image_quality import ImageQuality
from .image_task_response import ImageTaskResponse
from .image_task_result import ImageTaskResult
from .task_image import TaskImage
from .task_image_model import TaskImageModel
from .task_image_quality import TaskImageQuality

__all__ = (
    "ContentFilter",
    "ContentFilterRole",
    "CreateImageRequest",
    "CreateImageTaskRequest",
    "ErrorDetail",
    "ErrorResponse",
    "GeneratedImage",
    "ImageGenerationResponse",
    "ImageModel",
    "ImageQuality",
    "ImageTaskResponse",
    "ImageTaskResult",
    "TaskImage",
    "TaskImageModel",
    "TaskImageQuality",
)
