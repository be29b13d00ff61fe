"""The ``batch`` command: check every line, take the folder, run, and say how it ended.

Exit codes: 0 every item done; 1 an item failed or was not started (an
account error or a full disk stopped the batch); 2 usage or an invalid line,
nothing sent; 130 interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import _tls as tls
from .._exceptions import (
    AccountError,
    APIError,
    AuthenticationError,
    ImagesError,
    InsufficientBalanceError,
    PermissionDeniedError,
    QuotaExceededError,
)
from .._limits import TIERS
from .._redact import safe_text
from ._app import (
    _async_client,
    _connection_options,
    _endpoint_problem,
    _fail,
    _in_cli_words,
    _writable_folder,
    app,
    settle,
)

if TYPE_CHECKING:  # the modules themselves are imported when the command runs: --help needs none of them
    from .._async_client import AsyncImagesClient
    from ._inputs import ItemSource

#: Manifest problems printed one by one; the rest are counted.
SHOWN_MANIFEST_PROBLEMS = 20
EXIT_INTERRUPTED = 130
#: Invalid lines listed one by one; the rest are counted (a binary file is thousands of them).
SHOWN_INVALID_LINES = 20


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", "-o", type=click.Path(file_okay=False, path_type=Path), default="images", show_default=True,
    help="The folder of the images, the manifest and the contact sheet (as generate's).",
)  # fmt: skip
@click.option("--model", "-m", default="glm-image", show_default=True, help="Default model for lines that name none.")
@click.option("--size", "-s", help="Default size.")
@click.option("--quality", "-q", help="Default quality.")
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["text", "jsonl"]),
    help="text: a prompt per line; jsonl: a JSON object per line.  [default: jsonl for .jsonl/.ndjson, else text]",
)
@click.option(
    "--concurrency", "-c", type=click.IntRange(1, 100), help="Requests in flight at once.  [default: 5, as --tier V0]"
)
@click.option(
    "--tier",
    type=click.Choice(list(TIERS), case_sensitive=False),
    metavar="[" + "|".join(TIERS) + "]",  # as the platform and the README write them (any case is taken)
    help="Concurrency of an account tier.",
)
@click.option(
    "--rate-limit-wait",
    type=click.FloatRange(0, 86400),
    default=600.0,
    show_default=True,
    help="Seconds an item may wait out rate limits (1302/1305) before it fails.",
)
@click.option(
    "--allow-unknown-model",
    is_flag=True,
    help="Send models neither this version nor its spec knows (checked by the schema only).",
)
@click.option(
    "--sync",
    "sync_only",
    is_flag=True,
    help="Generate in one request per image even where the model has the task API (by default glm-image items "
    "are submitted as tasks, whose ids are recorded before the platform generates: nothing paid is lost).",
)
@click.option(
    "--retry-filtered",
    is_flag=True,
    help="Send again the prompts an earlier run's content filter refused (1301); by default they are final, since "
    "an account that keeps sending unsafe prompts can be locked.",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@_connection_options
def batch(
    file: Path,
    out: Path,
    model: str,
    size: str | None,
    quality: str | None,
    input_format: str | None,
    concurrency: int | None,
    tier: str | None,
    rate_limit_wait: float,
    allow_unknown_model: bool,
    sync_only: bool,
    retry_filtered: bool,
    progress: bool | None,
    **options: Any,
) -> None:
    """Generate an image set from FILE (a prompt per line, or JSON Lines), resumably, into --out."""
    if not options["fake"]:
        tls.prepare()  # made while the rest is imported
    with _stop_signals_interrupt():
        _batch(file, out, model, size, quality, input_format, concurrency, tier, progress, options, run_options={
            "rate_limit_wait": rate_limit_wait,
            "allow_unknown_model": allow_unknown_model,
            "use_tasks": not sync_only,
            "retry_filtered": retry_filtered,
        })  # fmt: skip


def _batch(
    file: Path,
    out: Path,
    model: str,
    size: str | None,
    quality: str | None,
    input_format: str | None,
    concurrency: int | None,
    tier: str | None,
    progress: bool | None,
    options: dict[str, Any],
    run_options: dict[str, Any],
) -> None:
    from ._inputs import ItemSource, json_lines_by_suffix, legacy_encoding

    if concurrency and tier:
        raise click.UsageError("use --concurrency or --tier, not both")
    if not file.is_file():  # a pipe or a device is read once, then gone: no check before sending, no resume
        _fail(f"{file} is not a regular file (a pipe, a terminal or a device): save the prompts to a file and "
              "pass that; nothing was sent", 2)  # fmt: skip
    encoding = legacy_encoding(file)
    if encoding is not None:
        _fail(f"{file} looks like {encoding} text, not UTF-8 (as Windows tools save Chinese): convert it first, "
              f"e.g. iconv -f {encoding.upper()} -t UTF-8 {file} > prompts-utf8.txt; nothing was sent", 2)  # fmt: skip
    limit = concurrency or TIERS[(tier or "V0").upper()]
    json_lines = json_lines_by_suffix(file) if input_format is None else input_format == "jsonl"
    defaults: dict[str, Any] = {"model": model, "size": size, "quality": quality}
    if run_options["allow_unknown_model"]:
        defaults["allow_unknown_model"] = True
    source = ItemSource(file, defaults, json_lines)
    client = _async_client(options, limit, max_retries=0)  # the batch retries, without holding a slot (_batch)
    _run(file, out, source, client, limit, show_progress=progress, options=options, **run_options)


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """Until the run's own handlers take over (it starts nothing before they do), SIGTERM and SIGHUP end the
    command as Ctrl-C does: the input check and the manifest's compaction stop, leave nothing behind, and
    exit 130. The handlers before are put back after (the command may run inside another program)."""
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread: signals are not this command's to take
            previous[sig] = signal.signal(sig, _interrupt)
    try:
        yield
    except KeyboardInterrupt:  # before the checks below could say more
        _fail("interrupted before the run started; nothing was sent", EXIT_INTERRUPTED)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(
    file: Path,
    out: Path,
    source: ItemSource,
    client: AsyncImagesClient,
    limit: int,
    *,
    show_progress: bool | None,
    options: dict[str, Any],
    **run_options: Any,
) -> None:
    import asyncio

    from ._batch import run_batch
    from ._folder_lock import FolderBusy, FolderLock
    from ._inputs import InvalidInput
    from ._manifest import MANIFEST, ManifestError

    try:
        total = source.check(lambda request: _endpoint_problem(client, request))
        for warning in source.warnings:
            click.echo(f"warning: {warning}", err=True)
    except InvalidInput as invalid:
        for line, message in invalid.problems[:SHOWN_INVALID_LINES]:
            click.echo(f"{file}:{line}: {_in_cli_words(message)}", err=True)
        if len(invalid.problems) > SHOWN_INVALID_LINES:
            click.echo(f"{file}: ... and {len(invalid.problems) - SHOWN_INVALID_LINES} more", err=True)
        _fail(f"{len(invalid.problems)} line(s) in {file} cannot be sent; nothing was sent", 2)
    except KeyboardInterrupt:
        _fail("interrupted while checking the input; nothing was sent", EXIT_INTERRUPTED)
    if total == 0:
        _fail(f"{file} holds no prompt (it is empty, or only blank lines and # comments); nothing was sent", 2)
    _writable_folder(out)
    show = sys.stderr.isatty() if show_progress is None else show_progress

    async def main() -> Any:
        async with client:
            return await run_batch(source, total, out, client, limit, progress=show, **run_options)

    settle()
    try:
        with FolderLock(out):
            summary = asyncio.run(main())
    except (FolderBusy, ManifestError) as refused:
        _fail(f"{refused}; nothing was sent", 2)
    except KeyboardInterrupt:  # before the run's own handlers: reading and compacting the manifest
        _fail("interrupted before the run started; nothing was sent", EXIT_INTERRUPTED)
    for line, problem in summary.manifest_problems[:SHOWN_MANIFEST_PROBLEMS]:
        click.echo(f"warning: {out / MANIFEST} line {line}: {problem}; skipped, its item is done again", err=True)
    if len(summary.manifest_problems) > SHOWN_MANIFEST_PROBLEMS:
        click.echo(f"warning: ... and {len(summary.manifest_problems) - SHOWN_MANIFEST_PROBLEMS} more", err=True)
    ending = "interrupted: " if summary.interrupted else ""
    items = f"{summary.total} item{'' if summary.total == 1 else 's'}"
    filtered = f"{summary.filtered} refused by the content filter before (--retry-filtered sends them), "
    click.echo(
        f"{ending}{items}: {summary.done} done, {summary.skipped} already done, {summary.failed} failed, "
        f"{filtered if summary.filtered else ''}{summary.not_started} not started; manifest: {out / MANIFEST}",
        err=True,
    )
    if summary.failures:
        click.echo(f"{'line':>6}  {'code':<6}  error", err=True)
        for record in sorted(summary.failures, key=lambda r: int(r["line"])):
            error = record["error"]
            click.echo(f"{record['line']:>6}  {error['code'] or '-':<6}  {error['type']}: {error['message']}", err=True)
        if summary.failed > len(summary.failures):
            click.echo(f"... and {summary.failed - len(summary.failures)} more, in the manifest", err=True)
    if isinstance(summary.contact_sheet, Path):
        click.echo(f"contact sheet: {summary.contact_sheet}", err=True)
    elif summary.contact_sheet:
        click.echo(f"warning: {summary.contact_sheet}", err=True)
    for url in summary.unrecorded_urls:
        click.echo(f"paid, not saved and not recorded (the disk is full): {safe_text(url)}", err=True)
    if summary.stopped_by is not None:
        click.echo(f"error: stopped: {_why_stopped(summary.stopped_by, options)}", err=True)
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if summary.stopped_by is not None and summary.stopped_by.scope == "input":
        sys.exit(2)
    if not summary.ok:
        sys.exit(1)


def _why_stopped(error: ImagesError, options: dict[str, Any]) -> str:
    """One sentence: what stopped the batch, and what to do before running the same command again."""
    again = "then run the same command again: it skips what is done"
    code = f" (code {error.code})" if isinstance(error, APIError) and error.code else ""
    if error.scope == "disk":
        return (
            f"{error}. Free space in --out, {again}; images that were paid for but not saved are recorded "
            "in the manifest with their URLs, and the next run fetches them first"
        )
    if isinstance(error, InsufficientBalanceError):
        return f"the account has no balance left{code}. Top it up on the platform, {again}"
    if isinstance(error, AuthenticationError):
        return f"the API key was rejected{code}. Check the key from {_key_source(options)}, {again}"
    if isinstance(error, QuotaExceededError):
        return f"a quota of the account is used up{code}: {error.message}. Wait for it to reset, {again}"
    if isinstance(error, PermissionDeniedError):
        return f"the key may not call this API{code}: {error.message}"
    if isinstance(error, AccountError):
        return f"the account cannot be used{code}: {error.message}. Contact the platform's support"
    return str(error)


def _key_source(options: dict[str, Any]) -> str:
    import os

    from .._config import OPENAI_KEY_VARIABLE, ZHIPU_KEY_VARIABLES

    if options.get("api_key_file"):
        return f"--api-key-file {options['api_key_file']}"
    variables = [name for name in (*ZHIPU_KEY_VARIABLES, OPENAI_KEY_VARIABLE) if os.environ.get(name, "").strip()]
    return variables[0] if variables else "the environment"
