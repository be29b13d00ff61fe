"""The ``zhipu-images`` command line. Imported only when the command runs."""

from . import _batch_command, _conformance_command, _fake_server_command  # noqa: F401  (register the commands)
from ._app import app, main

__all__ = ["app", "main"]
