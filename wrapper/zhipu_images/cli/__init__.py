"""The ``zhipu-images`` command line. Imported only when the command runs."""

from ._app import app, main

__all__ = ["app", "main"]
