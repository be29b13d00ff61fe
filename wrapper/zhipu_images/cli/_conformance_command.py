"""The ``conformance`` command: exit 0 when every probe holds, 1 when one does not, 2 for usage errors."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .._exceptions import ConfigurationError
from ._app import _api_key, _in_cli_words, app


@app.command()
@click.option(
    "--base-url", required=True, help="The Zhipu API base URL to check, e.g. http://127.0.0.1:8000/api/paas/v4."
)
@click.option("--openai-base-url", help="An OpenAI-compatible base URL to check too, e.g. http://127.0.0.1:8000/v1.")
@click.option(
    "--api-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The key for the probes that need one (default: ZHIPUAI_API_KEY or ZAI_API_KEY).",
)
@click.option(
    "--allow-paid",
    type=click.IntRange(0, 100),
    default=0,
    show_default=True,
    metavar="N",
    help="Also run up to N probes that generate an image on purpose (billed; the report lists the cost).",
)
@click.option("--json", "as_json_output", is_flag=True, help="Print a JSON list of {probe, expected, observed, ok}.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write a JUnit XML report here.")
def conformance(
    base_url: str,
    openai_base_url: str | None,
    api_key_file: Path | None,
    allow_paid: int,
    as_json_output: bool,
    junit: Path | None,
) -> None:
    """Check an endpoint against the contract: refusals first (free), then, if allowed, paid generations."""
    import os

    from .._config import ZHIPU_KEY_VARIABLES, resolve_endpoints
    from ..conformance import Endpoints, as_json, as_table, catalogue, run_probes, write_junit

    key = _api_key(api_key_file) or next(
        (os.environ[name].strip() for name in ZHIPU_KEY_VARIABLES if os.environ.get(name, "").strip()), None
    )
    try:
        checked = resolve_endpoints(key or "no-key", base_url, openai_base_url, env={})
    except ConfigurationError as error:
        raise click.UsageError(_in_cli_words(str(error))) from None
    endpoints = Endpoints(zhipu=checked.zhipu_url, openai=checked.openai_url, api_key=key)
    outcomes = list(run_probes(catalogue(openai=endpoints.openai is not None), endpoints, allow_paid=allow_paid))
    if junit is not None:
        write_junit(outcomes, junit)
    click.echo(as_json(outcomes) if as_json_output else as_table(outcomes))
    sys.exit(0 if all(outcome.ok for outcome in outcomes) else 1)
