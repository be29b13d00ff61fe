from enum import StrEnum


class ImageStyle(StrEnum):
    NATURAL = "natural"
    VIVID = "vivid"

    def __str__(self) -> str:
        return str(self.value)
