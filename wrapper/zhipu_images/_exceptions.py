"""Every error this library raises, in one hierarchy.

    ImagesError
    ├── ConfigurationError          (also a ValueError) the client cannot be set up: no key, bad option
    ├── RequestValidationError      (also a ValueError) the request broke a rule; nothing was sent
    ├── APIError                    the platform answered with an error
    │   ├── AuthenticationError         401; codes 1000-1004
    │   ├── PermissionDeniedError       434; codes 1220-1222
    │   ├── BadRequestError             400; codes 1200, 1210, 1212-1215
    │   │   └── ModelNotFoundError          code 1211
    │   ├── ContentFilterError          codes 1300, 1301
    │   ├── RateLimitError              codes 1302, 1305; a 429 without a business code   [retryable]
    │   ├── InsufficientBalanceError    code 1113 (sent as HTTP 429: never retried)
    │   ├── QuotaExceededError          codes 1304, 1308-1310
    │   ├── AccountError                codes 1100, 1110-1112, 1120, 1121
    │   ├── ServerError                 5xx; codes 500, 1230, 1234                      [retryable]
    │   ├── UnexpectedResponseError     an answer the contract does not allow (not JSON, no image, ...)
    │   └── TaskFailedError             the task API's task ended FAIL                  (also a TaskError)
    ├── TaskError                   about one task of the task API; ``task_id`` names it
    │   ├── TaskFailedError
    │   ├── TaskNotFoundError           the platform does not know the id (never issued, or expired)
    │   └── TaskTimeoutError            ``wait`` ran out of time; the task goes on: wait again with ``task_id``
    ├── APIConnectionError          no answer: DNS, refused, reset, TLS                 [retryable]
    │   ├── APITimeoutError             no answer in time (retried only if nothing was sent)
    │   └── IncompleteResponseError     HTTP 200 arrived, its body broke off: never retried (may be billed)
    └── DownloadError               an image could not be saved (status, not an image, too large, bad URL)

``scope`` says whose problem an error is: ``"account"`` for the key's and the
account's (authentication, permission, balance, quota, a locked account),
which every further request would meet too.

The business code in the body decides the class, not the HTTP status: the
platform sends "no balance" (1113) and "account locked" (1112) as HTTP 429, and
those must never be retried. ``retryable`` on an instance is what the retry
policy reads.

Once the platform has started answering, the request is never sent again:
the image may have been generated and billed. ``may_be_billed`` says so on
the errors where that is possible (a cut-off, oversized or late 200).

A task of the task API (``submit``) is paid when it is submitted: its errors
carry ``task_id`` so that the caller can wait for it again (``wait(task_id)``)
instead of paying for a new one.

No message, code or request id ever contains the API key or a terminal control
character, whatever the server sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._explanations import explanation

if TYPE_CHECKING:
    from ._results import ContentFilter, ImagesResult

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AccountError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ContentFilterError",
    "DownloadError",
    "ImagesError",
    "IncompleteResponseError",
    "InsufficientBalanceError",
    "ModelNotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestValidationError",
    "ServerError",
    "TaskError",
    "TaskFailedError",
    "TaskNotFoundError",
    "TaskTimeoutError",
    "UnexpectedResponseError",
]


class ImagesError(Exception):
    """Base class of every error raised by zhipu_images."""

    #: when ``generate(n>1)`` fails part-way: the images that did succeed (already paid for)
    partial_result: ImagesResult | None = None
    #: True where the platform may have generated (and billed) an image whose answer was lost
    may_be_billed: bool = False
    #: Whose problem it is, for callers that send many requests: ``"request"`` (this one failed; others
    #: may succeed), ``"account"`` (every request with this key will fail alike: stop sending), or
    #: ``"disk"`` (images cannot be stored here: stop generating, keep the URLs).
    scope: str = "request"
    #: the task of the task API this error is about (``wait(task_id)`` fetches it again), when it is about one
    task_id: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as what it is, not by calling its constructor again (whose keywords the arguments lack): an
        error returned through a process pool arrives whole, ``partial_result`` and ``task_id`` included."""
        return (_rebuilt, (type(self), self.args), self.__dict__)

    def __eq__(self, other: object) -> bool:
        """Equal when of one class with the same text and attributes (an error and its unpickled copy)."""
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ImagesError)
        return self.args == other.args and self.__dict__ == other.__dict__

    __hash__ = Exception.__hash__


def _rebuilt(cls: type[ImagesError], args: tuple[Any, ...]) -> ImagesError:
    error = cls.__new__(cls)
    error.args = args
    return error


class ConfigurationError(ImagesError, ValueError):
    """The client cannot be set up as asked: no API key, an unknown tier, no endpoint for a model."""


