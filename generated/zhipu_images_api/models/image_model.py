from enum import StrEnum


class ImageModel(StrEnum):
    COGVIEW_3_FLASH = "cogview-3-flash"
    COGVIEW_4 = "cogview-4"
    COGVIEW_4_250304 = "cogview-4-250304"
    GLM_IMAGE = "glm-image"

    def __str__(self) -> str:
        return str(self.value)
