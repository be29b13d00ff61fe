from enum import StrEnum


class TaskImageModel(StrEnum):
    GLM_IMAGE = "glm-image"

    def __str__(self) -> str:
        return str(self.value)