class RequestValidationError(ImagesError, ValueError):
    """A request parameter broke a documented rule; raised before anything is sent.

    ``field`` is the parameter's name (``"size"``), ``rule`` a short stable id
    (``"multiple_of"``), ``value`` what was given, and ``suggestion`` a valid
    alternative where one exists.
    """

    def __init__(self, field: str, rule: str, message: str, *, value: Any = None, suggestion: str | None = None):
        self.field = field
        self.rule = rule
        self.value = value
        self.suggestion = suggestion
        #: the message without the field and the rule (``named`` adds them back)
        self.detail = message
        super().__init__(self.named(field))

    def named(self, name: str) -> str:
        """The error's text with the field called ``name``, for callers that name parameters their own way
        (the command line's ``--size``): also where the message names the field as a parameter to take."""
        detail = self.detail.replace(f"take {self.field}", f"take {name}")  # "dall-e-3 does not take --style"
        text = f"{name}: {detail} [rule: {self.rule}]"
        return f"{text}. {self.suggestion}" if self.suggestion else text


class APIError(ImagesError):
    """The platform answered with an error.

    ``code`` is the platform's business code as a string (``"1301"``), or None
    when the body carried none; ``request_id`` is set when the platform sent one.
    """

    retryable = False
    #: whether the business code's general explanation fits (not for a task's errors, which say their own)
    _explains_code = True

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ):
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        #: seconds the server asked us to wait (Retry-After), if it said
        self.retry_after = retry_after
        where = f"HTTP {status_code}" + (f", code {code}" if code else "")
        rid = f" (request id {request_id})" if request_id else ""
        #: what the code means and what to do, in English (the platform's ``message`` is usually Chinese)
        self.explanation = explanation(code) if self._explains_code else None
        said = f"{self.explanation}. The platform said: {message}" if self.explanation else message
        super().__init__(f"{said} [{where}]{rid}")


class AuthenticationError(APIError):
    """The API key is missing, invalid or expired."""

    scope = "account"


class PermissionDeniedError(APIError):
    """The key is valid but may not call this API (not opened, taken offline)."""

    scope = "account"


class BadRequestError(APIError):
    """The platform rejected the parameters."""


class ModelNotFoundError(BadRequestError):
    """The platform does not know the model."""


class ContentFilterError(APIError):
    """The prompt or the image was blocked by the platform's content policy.

    ``content_filter`` holds the platform's notes (``role``: ``user`` for the prompt, ``assistant`` for the
    image; ``level`` 0 most severe to 3), when it sent them.
    """

    content_filter: tuple[ContentFilter, ...] = ()


class RateLimitError(APIError):
    """Too many concurrent requests, or the model is overloaded: wait and retry."""

    retryable = True


class InsufficientBalanceError(APIError):
    """The account has no balance left (code 1113). Retrying cannot help."""

    scope = "account"


class QuotaExceededError(APIError):
    """A daily, weekly, monthly or plan quota is used up."""

    scope = "account"


class AccountError(APIError):
    """The account is inactive, missing or locked."""

    scope = "account"


class ServerError(APIError):
    """The platform failed on its side."""

    retryable = True


class UnexpectedResponseError(APIError):
    """The platform answered something its contract does not allow."""


class TaskError(ImagesError):
    """About one task of the task API. ``task_id`` names it: keep it to wait for the task again."""


class TaskFailedError(APIError, TaskError):
    """The task ended ``FAIL``. The platform documents no reason; ``body`` is its answer, as it came
    (scrubbed of the key). A failed task is not retried by this library: submit it again if you wish."""

    #: the task's last answer, parsed (fields the platform may add, such as a reason, are in it)
    body: Any = None
    _explains_code = False


class TaskNotFoundError(BadRequestError, TaskError):
    """The platform does not know the task id: it was never issued, belongs to another key or platform, or
    has expired. Nothing can be fetched for it any more."""

    _explains_code = False


class TaskTimeoutError(TaskError):
    """``wait`` ran out of time while the task was still processing. The task goes on and stays paid for:
    call ``wait(error.task_id)`` again later, rather than submitting it anew."""

    may_be_billed = True

    def __init__(self, message: str, *, task_id: str = "", status: str | None = None):
        self.task_id = task_id
        #: the last status seen (``PROCESSING``), or None if no poll was answered
        self.status = status
        super().__init__(message)


class APIConnectionError(ImagesError):
    """No answer reached us: the connection failed or broke."""

    retryable = True


class APITimeoutError(APIConnectionError):
    """No answer in time. Retried only for connect and pool timeouts; see the retry policy."""


class IncompleteResponseError(APIConnectionError):
    """The platform answered HTTP 200 but the body broke off before it was whole.

    Never retried: the image was probably generated and billed, and sending the
    request again would pay for it twice.
    """

    retryable = False
    may_be_billed = True


class DownloadError(ImagesError):
    """An image could not be downloaded and saved; nothing was left on disk.

    ``status_code`` is the image host's answer when it refused (404 once the platform's URL expired).
    """

    status_code: int | None = None
