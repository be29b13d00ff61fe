"""The ``generate`` command: one request, its images saved into --out, a line (or a JSON object) each."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from .. import _tls as tls
from .._exceptions import ImagesError
from .._explanations import content_filter_note
from .._limits import TIERS
from .._redact import safe_text
from .._results import GeneratedImage
from .._validation import ImageRequest
from ._app import (
    _client_options,
    _connection_options,
    _describe,
    _endpoint_problem,
    _fail,
    _in_cli_words,
    _request_options,
    _request_params,
    _validated,
    _writable_folder,
    app,
)

if TYPE_CHECKING:  # the client imports httpx: loaded when the command runs, not by --help
    from .._client import ImagesClient


@app.command()
@click.argument("prompt")
@_request_options
@click.option(
    "--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("images"), show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@_connection_options
def generate(prompt: str, out: Path, as_json: bool, **options: Any) -> None:
    """Generate images for PROMPT and save them into --out."""
    if not options["fake"]:
        tls.prepare()  # made while the client is imported
    created = not out.exists()
    try:
        _generate(prompt, out, as_json, options)
    finally:
        if created:  # a failed call leaves no empty folder behind
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty


def _generate(prompt: str, out: Path, as_json: bool, options: dict[str, Any]) -> None:
    verbose = options["verbose"]
    request = _validated(prompt, _request_params(options), verbose)
    _writable_folder(out)
    failure: ImagesError | None = None
    with _sync_client(options) as client:
        _check_endpoint(client, request, verbose)
        try:
            result = client.generate(
                request.prompt,
                model=request.model,
                allow_unknown_model=options["allow_unknown_model"],
                **request.parameters(),
            )
        except ImagesError as error:
            if error.partial_result is None:
                _fail(_describe(error), 1, verbose)
            result, failure = error.partial_result, error  # the images that did succeed were paid for: save them
        saved = [_saved(client, image, out) for image in result.images]
    pairs = list(zip(result.images, saved, strict=True))
    unsaved = [(image, outcome) for image, outcome in pairs if isinstance(outcome, ImagesError)]
    if as_json:
        document = {
            "request": {k: v for k, v in attrs.asdict(request).items() if v is not None},
            "images": [_image_entry(image, outcome) for image, outcome in pairs],
            "content_filter": [{"role": role, "level": level} for role, level in result.content_filter],
            "request_ids": list(result.request_ids),
        }
        if failure is not None:
            document["error"] = _describe(failure)
        click.echo(json.dumps(document, ensure_ascii=False))
    else:
        for outcome in saved:
            if isinstance(outcome, Path):
                click.echo(str(outcome))
        for role, level in result.content_filter:  # every note is in --json; here, those that mean something
            if note := content_filter_note(role, level):
                click.echo(f"note: {note}", err=True)
        for image, outcome in unsaved:
            where = ""
            if image.url:
                expired = "HTTP 404" in str(outcome) or "HTTP 410" in str(outcome)
                kept = "it no longer answers" if expired else "the platform keeps it for 30 days"
                where = f"; its URL: {safe_text(image.url)} ({kept})"
            click.echo(f"error: not saved: {_describe(outcome)}{where}", err=True)
    if failure is not None:
        _fail(f"{_describe(failure)} ({len(result.images)} of {request.n} images generated)", 1, verbose)
    if unsaved:
        sys.exit(1)


def _check_endpoint(client: ImagesClient, request: ImageRequest, verbose: bool) -> None:
    problem = _endpoint_problem(client, request)
    if problem is not None:
        _fail(problem, 2, verbose)


def _saved(client: ImagesClient, image: GeneratedImage, out: Path) -> Path | ImagesError:
    try:
        return client.download(image, out)
    except ImagesError as error:
        return error


def _image_entry(image: GeneratedImage, outcome: Path | ImagesError) -> dict[str, Any]:
    if isinstance(outcome, Path):
        return {"path": str(outcome), "url": image.url}
    return {"path": None, "url": image.url, "error": _describe(outcome)}


def _sync_client(options: dict[str, Any]) -> ImagesClient:
    if options["fake"]:
        from ..fake import FakePlatform, fake_client

        platform = options["platform"]
        return fake_client(
            FakePlatform(latency=options["fake_latency"], platform=platform or "bigmodel"), platform=platform
        )
    try:
        # With a shared budget, one generate call takes its part of the account's limit (the V0 tier's 5).
        cap = TIERS["V0"] if options["shared_budget"] else None
        from .._client import ImagesClient

        return ImagesClient(**_client_options(options), max_concurrency=cap)
    except ImagesError as error:
        _fail(_in_cli_words(str(error)), 2, options["verbose"])
