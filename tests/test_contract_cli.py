"""A bounded `schemathesis run` (the CLI, as another team would use it) against `zhipu-images fake-server`."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

KEY = "cli-contract-key"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    process = subprocess.Popen(
        [str(BIN / "zhipu-images"), "fake-server", "--port", "0", "--api-key", KEY], stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        yield process.stderr.readline().strip().removeprefix("fake platform on ")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


@pytest.mark.parametrize(("package", "base"), [("zhipu_images_api", "/api"), ("openai_images_api", "")])
def test_schemathesis_cli_finds_no_issue(server_url: str, package: str, base: str) -> None:
    document = resources.files(package).joinpath("openapi.json")
    command = [
        str(BIN / "schemathesis"),
        "run",
        str(document),
        "--url",
        f"{server_url}{base}",
        "--header",
        f"Authorization: Bearer {KEY}",
        # The fake enforces the prose rules, which are stricter than the schema (see test_contract_schemathesis.py).
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        "30",
        "--seed",
        "20261122",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    # Every generated case passed. (For the OpenAI document Schemathesis also warns that most bodies
    # are rejected: its `model` is any string, and the fake knows only dall-e-2 and dall-e-3.)
    counts = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert counts is not None, result.stdout[-3000:]
    assert int(counts[1]) == int(counts[2]) > 50
