"""The ``fake-server`` command: the fake platform over HTTP, for other SDKs, other languages and Schemathesis."""

from __future__ import annotations

import signal
import sys

import click

from ._app import _fail, _seconds, app


def _fault_rates(context: click.Context, parameter: click.Parameter, values: tuple[str, ...]) -> dict[str, float]:
    from ..fake import checked_fault_rates

    rates: dict[str, float] = {}
    for value in values:
        fault, _, rate = value.partition("=")
        try:
            rates[fault.strip()] = float(rate)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not FAULT=P, e.g. server_error=0.1") from None
    try:
        checked_fault_rates(rates)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return rates


@app.command("fake-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--api-key", help="Accept only this key (default: any Bearer token).")
@click.option(
    "--latency", type=float, default=0.0, show_default=True, callback=_seconds, help="Seconds per generation."
)
@click.option(
    "--latency-max", type=float, callback=_seconds, help="With --latency: a random latency in [latency, latency-max]."
)
@click.option("--concurrency-limit", type=int, help="In-flight requests per key before 429/1302 (V0 is 5).")
@click.option(
    "--retry-after",
    type=float,
    callback=_seconds,
    help="Send Retry-After: SECONDS on 1302/1305 (the platform sends none, so neither does the fake by default).",
)
@click.option("--content-filter-word", "words", multiple=True, help="Prompts containing it get 1301 (repeatable).")
@click.option("--balance-exhausted", is_flag=True, help="Answer every generation with 429/1113.")
@click.option("--overloaded", is_flag=True, help="Answer every generation with 429/1305.")
@click.option("--image-urls-expired", is_flag=True, help="Image URLs answer 404, as after 30 days.")
@click.option(
    "--fail-rate",
    "fail_rates",
    multiple=True,
    callback=_fault_rates,
    metavar="FAULT=P",
    help="Answer this share of generations with FAULT, e.g. server_error=0.1 (repeatable). "
    "Faults: rate_limit, overloaded, no_balance, server_error, unavailable, drop, content_filter.",
)
@click.option("--seed", type=int, help="Make random latency and faults repeatable.")
@click.option(
    "--platform",
    type=click.Choice(["bigmodel", "zai"]),
    default="bigmodel",
    show_default=True,
    help="Answer as BigModel does, or as Z.AI does (its models, English messages).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log each request.")
def fake_server(
    host: str,
    port: int,
    api_key: str | None,
    latency: float,
    latency_max: float | None,
    concurrency_limit: int | None,
    retry_after: float | None,
    words: tuple[str, ...],
    balance_exhausted: bool,
    overloaded: bool,
    image_urls_expired: bool,
    fail_rates: dict[str, float],
    seed: int | None,
    platform: str,
    verbose: bool,
) -> None:
    """Run the fake platform on HOST:PORT for other SDKs, other languages and Schemathesis."""
    from ..fake import FakePlatform, FakeServer

    try:
        fake = FakePlatform(
            api_key=api_key,
            latency=(latency, latency_max) if latency_max is not None else latency,
            concurrency_limit=concurrency_limit,
            retry_after=retry_after,
            balance_exhausted=balance_exhausted,
            overloaded=overloaded,
            image_urls_expired=image_urls_expired,
            fault_rates=fail_rates,
            seed=seed,
            platform=platform,
        )
    except ValueError as error:  # e.g. --latency-max below --latency
        raise click.UsageError(str(error)) from None
    if words:
        fake.content_filter_words = words
    try:
        server = FakeServer(host, port, fake, verbose=verbose)
    except OSError as error:
        _fail(f"cannot listen on {host}:{port}: {error.strerror}", 2)
    # Stop on Ctrl-C and SIGTERM even when started in the background, where the shell hands SIGINT down
    # ignored (and Python then never raises KeyboardInterrupt). Before the announcement: whoever reads it
    # may signal at once.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        click.echo(f"fake platform on {server.url}", err=True)
        click.echo(f"  Zhipu base URL:             {server.url}/api/paas/v4", err=True)
        click.echo(f"  OpenAI-compatible base URL: {server.url}/v1", err=True)
        sys.stderr.flush()
        click.echo(server.url)  # on stdout too, alone on its line: for a program that started it with --port 0
        sys.stdout.flush()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        click.echo(
            f"served {fake.received} generation requests; at most {fake.max_in_flight} in flight at once; "
            f"{fake.rate_limited} answered 1302 (over --concurrency-limit); {fake.generated} generated (paid); "
            f"{fake.tasks_submitted} tasks submitted (paid), {fake.polls} polls; "
            f"{fake.latency_total:.3f} s of simulated latency in all",
            err=True,
        )
