from enum import StrEnum


class TaskImageQuality(StrEnum):
    HD = "hd"

    def __str__(self) -> str:
        return str(self.value)
