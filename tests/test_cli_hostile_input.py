"""The command line against odd input and a hostile server: a one-line error and an exit code, never a traceback,
and never the key, whatever the server echoes.

Run through the real entry point (``python -m zhipu_images``) so that what
reaches the process is what a shell would pass: bytes that are not UTF-8
included.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import HostileServer
from tests.processes import child_env
from tests.test_hostile_server import KEY, assert_clean

CLI = [sys.executable, "-m", "zhipu_images"]


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


def cli(*args: str | bytes, key_file: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = child_env()
    command = [*CLI, *args, *(["--api-key-file", str(key_file)] if key_file else [])]
    return subprocess.run(command, capture_output=True, text=True, errors="replace", env=env, cwd=cwd, timeout=120)


def assert_usage_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr


def test_a_prompt_argument_that_is_not_utf8_is_a_validation_error(tmp_path: Path) -> None:
    done = cli("generate", b"\xff\xfe a cat", "--fake", "--out", str(tmp_path / "out"))
    assert_usage_error(done, "prompt:", "lone surrogate")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x00\xff\xfe\x81", ["not UTF-8 text"]),
        (b"first-key\nsecond-key\n", ["holds 2 lines"]),
        ("key\u200bwith-a-zero-width-space".encode(), ["U+200B"]),
        ("clé".encode(), ["U+00E9"]),
        (b"\n\n", ["is empty"]),
    ],
)
def test_an_odd_api_key_file_is_a_usage_error_that_does_not_print_the_key(
    tmp_path: Path, content: bytes, words: list[str]
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(content)
    done = cli("generate", "a cat", "--base-url", "http://127.0.0.1:9/api/paas/v4", key_file=key_file)
    assert_usage_error(done, "--api-key-file", *words)
    for part in content.decode("utf-8", "replace").split():
        if len(part) > 3:
            assert part not in done.stderr


@pytest.mark.parametrize("url", ["http://[::1", "http://a\x01b/api", "ftp://host/api"])
def test_a_base_url_that_cannot_be_used_is_a_usage_error(tmp_path: Path, url: str) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("a-key")
    assert_usage_error(cli("generate", "a cat", "--base-url", url, key_file=key_file), "--base-url:")


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_a_fake_latency_that_is_not_seconds_is_a_usage_error(value: str) -> None:
    assert_usage_error(cli("generate", "a cat", "--fake", "--fake-latency", value), "--fake-latency")


@pytest.mark.parametrize(
    "arguments", [["--latency", "-1"], ["--latency", "nan"], ["--latency", "2", "--latency-max", "1"]]
)
def test_fake_server_refuses_a_latency_it_cannot_serve_at_start(arguments: list[str]) -> None:
    assert_usage_error(cli("fake-server", "--port", "0", *arguments), "latency")


def test_batch_lines_json_cannot_carry_are_reported_by_line_before_sending(tmp_path: Path) -> None:
    lines = [
        '{"prompt": "fine"}',
        '{"prompt": "a cat", "n": ' + "9" * 5000 + "}",
        '{"prompt": ' + "[" * 100_000 + '"a"' + "]" * 100_000 + "}",
        '{"prompt": "\\ud800 a lone surrogate"}',
    ]
    source = tmp_path / "prompts.jsonl"
    source.write_text("\n".join(lines) + "\n")
    done = cli("batch", str(source), "--fake", "--out", str(tmp_path / "out"))
    assert_usage_error(done, f"{source}:2:", f"{source}:3:", f"{source}:4:", "nothing was sent")
    assert f"{source}:1:" not in done.stderr


def test_generate_prints_nothing_of_a_key_the_server_echoes(tmp_path: Path, hostile: HostileServer) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    for mode in ("echo_key", "echo_key_html", "echo_key_success"):
        for extra in ([], ["--json"]):
            done = cli(
                "generate",
                "a cat",
                "--base-url",
                hostile.base_url(mode),
                "-o",
                str(tmp_path),
                *extra,
                key_file=key_file,
            )
            assert done.returncode == 1, done.stderr  # the errors, or (success) an image URL that does not answer
            assert "Traceback" not in done.stderr
            assert_clean(done.stdout + done.stderr)


def test_batch_writes_nothing_of_a_key_the_server_echoes(tmp_path: Path, hostile: HostileServer) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    source = tmp_path / "prompts.txt"
    source.write_text("a cat\na dog\n")
    out = tmp_path / "out"
    for mode in ("echo_key", "echo_key_success"):
        done = cli(
            "batch",
            str(source),
            "--base-url",
            hostile.base_url(mode),
            "--out",
            str(out),
            "--rate-limit-wait",
            "0",  # echo_key answers 429: fail at once rather than wait it out
            key_file=key_file,
        )
        assert done.returncode == 1
        assert_clean(done.stdout + done.stderr)
        assert_clean((out / "manifest.jsonl").read_text())


def test_a_failed_generate_leaves_no_empty_out_folder(tmp_path: Path) -> None:
    out = tmp_path / "new" / "images"
    done = cli("generate", "违禁 a filtered prompt", "--fake", "--out", str(out))
    assert done.returncode == 1
    assert "ContentFilterError" in done.stderr
    assert not out.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    assert cli("generate", "违禁 again", "--fake", "--out", str(existing)).returncode == 1
    assert existing.is_dir()  # a folder that was there stays
