"""The ``zhipu-images`` command line. Imported only when the command runs."""

from . import (  # noqa: F401  (register the commands)
    _batch_command,
    _conformance_command,
    _fake_server_command,
    _generate_command,
    _rules_commands,
)
from ._app import app, main

__all__ = ["app", "main"]
