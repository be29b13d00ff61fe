"""Which interpreter runs what.

The library is measured in ``.venv-lib``, which holds only its runtime dependencies (and the ``redis``
extra): what a service that installs it gets, so a missing or an extra dependency shows in the numbers
(httpcore retried ``import sniffio`` on every async request where sniffio was missing; httpx loads its
own CLI where click, rich and pygments are present). The comparison SDKs run in ``.venv-bench``, which
runs this driver. ``make bench`` sets ``ZHIPU_IMAGES_BENCH_LIB_PYTHON``; without it both are this one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Not resolved: a venv's python is a symlink, and the venv is found from the link's own folder.
LIB_PYTHON = os.environ.get("ZHIPU_IMAGES_BENCH_LIB_PYTHON") or sys.executable
PEER_PYTHON = sys.executable


def lib_cli() -> str:
    """The ``zhipu-images`` command of the library's venv."""
    return str(Path(LIB_PYTHON).with_name("zhipu-images"))


def separate() -> bool:
    return os.path.abspath(LIB_PYTHON) != os.path.abspath(PEER_PYTHON)


def run_json(python: str, module: str, *arguments: object, timeout: float = 1800) -> Any:
    """Run ``python -m module arguments`` from the repository root; its last stdout line, parsed as JSON."""
    done = subprocess.run(
        [python, "-m", module, *map(str, arguments)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {arguments} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
