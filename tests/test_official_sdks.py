"""The official SDKs, unchanged, against ``fake-server``: what a service's own code would run.

They live in ``.venv-sdk`` (``make test`` builds it from tests/sdk-requirements.txt), apart from the suite's
environment; each scenario is a script in tests/sdk/ run by that interpreter against a real fake server.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import child_env
from zhipu_images.fake import FakePlatform, FakeServer, png_size, running_fake_server

ROOT = Path(__file__).resolve().parent.parent
SDK_PYTHON = ROOT / ".venv-sdk" / "bin" / "python"
KEY = "sdk-test-key.0123456789"


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform(latency=0.2)


@pytest.fixture
def server(platform: FakePlatform) -> Iterator[FakeServer]:
    if not SDK_PYTHON.exists():
        pytest.skip("the official SDKs' venv is missing: `make .venv-sdk/.installed-stamp` (make test builds it)")
    with running_fake_server(platform) as running:
        yield running


def sdk(script: str, *arguments: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(SDK_PYTHON), str(ROOT / "tests" / "sdk" / script), *arguments],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_zai_sdk_task_api_runs_unchanged_against_the_fake_server(server: FakeServer, platform: FakePlatform) -> None:
    seen = sdk("zai_task_api.py", f"{server.url}/api/paas/v4", KEY)
    submitted, state = seen["submitted"], seen["state"]
    assert submitted["task_status"] == "PROCESSING"
    assert submitted["model"] == "glm-image"
    assert state["id"] == submitted["id"]
    assert state["task_status"] == "SUCCESS"
    (image,) = state["image_result"]
    assert png_size(httpx.get(image["url"]).content) == (1280, 1280)
    assert seen["polls"] >= 2  # the task was PROCESSING for the fake's latency, then SUCCESS
    assert (platform.tasks_submitted, platform.generated) == (1, 0)


def test_zai_sdk_sees_a_scripted_task_failure(server: FakeServer, platform: FakePlatform) -> None:
    platform.fail_next("task_fail")
    state = sdk("zai_task_api.py", f"{server.url}/api/paas/v4", KEY)["state"]
    assert state["task_status"] == "FAIL"
    assert state["image_result"] is None


def test_zai_sdk_request_id_names_the_task(server: FakeServer, platform: FakePlatform) -> None:
    seen = sdk("zai_task_api.py", f"{server.url}/api/paas/v4", KEY, "svc-order-000123")
    assert seen["submitted"]["id"] == "svc-order-000123"
    assert seen["state"]["task_status"] == "SUCCESS"


def test_openai_3_on_httpx2_reaches_the_fake_inside_the_fixture() -> None:
    """respx patches httpx only; the fixture's mock answers httpx2 clients (openai >= 3's stack) too."""
    if not SDK_PYTHON.exists():
        pytest.skip("the official SDKs' venv is missing: `make .venv-sdk/.installed-stamp` (make test builds it)")
    seen = sdk("openai_in_fixture.py")
    assert seen["openai"].startswith("3.")
    assert seen["size"] == [1792, 1024]
    assert "512x512" in seen["refused"]  # the fake's own rule, as the platform words it
    assert seen["async_images"] == 2
    assert seen["paths"].count("/v1/images/generations") == 3
    assert seen["generated"] == 2  # the refused request is not a generation
    assert seen["restored"] == "HTTPTransport.handle_request"
