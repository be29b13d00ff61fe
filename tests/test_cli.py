"""The zhipu-images command: each command's happy path and errors, batch resume, exit codes, no key in output."""

from __future__ import annotations

import inspect
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from zhipu_images._explanations import content_filter_note
from zhipu_images.cli import app
from zhipu_images.cli._folder_lock import LOCK_FILE
from zhipu_images.fake import FakePlatform, FakeServer, png_size, running_fake_server

KEY = "sk-cli-SECRET-42424242"
CLI = [sys.executable, "-m", "zhipu_images"]


@pytest.fixture
def server(clean_env: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """A fake platform on loopback that accepts only KEY, which the environment holds for the CLI."""
    clean_env.setenv("ZHIPUAI_API_KEY", KEY)
    with running_fake_server(FakePlatform(api_key=KEY)) as running:
        yield running


#: click before 8.2 mixes stderr into stdout unless told not to (8.2 removed the switch and keeps them apart).
_SEPARATE_STDERR: dict[str, Any] = (
    {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters else {}
)


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(**_SEPARATE_STDERR).invoke(app, list(args), env=env, catch_exceptions=False)


def against(server: FakeServer, out: Path) -> list[str]:
    """Options that point a command at ``server``, saving into ``out``."""
    return ["--base-url", f"{server.url}/api/paas/v4", "-o", str(out)]


def pngs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.png"))


def leftovers(folder: Path) -> list[Path]:
    """Hidden files a run left behind, but the folder's lock file, which stays on purpose (removing it would let
    two runs lock two different files)."""
    if not folder.exists():
        return []
    return [p for p in folder.iterdir() if p.name.startswith(".") and p.name != LOCK_FILE]


# --- generate ------------------------------------------------------------------------


def test_generate_with_the_fake_saves_a_glm_image_default_png(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    result = run("generate", "一只可爱的小猫咪", "--fake", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    (saved,) = pngs(tmp_path)
    assert result.stdout.strip() == str(saved)
    assert png_size(saved.read_bytes()) == (1280, 1280)


def test_generate_json_output(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    result = run(
        "generate", "a cat", "--fake", "-m", "cogview-4", "-s", "768×1344", "-n", "2", "--json", "-o", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["request"]["size"] == "768x1344"
    assert len(document["images"]) == 2
    assert all(png_size(Path(image["path"]).read_bytes()) == (768, 1344) for image in document["images"])
    assert document["content_filter"] == [{"role": "assistant", "level": 3}] * 2


def test_generate_invalid_request_is_one_line_exit_2_and_nothing_sent(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    result = run("generate", "a cat", "--fake", "-m", "cogview-4", "-s", "1000x1000", "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: --size:")  # the option the user typed, not the library's argument
    assert "nearest valid size: 992x992" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flags", "start", "python_words"),
    [
        (["-s", "big"], "error: --size: cannot read size 'big'", "tuple"),
        (["--user-id", "ab"], "error: --user-id: 2 characters", "user_id"),
        (
            ["--no-watermark", "-m", "dall-e-3"],
            "error: --watermark/--no-watermark: dall-e-3 does not take --watermark/--no-watermark",
            "watermark_enabled",
        ),
        (["-n", "0"], "error: -n: 0 is outside 1-10", "n:"),
    ],
)
def test_refusals_use_the_command_s_words_not_python_s(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, flags: list[str], start: str, python_words: str
) -> None:
    result = run("generate", "a cat", "--fake", *flags, "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr.startswith(start)
    assert python_words not in result.stderr.split(":", 2)[2]


def test_a_content_filter_note_is_shown_only_when_it_means_something() -> None:
    assert content_filter_note("assistant", 3) is None  # the slightest level: nothing to act on
    assert content_filter_note("user", None) is None
    note = content_filter_note("user", 1)
    assert note is not None
    assert note.startswith("the platform's content filter flagged the prompt at level 1 (0 is the most severe")
    assert "the generated image" in str(content_filter_note("assistant", 0))
    assert "role 'moderator'" in str(content_filter_note("moderator", 2))


def test_generate_prints_no_content_filter_line_for_an_ordinary_image(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    result = run("generate", "a cat", "--fake", "-o", str(tmp_path))  # the fake notes level 3 on every image
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "level" not in result.output


def test_the_tier_option_is_written_as_the_platform_writes_tiers_and_taken_in_any_case(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    assert "--tier [V0|V1|V2|V3]" in run("batch", "--help").stdout
    prompts = tmp_path / "p.txt"
    prompts.write_text("a cat\n")
    assert run("batch", str(prompts), "--fake", "--tier", "v1", "-o", str(tmp_path / "out")).exit_code == 0


def test_generate_platform_error_exit_1_with_code(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    result = run("generate", "违禁 content", "--fake", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert "ContentFilterError (code 1301)" in result.stderr
    assert "Traceback" not in result.output
    assert pngs(tmp_path) == []


def test_missing_key_is_a_clear_usage_error(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    result = run("generate", "a cat", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "no API key" in result.stderr
    assert "ZHIPUAI_API_KEY" in result.stderr


def test_key_file_and_base_url_reach_a_real_server_and_the_key_is_never_printed(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, server: FakeServer
) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    base = ["--api-key-file", str(key_file), *against(server, tmp_path / "out")]
    ok = run("generate", "a cat", *base, "--verbose")
    assert ok.exit_code == 0, ok.output
    key_file.write_text("sk-wrong-key")
    denied = run("generate", "a cat", *base, "--verbose")
    assert denied.exit_code == 1
    assert "AuthenticationError (code 401)" in denied.stderr
    assert KEY not in ok.output + denied.output


@pytest.mark.parametrize("command", ["generate", "batch"])
def test_an_unwritable_out_folder_is_exit_2_before_anything_is_paid_for(
    tmp_path: Path, server: FakeServer, command: str
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n")
    (tmp_path / "a-file").write_text("not a folder")
    subject = "a cat" if command == "generate" else str(prompts)
    result = run(command, subject, *against(server, tmp_path / "a-file" / "images"))
    assert result.exit_code == 2
    assert f"--out {tmp_path / 'a-file' / 'images'}: cannot write there" in result.stderr
    assert "nothing was sent" in result.stderr
    assert server.platform.received == 0


def test_watermark_flag_reaches_the_platform_and_is_refused_where_unsupported(
    tmp_path: Path, server: FakeServer
) -> None:
    assert run("generate", "a cat", "--no-watermark", *against(server, tmp_path / "out")).exit_code == 0
    assert server.platform.requests[-1].json["watermark_enabled"] is False
    refused = run("generate", "a cat", "-m", "dall-e-2", "--no-watermark", "--fake", "-o", str(tmp_path / "out"))
    assert refused.exit_code == 2
    assert "dall-e-2 does not take --watermark/--no-watermark" in refused.stderr


def test_a_model_without_an_endpoint_is_exit_2_naming_the_option_and_nothing_is_sent(
    tmp_path: Path, server: FakeServer
) -> None:
    result = run("generate", "a cat", "-m", "dall-e-3", *against(server, tmp_path / "out"))
    assert result.exit_code == 2
    assert "dall-e-3 is served by OpenAI-compatible endpoints" in result.stderr
    assert "--openai-base-url" in result.stderr
    assert server.platform.received == 0


@pytest.mark.parametrize("as_json", [False, True])
def test_an_image_that_cannot_be_downloaded_is_reported_with_its_url_and_exit_1(
    tmp_path: Path, server: FakeServer, as_json: bool
) -> None:
    server.platform.image_urls_expired = True
    result = run("generate", "a cat", *against(server, tmp_path / "out"), *(["--json"] if as_json else []))
    assert result.exit_code == 1
    assert pngs(tmp_path / "out") == []
    assert leftovers(tmp_path / "out") == []
    if as_json:
        (image,) = json.loads(result.stdout)["images"]
        assert image["path"] is None
        assert image["url"].startswith(server.url)
        assert "HTTP 404" in image["error"]
    else:
        assert re.search(
            rf"not saved: DownloadError: .*HTTP 404; its URL: {server.url}/files/\S+ \(it no longer answers\)",
            result.stderr,
        )


def test_a_partly_failed_n_keeps_the_images_that_were_generated(tmp_path: Path, server: FakeServer) -> None:
    server.platform.fail_next("content_filter")
    result = run("generate", "a cat", "-n", "3", "-m", "cogview-4", *against(server, tmp_path / "out"))
    assert result.exit_code == 1
    assert "ContentFilterError (code 1301)" in result.stderr
    assert "(2 of 3 images generated)" in result.stderr
    saved = pngs(tmp_path / "out")
    assert len(saved) == 2
    assert sorted(result.stdout.split()) == sorted(str(path) for path in saved)


def test_unreadable_key_file(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    result = run("generate", "a cat", "--api-key-file", str(tmp_path / "missing"), "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "cannot read --api-key-file" in result.stderr


def test_fake_from_environment(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    result = run("generate", "a cat", "-o", str(tmp_path), env={"ZHIPU_IMAGES_FAKE": "1"})
    assert result.exit_code == 0, result.output


# --- models and check ----------------------------------------------------------------


def test_models_lists_every_model_with_its_defaults(clean_env: pytest.MonkeyPatch) -> None:
    result = run("models")
    assert result.exit_code == 0
    for name in ("glm-image", "cogview-4-250304", "cogview-4", "cogview-3-flash", "dall-e-2", "dall-e-3"):
        assert name in result.stdout
    assert "1568x1056" in result.stdout
    assert "standard*" in result.stdout


def test_check_prints_the_normalized_request(clean_env: pytest.MonkeyPatch) -> None:
    result = run("check", "--model", "cogView-4-250304", "--size", " 1440 × 720 ", "-q", "hd")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "model": "cogview-4-250304",
        "prompt": "check",
        "size": "1440x720",
        "quality": "hd",
        "n": 1,
    }


def test_check_reports_the_error_with_its_suggestion(clean_env: pytest.MonkeyPatch) -> None:
    result = run("check", "--model", "cogview-4", "--quality", "hd")
    assert result.exit_code == 2
    assert "supported by glm-image, cogview-4-250304" in result.stderr


def test_usage_errors_exit_2(clean_env: pytest.MonkeyPatch) -> None:
    assert run("generate").exit_code == 2
    assert run("batch", "nope.txt", "--out", "x").exit_code == 2
    assert run("no-such-command").exit_code == 2


# --- batch -----------------------------------------------------------------------------


def manifest(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def test_batch_generates_downloads_records_and_resumes(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a red fox\n# a comment\n\n一只猫\na red fox\n")
    out = tmp_path / "out"
    first = run("batch", str(prompts), "--out", str(out), "--fake", "--concurrency", "2")
    assert first.exit_code == 0, first.output
    records = manifest(out)
    assert [r["line"] for r in sorted(records, key=lambda r: int(str(r["line"])))] == [1, 4, 5]
    assert len(pngs(out)) == 3
    second = run("batch", str(prompts), "--out", str(out), "--fake")
    assert second.exit_code == 0
    assert "0 done, 3 already done" in second.stderr
    assert manifest(out) == records


def test_batch_jsonl_with_per_item_parameters(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        '{"prompt": "poster", "model": "cogview-4-250304", "quality": "hd", "size": "1440x720"}\n'
        '{"prompt": "two cats", "n": 2}\n'
    )
    result = run("batch", str(items), "--out", str(tmp_path / "out"), "--fake", "--tier", "v1")
    assert result.exit_code == 0, result.output
    by_prompt = {r["prompt"]: r for r in manifest(tmp_path / "out")}
    assert by_prompt["poster"]["request"] == {"model": "cogview-4-250304", "size": "1440x720", "quality": "hd"}
    assert len(by_prompt["two cats"]["files"]) == 2  # type: ignore[arg-type]


def test_batch_reports_every_invalid_line_before_sending_anything(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text('{"prompt": "ok"}\n{"prompt": "x", "size": "3x3"}\nnot json\n{"size": "1024x1024"}\n')
    out = tmp_path / "out"
    result = run("batch", str(items), "--out", str(out), "--fake")
    assert result.exit_code == 2
    for number in (2, 3, 4):
        assert f"items.jsonl:{number}:" in result.stderr
    assert "items.jsonl:1:" not in result.stderr
    assert not out.exists()


def test_batch_reports_lines_whose_model_has_no_endpoint_before_sending_anything(
    tmp_path: Path, server: FakeServer
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text('{"prompt": "a cat"}\n{"prompt": "a dog", "model": "dall-e-2"}\n')
    result = run("batch", str(items), *against(server, tmp_path / "out"))
    assert result.exit_code == 2
    assert "items.jsonl:2: dall-e-2 is served by OpenAI-compatible endpoints" in result.stderr
    assert "items.jsonl:1:" not in result.stderr
    assert server.platform.received == 0
    assert not (tmp_path / "out").exists()


def test_batch_keeps_the_urls_of_images_it_could_not_save_and_fetches_them_next_run(
    tmp_path: Path, server: FakeServer
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\na dog\n")
    out = tmp_path / "out"
    server.platform.image_urls_expired = True  # the image host is down for the first run
    first = run("batch", str(prompts), *against(server, out))
    assert first.exit_code == 1
    failed = manifest(out)
    assert {r["status"] for r in failed} == {"failed"}
    assert all(r["urls"] and r["error"]["type"] == "DownloadError" for r in failed)  # type: ignore[index]
    assert pngs(out) == []
    assert leftovers(out) == []

    server.platform.image_urls_expired = False
    second = run("batch", str(prompts), *against(server, out))
    assert second.exit_code == 0, second.output
    assert server.platform.received == 2  # fetched from the recorded URLs: nothing generated or paid twice
    done = manifest(out)
    assert {r["status"] for r in done} == {"done"}
    assert sorted(str(r["urls"]) for r in done) == sorted(str(r["urls"]) for r in failed)
    assert len(pngs(out)) == 2


def test_batch_generates_again_when_the_recorded_urls_no_longer_answer(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("ZHIPUAI_API_KEY", KEY)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n")
    out = tmp_path / "out"
    with (
        running_fake_server(FakePlatform(image_urls_expired=True)) as expired,
        running_fake_server(FakePlatform()) as server,
    ):
        assert run("batch", str(prompts), *against(expired, out)).exit_code == 1
        (recorded,) = manifest(out)
        result = run("batch", str(prompts), *against(server, out))  # the recorded URLs still answer 404
        assert result.exit_code == 0, result.output
        assert server.platform.received == 1
    (record,) = manifest(out)
    assert record["status"] == "done"
    assert record["urls"] != recorded["urls"]
    assert len(pngs(out)) == 1


def test_batch_failures_exit_1_with_a_table_and_are_retried_next_run(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, server: FakeServer
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("one\ntwo\nthree\n")
    out = tmp_path / "out"
    args = ["batch", str(prompts), *against(server, out), "-c", "1"]
    server.platform.fail_next("content_filter")
    first = run(*args)
    assert first.exit_code == 1
    assert "1 failed" in first.stderr
    assert "1301" in first.stderr
    assert KEY not in first.output
    second = run(*args, "--retry-filtered")  # a refusal of the content filter is final unless asked
    assert second.exit_code == 0, second.output
    assert "1 done, 2 already done" in second.stderr
    records = manifest(out)
    assert sorted(str(r["prompt"]) for r in records) == ["one", "three", "two"]
    assert {r["status"] for r in records} == {"done"}
    assert len(pngs(out)) == 3


def _start_batch(prompts: Path, out: Path, latency: float) -> subprocess.Popen[bytes]:
    command = [*CLI, "batch", str(prompts), "--out", str(out), "--fake", "--fake-latency", str(latency), "-c", "3"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_lines(out: Path, count: int, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        path = out / "manifest.jsonl"
        if path.exists() and len(path.read_text().splitlines()) >= count:
            return
        time.sleep(0.02)
    raise AssertionError("the batch made no progress")


def _assert_complete(prompts: list[str], out: Path) -> None:
    records = manifest(out)
    assert sorted(str(r["prompt"]) for r in records) == sorted(prompts)
    assert all(r["status"] == "done" for r in records)
    assert sorted(p.name for p in pngs(out)) == sorted(str(f) for r in records for f in r["files"])  # type: ignore[attr-defined]
    assert leftovers(out) == []


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT])
def test_batch_interrupted_then_resumed_ends_with_one_image_and_one_line_per_prompt(
    tmp_path: Path, stop: signal.Signals
) -> None:
    prompt_list = [f"prompt number {i}" for i in range(15)]
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(prompt_list) + "\n")
    out = tmp_path / "out"
    process = _start_batch(prompts, out, latency=0.15)
    _wait_for_lines(out, 3)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode != 0
    if stop == signal.SIGINT:
        assert b"stopping: finishing in-flight items" in stderr
        assert b"Traceback" not in stderr
    interrupted = manifest(out)
    assert 3 <= len(interrupted) < len(prompt_list)
    if stop == signal.SIGINT:
        assert leftovers(out) == []  # in-flight items finished and were recorded
    # What a SIGKILL mid-download leaves (nothing can clean it up in-process): the next run must.
    (out / ".zhipu-images-killed.part").write_bytes(b"\x89PNG half")
    with (out / "manifest.jsonl").open("a") as cut_short:
        cut_short.write('{"key": "cut-short", "sta')
    resumed = subprocess.run(
        [*CLI, "batch", str(prompts), "--out", str(out), "--fake"], capture_output=True, timeout=60
    )
    assert resumed.returncode == 0, resumed.stderr
    _assert_complete(prompt_list, out)


# --- fake-server and the entry points ----------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "generation_status", "image_status"),
    [
        ((), 200, 200),
        (("--image-urls-expired",), 200, 404),
        (("--fail-rate", "server_error=1", "--seed", "3"), 500, None),
    ],
)
def test_fake_server_command_serves_until_stopped(
    flags: tuple[str, ...], generation_status: int, image_status: int | None
) -> None:
    process = subprocess.Popen(
        [*CLI, "fake-server", "--port", "0", "--api-key", KEY, *flags], stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        url = process.stderr.readline().strip().removeprefix("fake platform on ")
        assert url.startswith("http://127.0.0.1:")
        response = httpx.post(
            f"{url}/api/paas/v4/images/generations",
            json={"model": "glm-image", "prompt": "a cat"},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert response.status_code == generation_status
        if image_status is not None:
            image = httpx.get(response.json()["data"][0]["url"])
            assert image.status_code == image_status
        if image_status == 200:
            assert png_size(image.content) == (1280, 1280)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("flag", "message"),
    [("meteor=0.1", "unknown fault 'meteor'"), ("drop", "'drop' is not FAULT=P"), ("drop=2", "between 0 and 1")],
)
def test_fake_server_refuses_bad_fault_rates_before_listening(flag: str, message: str) -> None:
    result = run("fake-server", "--port", "0", "--fail-rate", flag)
    assert result.exit_code == 2
    assert message in result.stderr


def test_python_dash_m_and_console_script_agree() -> None:
    module = subprocess.run([*CLI, "--help"], capture_output=True, text=True, check=True)
    script = Path(sys.executable).with_name("zhipu-images")
    console = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert module.stdout.replace("python -m zhipu_images", "zhipu-images") == console.stdout
    for command in ("generate", "batch", "models", "check", "fake-server"):
        assert command in console.stdout


def test_batch_progress_bar_shows_done_failed_rate_and_eta(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n违禁 words\na dog\n")
    result = run("batch", str(prompts), "--out", str(tmp_path / "out"), "--fake", "--progress")
    assert result.exit_code == 1  # the content-filtered prompt failed
    bar = result.stderr.replace("\r", "\n")
    assert "batch: 100%" in bar
    assert "3/3" in bar
    assert "done=2, failed=1" in bar
    assert "item/s" in bar  # rate; the ETA field is the `<...` after the elapsed time
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", bar)

    # resumed, the items earlier runs did count as done: "3/3 ... done=2", not "done=0"
    again = run("batch", str(prompts), "--out", str(tmp_path / "out"), "--fake", "--progress")
    resumed = again.stderr.replace("\r", "\n")
    assert "3/3" in resumed
    assert "done=2, failed=0" in resumed
    assert "done=0" not in resumed
