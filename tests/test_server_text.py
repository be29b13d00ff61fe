"""Whatever text a server sends can be written everywhere it goes: lone surrogate halves (a gateway that cut a
string inside an emoji), noncharacters, and the key written with an escaped character. Through the real CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import HostileServer
from tests.test_cli_hostile_input import cli
from tests.test_hostile_server import KEY, assert_clean
from zhipu_images import ImagesClient, ImagesError, UnexpectedResponseError
from zhipu_images._responses import Answer, error_from_response


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key"
    path.write_text(KEY)
    return path


def test_a_batch_records_what_it_paid_for_when_the_answer_holds_a_lone_surrogate(
    tmp_path: Path, hostile: HostileServer, key_file: Path
) -> None:
    source = tmp_path / "prompts.txt"
    source.write_text("a cat\na dog\n")
    out = tmp_path / "out"
    before = hostile.requests[("lone_surrogate", "POST")]
    done = cli("batch", str(source), "--base-url", hostile.base_url("lone_surrogate"), "--out", str(out), "--sync",
               key_file=key_file)  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [record["status"] for record in records] == ["done", "done"]
    assert all(record["urls"] and record["request_ids"] == ["req-\ufffd"] for record in records)
    assert hostile.requests[("lone_surrogate", "POST")] - before == 2  # paid twice, recorded twice
    assert (out / "index.html").read_text(encoding="utf-8")


def test_generate_json_prints_json_when_the_answer_holds_a_lone_surrogate(
    tmp_path: Path, hostile: HostileServer, key_file: Path
) -> None:
    done = cli("generate", "a cat", "--base-url", hostile.base_url("lone_surrogate"), "--out", str(tmp_path), "--json",
               key_file=key_file)  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["images"][0]["path"]


def test_an_error_message_with_a_lone_surrogate_is_shown_and_is_one_line(
    tmp_path: Path, hostile: HostileServer, key_file: Path
) -> None:
    done = cli("generate", "a cat", "--base-url", hostile.base_url("lone_surrogate_error"), "--out", str(tmp_path),
               key_file=key_file)  # fmt: skip
    assert done.returncode == 1
    assert "bad \ufffd size" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_key_with_an_escaped_character_is_scrubbed_from_messages_manifest_and_contact_sheet(
    tmp_path: Path, hostile: HostileServer, key_file: Path
) -> None:
    source = tmp_path / "prompts.txt"
    source.write_text("a cat\n")
    out = tmp_path / "out"
    done = cli("batch", str(source), "--base-url", hostile.base_url("escaped_key_error"), "--out", str(out), "--sync",
               key_file=key_file)  # fmt: skip
    assert done.returncode == 1
    assert "bad key ***" in done.stderr
    assert_clean(done.stdout + done.stderr)
    assert_clean((out / "manifest.jsonl").read_text(encoding="utf-8"))
    assert_clean((out / "index.html").read_text(encoding="utf-8"))


def test_every_report_format_holds_what_the_server_sent(tmp_path: Path, hostile: HostileServer, key_file: Path) -> None:
    junit = tmp_path / "report.xml"
    done = cli("conformance", "--base-url", hostile.base_url("lone_surrogate_error"), "--junit", str(junit),
               key_file=key_file)  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    ET.parse(junit)  # well-formed XML, whatever the server said
    as_json = cli("conformance", "--base-url", hostile.base_url("lone_surrogate_error"), "--json", key_file=key_file)
    json.loads(as_json.stdout)


def test_a_noncharacter_in_an_error_message_is_written_out() -> None:
    import httpx

    body = b'{"error": {"code": "1214", "message": "x\\uffff\\ud800y"}}'
    error = error_from_response(Answer(400, httpx.Headers(), body))
    assert "\\uffff" in str(error)
    str(error).encode("utf-8")  # no lone surrogate left


def test_an_answer_with_one_image_without_a_url_keeps_the_images_that_arrived(
    tmp_path: Path, hostile: HostileServer, key_file: Path
) -> None:
    openai_url = hostile.base_url("one_item_without_url").removesuffix("/api/paas/v4") + "/v1"
    with ImagesClient(api_key=KEY, openai_base_url=openai_url) as client, pytest.raises(UnexpectedResponseError) as cut:
        client.generate("a cat", model="dall-e-2", n=10)
    assert cut.value.may_be_billed
    assert cut.value.partial_result is not None
    assert len(cut.value.partial_result.images) == 9
    source = tmp_path / "items.jsonl"
    source.write_text('{"prompt": "a cat", "model": "dall-e-2", "n": 3}\n')
    out = tmp_path / "out"
    done = cli("batch", str(source), "--openai-base-url", openai_url, "--out", str(out), key_file=key_file)
    assert done.returncode == 1
    (record,) = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(record["files"]) == 2  # the two images that arrived were recorded and saved
    assert len([url for url in record["urls"] if url]) == 2


def test_no_debug_log_line_holds_the_key_a_server_echoes_in_a_header(
    hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    with (
        caplog.at_level(logging.DEBUG),
        ImagesClient(api_key=KEY, base_url=hostile.base_url("echo_key"), max_retries=0) as client,
        pytest.raises(ImagesError),
    ):
        client.generate("a cat", model="cogview-4")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "x-request-id" in logged  # httpcore did log the response headers
    assert KEY not in logged
