"""Prism (the npm package @stoplight/prism-cli), found or installed into a cache outside the checkout.

``make prism`` and the tests install it the same way: ``npm install`` into
``$XDG_CACHE_HOME/zhipu-images/prism`` (default ``~/.cache``), pinned. Where npm
is missing, ``prism_executable`` says why, and the tests that need Prism skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PRISM_PACKAGE = "@stoplight/prism-cli@5.14.2"


def cache_folder() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "zhipu-images" / "prism"


def prism_executable() -> Path | str:
    """The prism executable, installing it on first use; or, as a string, why it cannot be had."""
    folder = cache_folder()
    executable = folder / "node_modules" / ".bin" / "prism"
    if executable.exists():
        return executable
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed (Prism is an npm package: install Node.js and npm, then run `make prism`)"
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(folder), PRISM_PACKAGE],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not executable.exists():
        return f"npm could not install {PRISM_PACKAGE}: {done.stderr.strip()[-500:]}"
    return executable


if __name__ == "__main__":  # `make prism`
    found = prism_executable()
    print(found)
    sys.exit(0 if isinstance(found, Path) else 1)
