"""Shared test configuration: Hypothesis profiles (fast for `make test`, deep for `make test-deep`)."""

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.processes import PLATFORM_VARIABLES

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
