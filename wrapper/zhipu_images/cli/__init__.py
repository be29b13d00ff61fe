"""The ``zhipu-images`` command line. Imported only when the command runs."""

from . import _batch_command  # noqa: F401  (registers `batch` on the app)
from ._app import app, main

__all__ = ["app", "main"]
