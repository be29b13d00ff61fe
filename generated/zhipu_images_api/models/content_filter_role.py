from enum import StrEnum


class ContentFilterRole(StrEnum):
    ASSISTANT = "assistant"
    HISTORY = "history"
    USER = "user"

    def __str__(self) -> str:
        return str(self.value)
