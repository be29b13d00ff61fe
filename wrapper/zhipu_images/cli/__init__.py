"""The ``zhipu-images`` command line. Imported only when the command runs."""

from . import _batch_command, _conformance_command  # noqa: F401  (register `batch`, `conformance`)
from ._app import app, main

__all__ = ["app", "main"]
