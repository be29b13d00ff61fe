"""Shared test configuration: Hypothesis profiles (fast for `make test`, deep for `make test-deep`)."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.processes import PLATFORM_VARIABLES
from zhipu_images import _tls

# pytester runs a service-like test file against the installed pytest plugin.
pytest_plugins = ["pytester"]

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No platform key, URL or fake switch from the developer's own environment, in every test
    (and in the processes tests start); a test that needs one sets it on this fixture."""
    for name in PLATFORM_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(autouse=True)
def nothing_prepared() -> Iterator[None]:
    """A TLS context a test's command made ahead and no client took would go to a later test's client."""
    yield
    _tls._prepared = None


def _git_status() -> str | None:
    """``git status --porcelain`` of the checkout, or None where it is not a git repository, or where the suite
    runs in ``make mutation``'s copy (inside the checkout, whose status would be the developer's, not the suite's)."""
    import subprocess
    from pathlib import Path

    if "MUTANT_UNDER_TEST" in os.environ:
        return None
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


_STATUS_BEFORE: list[str | None] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _STATUS_BEFORE.append(_git_status())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite leaves the checkout as it found it: what it writes belongs in temporary folders or .gitignore."""
    before, after = _STATUS_BEFORE[0] if _STATUS_BEFORE else None, _git_status()
    if before is None or after is None or after == before:
        return
    new = sorted(set(after.splitlines()) - set(before.splitlines()))
    if new:
        print("\nthe test suite changed the checkout (git status --porcelain):\n  " + "\n  ".join(new))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
