"""The ``zhipu-images`` command group and what its commands share: the request and connection options, the
clients they make, the words of their messages, and the process's entry point (each command has a module).

Exit codes: 0 success; 1 the platform or a download failed (for ``batch``: any
item failed or was not done); 2 usage or validation error, nothing was sent.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .._exceptions import APIError, ConfigurationError, ImagesError, RequestValidationError
from .._redact import safe_text
from .._sizes import PYTHON_SIZE_HINT
from .._validation import ImageRequest, validate_request

if TYPE_CHECKING:  # the clients import httpx: loaded by the commands that send, not by --help, check or models
    from .._async_client import AsyncImagesClient
    from .._client import ImagesClient

F = TypeVar("F", bound=Callable[..., Any])
FAKE_ENV = "ZHIPU_IMAGES_FAKE"
SHARED_BUDGET_ENV = "ZHIPU_IMAGES_SHARED_BUDGET"


def _fail(message: str, code: int, verbose: bool = False) -> NoReturn:
    if verbose:
        traceback.print_exc()
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _describe(error: BaseException) -> str:
    code = f" (code {error.code})" if isinstance(error, APIError) and error.code else ""
    return f"{type(error).__name__}{code}: {_in_cli_words(str(error))}"


def _request_options(function: F) -> F:
    for decorator in reversed(
        [
            click.option("--model", "-m", default="glm-image", show_default=True, help="Model name."),
            click.option("--size", "-s", help="WIDTHxHEIGHT; default: the model's own."),
            click.option("--quality", "-q", help="hd or standard, as the model allows."),
            click.option("--n", "-n", "n", type=int, help="Number of images."),
            click.option("--style", help="vivid or natural (dall-e-3)."),
            click.option("--response-format", help="url or b64_json (OpenAI-compatible models)."),
            click.option("--user-id", help="End-user id (Zhipu: 6-128 characters)."),
            click.option(
                "--watermark/--no-watermark",
                "watermark_enabled",
                default=None,
                help="Zhipu: watermarks are on by default; off needs the platform's signed waiver.",
            ),
            click.option(
                "--allow-unknown-model",
                is_flag=True,
                help="Send a model neither this version nor its spec knows (checked by the schema only).",
            ),
        ]
    ):
        function = decorator(function)
    return function


def _connection_options(function: F) -> F:
    for decorator in reversed(
        [
            click.option(
                "--fake", is_flag=True, envvar=FAKE_ENV, help=f"Use the built-in fake platform (or {FAKE_ENV}=1)."
            ),
            click.option(
                "--api-key-file",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Read the API key from this file (default: ZHIPUAI_API_KEY or ZAI_API_KEY).",
            ),
            click.option("--base-url", help="Zhipu API base URL (default: ZHIPUAI_BASE_URL or the platform's)."),
            click.option(
                "--platform",
                type=click.Choice(["bigmodel", "zai"]),
                help="BigModel (open.bigmodel.cn) or Z.AI (api.z.ai): its URL and the models it serves "
                "(default: told by --base-url's host, else bigmodel). Keys are per platform.",
            ),
            click.option("--openai-base-url", help="OpenAI-compatible base URL, for dall-e-* (or OPENAI_BASE_URL)."),
            click.option(
                "--fake-latency",
                type=float,
                default=0.0,
                hidden=True,
                callback=_seconds,
                help="Seconds the fake waits per request.",
            ),
            click.option(
                "--shared-budget",
                envvar=SHARED_BUDGET_ENV,
                metavar="URL",
                help=f"Share the account's concurrency limit with other processes through Redis, e.g. "
                f"redis://host:6379/0 (or {SHARED_BUDGET_ENV}).",
            ),
            click.option(
                "--shared-budget-fallback",
                is_flag=True,
                help="If the shared budget's Redis cannot be reached, use this process's own cap (with a warning).",
            ),
            click.option("--verbose", "-v", is_flag=True, help="Show tracebacks."),
        ]
    ):
        function = decorator(function)
    return function


def _seconds(context: click.Context, parameter: click.Parameter, value: float | None) -> float | None:
    """A seconds option: finite and >= 0 (nan or -1 would break every request of the fake, not the start)."""
    if value is not None and not 0 <= value < float("inf"):
        raise click.BadParameter(f"must be seconds >= 0, e.g. 0.1; got {value}")
    return value


def _api_key(path: Path | None) -> str | None:
    """The key in ``--api-key-file``: one line of text, checked as the client checks keys (never printed)."""
    from .._config import checked_key

    if path is None:
        return None
    where = f"--api-key-file {path}"
    try:
        raw = path.read_bytes()
    except OSError as error:
        _fail(f"cannot read {where}: {error.strerror}", 2)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail(f"{where} is not UTF-8 text (a key is one line of printable ASCII)", 2)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        _fail(f"{where} is empty", 2)
    if len(lines) > 1:
        _fail(f"{where} holds {len(lines)} lines; it must hold only the key, on one line", 2)
    try:
        return checked_key(lines[0], where)
    except ConfigurationError as error:
        _fail(str(error), 2)


#: The library's argument names in messages -> the options a command-line user types.
_CLI_WORDS = {
    "openai_base_url:": "--openai-base-url:",
    "base_url:": "--base-url:",
    "api_key=...": "--api-key-file",
    "(api_key=, ": "(--api-key-file, ",
    "lower max_concurrency (--concurrency)": "lower --concurrency",
    f", {PYTHON_SIZE_HINT}": "",
    "allow_unknown_model=True": "--allow-unknown-model",
}
#: A request field -> the option of ``generate`` that sets it.
_OPTION_OF_FIELD = {
    "model": "--model",
    "size": "--size",
    "quality": "--quality",
    "n": "-n",
    "style": "--style",
    "response_format": "--response-format",
    "user_id": "--user-id",
    "watermark_enabled": "--watermark/--no-watermark",
}


def _in_cli_words(message: str) -> str:
    for library, cli in _CLI_WORDS.items():
        message = message.replace(library, cli)
    return message


def _option_message(error: RequestValidationError) -> str:
    """A refused request in the command's words: the option, not the library's argument."""
    return _in_cli_words(error.named(_OPTION_OF_FIELD.get(error.field, error.field)))


def _client_options(options: dict[str, Any]) -> dict[str, Any]:
    chosen = {
        "api_key": _api_key(options["api_key_file"]),
        "base_url": options["base_url"],
        "openai_base_url": options["openai_base_url"],
        "platform": options["platform"],
    }
    if options["shared_budget"]:
        chosen |= {
            "shared_budget": options["shared_budget"],
            "shared_budget_fallback": options["shared_budget_fallback"],
        }
    return chosen


def _validated(prompt: str, params: dict[str, Any], verbose: bool) -> ImageRequest:
    model = params.pop("model")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            request = validate_request(model, prompt, **params)
        for warning in caught:
            click.echo(f"warning: {warning.message}", err=True)
        return request
    except RequestValidationError as error:
        _fail(_option_message(error), 2, verbose)


def _request_params(options: dict[str, Any]) -> dict[str, Any]:
    names = ("model", "size", "quality", "n", "style", "response_format", "user_id", "watermark_enabled")
    return {name: options[name] for name in names} | {"allow_unknown_model": options["allow_unknown_model"]}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zhipu-images")
def app() -> None:
    """Generate images with Zhipu BigModel (glm-image, CogView) and OpenAI-compatible endpoints."""


def _endpoint_problem(client: ImagesClient | AsyncImagesClient, request: ImageRequest) -> str | None:
    """Why ``request`` cannot be sent with ``client``'s endpoints, in command-line terms; None if it can."""
    try:
        client.endpoint_for(request)
    except ConfigurationError as error:
        return f"{error} (on the command line: --openai-base-url URL)"
    except RequestValidationError as error:  # a model the platform does not serve
        return _in_cli_words(str(error))
    return None


