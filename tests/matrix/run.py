"""``make test-matrix``: the suite with the oldest versions pyproject.toml allows, with the newest, and on every
Python of 3.11-3.13 the machine has (one that is absent is skipped, with a line saying so).

Each run has a venv of its own under ``.venv-matrix/``, made again only when what it was made from changed.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENVS = ROOT / ".venv-matrix"
#: what a run's report names of the versions it resolved
SHOWN = ("httpx", "httpcore", "attrs", "click", "tqdm", "charset-normalizer", "jsonschema", "respx", "redis")


@dataclass(frozen=True)
class Run:
    name: str
    python: str
    #: pip arguments that choose the versions, beside the library and its extras
    versions: tuple[str, ...]
    why: str
    #: then the library's own dependencies upgraded to the newest its ranges allow, even past a test tool's cap
    #: (the pinned generator caps httpx below a release the library accepts)
    upgrade_runtime: bool = False


RUNS = (
    Run("oldest", "3.11", ("-c", str(HERE / "oldest.txt"), "-r", str(HERE / "tools.txt")), "each dependency's floor"),
    Run("pinned", "3.12", ("-r", str(ROOT / "requirements-dev.txt")), "the development pins"),
    Run("newest", "3.13", ("-r", str(HERE / "tools.txt")), "the newest versions the ranges allow", True),
)


def interpreter(version: str) -> str | None:
    """A working python``version``: on PATH or among pyenv's versions (pyenv's shim on PATH may name a
    version it will not run)."""
    home = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        shutil.which(f"python{version}"),
        *sorted(glob.glob(f"{home}/versions/{version}.*/bin/python{version}")),
    ]
    for candidate in filter(None, candidates):
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def _fingerprint(run: Run, python: str) -> str:
    inputs = [python, *run.versions, str(run.upgrade_runtime), (ROOT / "pyproject.toml").read_text()]
    inputs += [Path(arg).read_text() for arg in run.versions if arg.endswith(".txt")]
    return hashlib.sha256("\0".join(inputs).encode()).hexdigest()


def venv_for(run: Run, python: str) -> Path:
    venv = VENVS / run.name
    stamp = venv / ".made-from"
    fingerprint = _fingerprint(run, python)
    if stamp.exists() and stamp.read_text() == fingerprint:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *run.versions, "-e", f"{ROOT}[all]"], check=True, cwd=ROOT)
    if run.upgrade_runtime:
        runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        subprocess.run([*pip, "--upgrade", *runtime], check=True, cwd=ROOT)
    stamp.write_text(fingerprint)
    return venv


def resolved(venv: Path) -> str:
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    versions = dict(line.lower().split("==", 1) for line in frozen.splitlines() if "==" in line)
    return " ".join(f"{name} {versions[name]}" for name in SHOWN if name in versions)


def main() -> int:
    failed: list[str] = []
    for run in RUNS:
        python = interpreter(run.python)
        if python is None:
            print(f"test-matrix: {run.name}: Python {run.python} is not on this machine; this run is skipped")
            continue
        venv = venv_for(run, python)
        print(f"test-matrix: {run.name} ({run.why}) on Python {run.python}: {resolved(venv)}", flush=True)
        env = {
            **os.environ,
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "HYPOTHESIS_PROFILE": "ci",
            "VIRTUAL_ENV": str(venv),
        }
        started = time.monotonic()
        done = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-n", "auto", "-q"], env=env, cwd=ROOT)
        outcome = "passed" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        print(f"test-matrix: {run.name} on Python {run.python}: {outcome} in {time.monotonic() - started:.0f} s")
        if done.returncode != 0:
            failed.append(run.name)
    if failed:
        print(f"test-matrix: failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
