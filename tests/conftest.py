"""Shared test configuration: Hypothesis profiles (fast for `make test`, deep for `make test-deep`)."""

import os

from hypothesis import HealthCheck, settings

# pytester runs a service-like test file against the installed pytest plugin.
pytest_plugins = ["pytester"]

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
