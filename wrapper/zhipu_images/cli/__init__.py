"""The ``zhipu-images`` command line (the ``[cli]`` extra). Imported only when the command runs."""

from __future__ import annotations

import sys
from typing import Any

from .._extras import EXTRAS, install_hint, missing


def main() -> None:
    """The entry point; without the ``[cli]`` extra, one line saying what to install (exit 1), as httpx's does."""
    absent = missing(*EXTRAS["cli"])
    if absent:
        sys.stderr.write(f"zhipu-images: {install_hint('the command line', 'cli', absent)}\n")
        sys.exit(1)
    _commands()
    from ._app import main as run

    run()


def _commands() -> Any:
    """The click group, its commands registered."""
    from . import (  # noqa: F401  (register the commands)
        _batch_command,
        _conformance_command,
        _fake_server_command,
        _generate_command,
        _rules_commands,
    )
    from ._app import app

    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # for running a command within a process (and click's test runner)
        return _commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
