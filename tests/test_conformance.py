"""``zhipu-images conformance`` against real endpoints: the fake-server process (every probe holds), a Prism
mock of the vendored spec (the prose rules it does not enforce are named), and the newest platform profile."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import HostileServer
from tests.prism import prism_executable
from tests.processes import child_env, free_port, wait_listening
from zhipu_images._spec_schemas import PACKAGES
from zhipu_images.conformance import Endpoints, catalogue, differences, run_probes

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "zhipu_images"]
KEY = "sk-conformance-key-31337"
PROFILES = ROOT / "tests" / "profiles"


@pytest.fixture(scope="module")
def fake_server() -> Iterator[str]:
    """A `zhipu-images fake-server` process that accepts only KEY; its URL."""
    process = subprocess.Popen(
        [*CLI, "fake-server", "--port", "0", "--api-key", KEY], stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    url = process.stderr.readline().strip().removeprefix("fake platform on ")
    try:
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def conformance(*args: str, key_file: Path) -> subprocess.CompletedProcess[str]:
    env = child_env()
    return subprocess.run(
        [*CLI, "conformance", *args, "--api-key-file", str(key_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key"
    path.write_text(KEY)
    return path


def test_every_probe_holds_against_the_fake_server(fake_server: str, key_file: Path, tmp_path: Path) -> None:
    junit = tmp_path / "conformance.xml"
    done = conformance(
        "--base-url",
        f"{fake_server}/api/paas/v4",
        "--openai-base-url",
        f"{fake_server}/v1",
        "--allow-paid",
        "4",
        "--json",
        "--junit",
        str(junit),
        key_file=key_file,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert all(set(entry) == {"probe", "expected", "observed", "ok"} for entry in report)
    failing = [entry for entry in report if not entry["ok"]]
    assert failing == []
    names = [entry["probe"] for entry in report]
    assert len(names) == len(set(names)) >= 30
    assert names.index("zhipu.auth.no_header") < names.index("zhipu.generate.defaults.glm-image")  # free first
    paid = [entry for entry in report if entry["probe"].startswith("zhipu.generate.")]
    assert [entry["observed"].split(";")[0] for entry in paid] == [
        "HTTP 200, a 1280x1280 PNG",
        "HTTP 200, a 1024x1024 PNG",
        "HTTP 200, a 1024x1024 PNG",
        "HTTP 200, a 1024x1024 PNG",
    ]
    assert "billed: 0.06 CNY" in paid[2]["observed"]
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == (str(len(report)), "0")


def test_paid_probes_run_only_when_allowed_and_never_more_than_allowed(fake_server: str, key_file: Path) -> None:
    done = conformance("--base-url", f"{fake_server}/api/paas/v4", "--allow-paid", "1", "--json", key_file=key_file)
    assert done.returncode == 0, done.stderr
    paid = [entry for entry in json.loads(done.stdout) if entry["probe"].startswith("zhipu.generate.")]
    assert sum(entry["observed"].startswith("HTTP 200") for entry in paid) == 1
    assert sum(entry["observed"].startswith("not run") for entry in paid) == 3


def test_an_endpoint_that_breaks_the_contract_exits_1_and_says_how(key_file: Path, fake_server: str) -> None:
    """A key the fake does not accept: every probe needing one now fails, and the table says what came back."""
    key_file.write_text("not-the-key")
    done = conformance("--base-url", f"{fake_server}/api/paas/v4", key_file=key_file)
    assert done.returncode == 1
    assert "FAIL zhipu.model.unknown: HTTP 401, code 401" in done.stdout


def test_the_task_api_is_probed_free_and_a_paid_task_is_followed_to_its_png(fake_server: str, key_file: Path) -> None:
    done = conformance("--base-url", f"{fake_server}/api/paas/v4", "--allow-paid", "5", "--json", key_file=key_file)
    assert done.returncode == 0, done.stdout + done.stderr
    observed = {entry["probe"]: entry["observed"] for entry in json.loads(done.stdout)}
    assert observed["zhipu.task.model.no_task_api.cogview-4-250304"] == "HTTP 400, code 1212"
    assert observed["zhipu.task.size.multiple_of.glm-image"] == "HTTP 400, code 1214"
    assert observed["zhipu.task.result.unknown_id"] == "HTTP 400, code 1214"
    assert observed["zhipu.task.auth.no_header"] == "HTTP 401, code 1001"
    assert observed["zhipu.task.defaults.glm-image"].startswith("HTTP 200, a 1280x1280 PNG; billed")


def test_an_endpoint_that_accepts_everything_is_stopped_at_its_first_accepted_refusal(key_file: Path) -> None:
    with HostileServer() as hostile:
        done = conformance("--base-url", hostile.base_url("good"), "--json", key_file=key_file)
        generations = hostile.requests[("good", "POST")]
    assert done.returncode == 1
    report = json.loads(done.stdout)
    accepted = [entry for entry in report if entry["observed"].startswith("HTTP 200: accepted, an image")]
    assert len(accepted) == 1  # one refusal probe generated, with the key; then nothing more was sent
    stopped = [entry for entry in report if "the run stopped" in entry["observed"]]
    assert len(stopped) == len(report) - [e["probe"] for e in report].index(accepted[0]["probe"]) - 1
    # the probes without a valid key (no account to bill) before it, and the one that was accepted
    assert generations == [e["probe"] for e in report].index(accepted[0]["probe"]) + 1


def test_usage_errors_exit_2(key_file: Path) -> None:
    assert conformance("--base-url", "ftp://nowhere", key_file=key_file).returncode == 2
    assert conformance("--base-url", "http://127.0.0.1:9", "--allow-paid", "-1", key_file=key_file).returncode == 2


@pytest.fixture(scope="module")
def prism_mock() -> Iterator[str]:
    """`prism mock` of the image operations of the platform's document (as generated from) on a free loopback port."""
    prism = prism_executable()
    if isinstance(prism, str):
        pytest.skip(prism)
    port = free_port()
    spec = ROOT / "generated" / PACKAGES["zhipu"] / "openapi.json"
    process = subprocess.Popen(
        [str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if not wait_listening(port, within=60):
        process.kill()
        pytest.fail("prism did not start listening within 60 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_prism_mock_is_reported_for_the_prose_rules_it_does_not_enforce(prism_mock: str, key_file: Path) -> None:
    # a mock bills nothing: its accepted refusals may go on past the first (--allow-paid)
    done = conformance("--base-url", f"{prism_mock}/paas/v4", "--allow-paid", "100", key_file=key_file)
    assert done.returncode == 1
    summary = done.stdout.splitlines()
    unenforced = next(line for line in summary if line.startswith("prose rules this endpoint does not enforce"))
    for rule in ("sides multiples of 16", "sides multiples of 32", "at most 2097152 pixels", "sides at least 512"):
        assert rule in unenforced
    assert any(line.startswith("business codes the platform does not document") for line in summary)
    assert "may have been billed" in done.stdout  # it "generated" images for requests the platform refuses


def test_the_fake_agrees_with_the_newest_platform_profile(fake_server: str) -> None:
    newest = max(PROFILES.glob("*.json"))
    profile = json.loads(newest.read_text(encoding="utf-8"))
    endpoints = Endpoints(zhipu=f"{fake_server}/api/paas/v4/images/generations", openai=None, api_key=KEY)
    wanted = {entry["probe"] for entry in profile}
    outcomes = list(run_probes([p for p in catalogue(openai=False) if p.name in wanted], endpoints))
    assert differences(profile, outcomes) == [], f"the fake differs from {newest.name}"
    observed = {outcome.probe: outcome.observed for outcome in outcomes}
    assert all(observed[entry["probe"]] == entry["observed"] for entry in profile)


def test_a_probe_whose_answer_drips_ends_at_its_deadline() -> None:
    """A byte every 50 ms never trips a read timeout; the probe's own deadline ends it."""
    with HostileServer() as hostile:
        endpoints = Endpoints(zhipu=hostile.base_url("trickle_body") + "/images/generations", openai=None, api_key=KEY)
        probe = next(p for p in catalogue(openai=False) if p.name == "zhipu.model.unknown")
        (outcome,) = list(run_probes([probe], endpoints, timeout=1.0))
    assert not outcome.ok
    assert "still arriving after 1 s" in outcome.observed
    assert outcome.billed  # a 200 that never ended may have been a generation
