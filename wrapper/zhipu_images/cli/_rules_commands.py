"""The commands that send nothing: ``models`` (the rule table) and ``check`` (validate one request)."""

from __future__ import annotations

import json
from typing import Any

import attrs
import click

from .._rules import MODELS
from ._app import _request_options, _request_params, _validated, app


@app.command()
def models() -> None:
    """The models and their rules: sizes, qualities, defaults."""
    rows = [("model", "provider", "default size", "custom sizes", "quality (default)", "n", "prompt")]
    for rules in MODELS.values():
        custom = rules.custom_sizes
        if custom is None:
            sizes = "only " + ", ".join(rules.recommended_sizes)
        else:
            top = f"-{custom.max_side}" if custom.max_side else "+"
            sizes = f"sides {custom.min_side}{top}, /{custom.multiple_of}, <= 2^{custom.max_pixels.bit_length() - 1} px"
        quality = ", ".join(q + ("*" if q == rules.default_quality else "") for q in rules.qualities) or "-"
        limit = str(rules.max_prompt_chars) if rules.max_prompt_chars else "-"
        rows.append(
            (
                rules.name,
                rules.provider,
                rules.default_size or "-",
                sizes,
                quality,
                f"{rules.n_range[0]}-{rules.n_range[1]}",
                limit,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    click.echo("\nrecommended sizes:")
    for rules in MODELS.values():
        click.echo(f"  {rules.name}: {', '.join(rules.recommended_sizes)}")


@app.command()
@_request_options
@click.option("--prompt", "-p", default="check", show_default=True, help="Prompt to check.")
def check(prompt: str, **options: Any) -> None:
    """Validate a request without sending it; print the request that would be sent."""
    request = _validated(prompt, _request_params(options), False)
    click.echo(
        json.dumps({k: v for k, v in attrs.asdict(request).items() if v is not None}, ensure_ascii=False, indent=2)
    )