def _writable_folder(out: Path) -> None:
    """Create --out and prove it writable before anything is paid for."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        _fail(f"--out {out}: cannot write there ({error.strerror or error}); nothing was sent", 2)


def _async_client(options: dict[str, Any], concurrency: int, max_retries: int = 2) -> AsyncImagesClient:
    if options["fake"]:
        from ..fake import FakePlatform, fake_async_client

        platform = FakePlatform(latency=options["fake_latency"], platform=options["platform"] or "bigmodel")
        return fake_async_client(
            platform, max_concurrency=concurrency, max_retries=max_retries, platform=options["platform"]
        )
    try:
        from .._async_client import AsyncImagesClient

        return AsyncImagesClient(**_client_options(options), max_concurrency=concurrency, max_retries=max_retries)
    except ImagesError as error:
        _fail(_in_cli_words(str(error)), 2, options["verbose"])


#: Set by ``main``: the process is the command's own, whose collector it may tune. Run through ``app`` within
#: another process (a caller's, the tests'), a command leaves the process as it found it.
_owns_process = False


def settle() -> None:
    """Before a long run: what exists now (modules, the checked input) lives until the process ends, so the
    collector's full passes need not walk it again (one took 39 ms of a 1,000-item batch, the loop stalled)."""
    if _owns_process:
        gc.freeze()


def main() -> None:
    """The entry point: a failure the commands did not foresee is one line, its traceback only with -v.

    It ends the process (click's standalone mode exits): call ``app`` to run a command within one."""
    global _owns_process
    _owns_process = True
    try:
        app(prog_name="zhipu-images", standalone_mode=True)
    except Exception as error:  # a bug of ours, or an OS failure no command expected
        if {"-v", "--verbose"} & set(sys.argv[1:]):
            raise
        click.echo(f"error: {safe_text(f'{type(error).__name__}: {error}')} (run again with -v for details)", err=True)
        sys.exit(1)
    finally:
        # The process ends now, and nothing is left that a collection would free in time to matter: the
        # interpreter's collections at shutdown passed over every object, 60-70 ms after a 1,000-item batch
        # (12 ms with them frozen). Files are closed by then; the standard streams are flushed regardless.
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
