"""Batch integrity, through the real ``zhipu-images batch`` against a fake platform on loopback.

Money is counted where it is spent: ``platform.received`` is the number of
generation requests the fake server answered, and every test asserts it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import pty
import shutil
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.hostile import HostileServer
from tests.processes import child_env
from zhipu_images import RequestValidationError
from zhipu_images._validation import validate_request
from zhipu_images.cli import _manifest as manifest_module
from zhipu_images.cli._folder_lock import LOCK_FILE
from zhipu_images.cli._inputs import BatchItem, InvalidInput, ItemSource, _digest, _Seen, key_of
from zhipu_images.cli._manifest import MANIFEST, Appender, LineMarks, Record, parse
from zhipu_images.fake import FakePlatform, FakeServer, make_png, running_fake_server

KEY = "sk-batch-integrity-77"
CLI = [sys.executable, "-m", "zhipu_images"]


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform(api_key=KEY)


@pytest.fixture
def server(platform: FakePlatform) -> Iterator[FakeServer]:
    with running_fake_server(platform) as running:
        yield running


def _env() -> dict[str, str]:
    return child_env(ZHIPUAI_API_KEY=KEY)


def batch_command(server: FakeServer, prompts: Path, out: Path, *extra: str) -> list[str]:
    return [*CLI, "batch", str(prompts), "--base-url", f"{server.url}/api/paas/v4", "--out", str(out), *extra]


def batch(server: FakeServer, prompts: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        batch_command(server, prompts, out, *extra), capture_output=True, text=True, env=_env(), timeout=120
    )


def write_prompts(folder: Path, count: int, name: str = "prompts.txt") -> Path:
    path = folder / name
    path.write_text("".join(f"prompt number {i}\n" for i in range(count)))
    return path


def records(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]


def images(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.suffix == ".png")


def assert_one_image_per_prompt(out: Path, count: int) -> None:
    done = records(out)
    assert sorted(int(str(r["line"])) for r in done) == list(range(1, count + 1))
    assert {r["status"] for r in done} == {"done"}
    assert [p.name for p in images(out)] == sorted(str(f) for r in done for f in r["files"])  # type: ignore[attr-defined]


# --- one run per folder ---------------------------------------------------------------------------------------------


def test_a_second_run_on_a_busy_folder_exits_2_at_once_and_pays_for_nothing(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = write_prompts(tmp_path, 30)
    out = tmp_path / "out"
    server.hold()  # the first run stays in flight, whatever the machine's load, until the second has run
    first = subprocess.Popen(
        batch_command(server, prompts, out, "-c", "2"), stderr=subprocess.PIPE, text=True, env=_env()
    )
    try:
        deadline = time.monotonic() + 60  # a bound for a broken run, not a measurement
        while platform.received == 0 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert platform.received > 0
        second = batch(server, prompts, out, "-c", "2")
    finally:
        server.release()
        _, first_stderr = first.communicate(timeout=120)
    assert second.returncode == 2, second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert "nothing was sent" in second.stderr
    assert first.returncode == 0, first_stderr
    assert platform.received == 30  # each prompt paid once, by the first run
    assert_one_image_per_prompt(out, 30)


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path: Path, server: FakeServer, platform: FakePlatform) -> None:
    prompts = write_prompts(tmp_path, 3)
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text('{"pid": 999999, "host": "gone", "started": 0}')  # no process holds its flock
    done = batch(server, prompts, out)
    assert done.returncode == 0, done.stderr
    assert platform.received == 3


# --- the manifest survives damage -----------------------------------------------------------------------------------

DAMAGE = {
    "not UTF-8": b"\xff\xfe{not text}",
    "cut inside a character": '{"key": "abc", "line": 1, "status": "done", "prompt": "一只'.encode()[:-2],
    "a key that is an object": b'{"key": {}, "line": 1, "status": "done", "files": []}',
    "files null": b'{"key": "K", "line": 1, "status": "done", "files": null}',
    "error a string": b'{"key": "K", "line": 1, "status": "failed", "error": "boom"}',
    "done without files": b'{"key": "K", "line": 1, "status": "done", "files": []}',
    "a JSON list": b"[1, 2, 3]",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_manifest_line_is_skipped_with_a_warning_and_its_item_done_again(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, damage: str
) -> None:
    prompts = write_prompts(tmp_path, 3)
    out = tmp_path / "out"
    assert batch(server, prompts, out).returncode == 0
    lines = (out / MANIFEST).read_bytes().splitlines()
    second_item = next(i for i, line in enumerate(lines) if json.loads(line)["line"] == 2)
    lines[second_item] = DAMAGE[damage].replace(b'"K"', json.dumps(json.loads(lines[second_item])["key"]).encode())
    (out / MANIFEST).write_bytes(b"\n".join(lines) + b"\n")
    before = platform.received

    resumed = batch(server, prompts, out)

    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert f"line {second_item + 1}:" in resumed.stderr  # the warning names the damaged line
    assert platform.received - before == 1  # only the item whose record was lost
    assert_one_image_per_prompt(out, 3)


def _html_in_its_place(image: Path) -> None:
    image.write_bytes(b"<html>not an image</html>")


def _fifo_in_its_place(image: Path) -> None:
    """Opening a FIFO for reading waits for a writer that never comes: the check of saved files must not."""
    image.unlink()
    os.mkfifo(image)


@pytest.mark.parametrize("damage", [_html_in_its_place, _fifo_in_its_place], ids=["html", "fifo"])
def test_an_item_whose_image_file_is_not_an_image_is_not_done_and_its_recorded_url_is_fetched_again(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, damage: Callable[[Path], None]
) -> None:
    prompts = write_prompts(tmp_path, 2)
    out = tmp_path / "out"
    assert batch(server, prompts, out).returncode == 0
    damaged = images(out)[0]
    damage(damaged)
    resumed = batch(server, prompts, out)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 done, 1 already done" in resumed.stderr
    assert platform.received == 2  # the image came again from its recorded URL: not paid twice
    assert damaged.read_bytes().startswith(b"\x89PNG")
    assert_one_image_per_prompt(out, 2)


def test_a_manifest_replaced_by_a_fifo_is_refused_and_nothing_is_sent(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = write_prompts(tmp_path, 2)
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / MANIFEST)
    refused = batch(server, prompts, out)
    assert refused.returncode == 2
    assert "not a regular file" in refused.stderr
    assert platform.received == 0


def test_a_symlinked_manifest_is_refused(tmp_path: Path, server: FakeServer, platform: FakePlatform) -> None:
    prompts = write_prompts(tmp_path, 2)
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text("")
    (out / MANIFEST).symlink_to(elsewhere)
    refused = batch(server, prompts, out)
    assert refused.returncode == 2
    assert "symlink" in refused.stderr
    assert platform.received == 0
    assert elsewhere.read_text() == ""


# --- what was paid for is recorded and never paid again ---------------------------------------------------------------


def test_image_urls_are_recorded_before_the_download_so_a_kill_during_it_loses_nothing(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path, 1)
    out = tmp_path / "out"
    with HostileServer() as hostile:  # answers at once, then sends the image a byte every 50 ms
        command = [
            *CLI,
            "batch",
            str(prompts),
            "--base-url",
            hostile.base_url("trickle_image"),
            "--out",
            str(out),
            "--sync",
        ]
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL, env=_env())
        try:
            deadline = time.monotonic() + 30
            while hostile.requests[("trickle_image", "GET")] == 0 and time.monotonic() < deadline:
                time.sleep(0.02)  # until the download has started
        finally:
            process.kill()
            process.wait(timeout=30)
    (record,) = records(out)
    assert record["status"] == "generated"
    assert record["urls"] == [f"{hostile.url}/trickle_image/a.png"]


def test_an_n_item_that_partly_failed_generates_only_its_missing_images(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = tmp_path / "items.jsonl"
    prompts.write_text('{"prompt": "three cats", "model": "cogview-4", "n": 3}\n')
    out = tmp_path / "out"
    platform.fail_next("content_filter")  # one of the three requests is refused
    first = batch(server, prompts, out, "-c", "1")
    assert first.returncode == 1
    assert len(images(out)) == 2
    assert platform.received == 3
    saved = {p.name: p.stat().st_mtime_ns for p in images(out)}

    second = batch(server, prompts, out)

    assert second.returncode == 0, second.stderr
    assert platform.received == 4  # one more generation: the missing image, not three
    assert len(images(out)) == 3
    assert all(p.stat().st_mtime_ns == saved[p.name] for p in images(out) if p.name in saved)  # kept, not rewritten
    (record,) = records(out)
    assert len(record["files"]) == 3  # type: ignore[arg-type]


# --- account errors stop the batch ----------------------------------------------------------------------------------


@pytest.mark.parametrize("account", ["no balance", "wrong key"])
def test_an_account_error_stops_the_batch_after_at_most_concurrency_requests(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, account: str
) -> None:
    prompts = write_prompts(tmp_path, 40)
    out = tmp_path / "out"
    if account == "no balance":
        platform.balance_exhausted = True
    else:
        platform.api_key = "another-key"
    done = batch(server, prompts, out, "-c", "3")
    assert done.returncode == 1
    assert platform.received <= 3
    assert done.stderr.count("error: stopped:") == 1
    fix = "Top it up" if account == "no balance" else "Check the key from ZHIPUAI_API_KEY"
    assert fix in done.stderr
    assert "not started" in done.stderr
    assert done.stderr.count("InsufficientBalanceError" if account == "no balance" else "AuthenticationError") <= 3


# --- a full disk stops the batch, not the money ---------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs, mounted for the test (root only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small tmpfs needs root and mount (CI runs as root)")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_stops_the_batch_and_the_next_run_pays_for_nothing_twice(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, small_disk: Path
) -> None:
    prompts = tmp_path / "items.jsonl"
    prompts.write_text("".join(f'{{"prompt": "picture {i}", "size": "2048x2048"}}\n' for i in range(60)))
    out = small_disk / "out"
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (7 * 1024 * 1024))  # leaves ~1 MB: a few dozen images and their records

    first = batch(server, prompts, out, "-c", "2")

    assert first.returncode == 1
    assert "Traceback" not in first.stderr
    assert "error: stopped:" in first.stderr
    assert "Free space in --out" in first.stderr
    paid_first = platform.received
    assert paid_first < 60  # it stopped generating
    unrecorded = first.stderr.count("paid, not saved and not recorded")

    filler.unlink()
    second = batch(server, prompts, out, "-c", "2")

    assert second.returncode == 0, second.stderr
    assert_one_image_per_prompt(out, 60)
    assert platform.received <= 60 + unrecorded  # nothing recorded was paid for twice


# --- files people can use, honest endings ---------------------------------------------------------------------------


def test_files_get_the_umask_s_permissions_and_line_numbered_names(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = write_prompts(tmp_path, 2)
    out = tmp_path / "out"
    done = subprocess.run(
        batch_command(server, prompts, out),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stderr
    for path in [*images(out), out / MANIFEST]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    assert [p.name[:8] for p in images(out)] == ["L000001-", "L000002-"]


def test_an_interrupted_batch_exits_130_and_says_so(tmp_path: Path, server: FakeServer, platform: FakePlatform) -> None:
    platform.latency = 0.1
    prompts = write_prompts(tmp_path, 40)
    out = tmp_path / "out"
    process = subprocess.Popen(batch_command(server, prompts, out, "-c", "2"), stderr=subprocess.PIPE, env=_env())
    deadline = time.monotonic() + 30
    while platform.received < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    text = stderr.decode()
    assert "interrupted: 40 items" in text
    assert " 0 failed" in text


def test_the_failure_table_is_in_input_line_order(tmp_path: Path, server: FakeServer, platform: FakePlatform) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(("违禁 " if i % 3 == 0 else "") + f"prompt {i}\n" for i in range(12)))
    done = batch(server, prompts, tmp_path / "out", "-c", "4")
    assert done.returncode == 1
    table = [line.split()[0] for line in done.stderr.splitlines() if "ContentFilterError" in line]
    assert table == ["1", "4", "7", "10"]


def test_format_text_takes_a_line_starting_with_a_brace_as_a_prompt(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text('{"prompt": "this whole line is the prompt"}\na plain prompt\n')
    done = batch(server, prompts, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    sent = sorted(str(request.json["prompt"]) for request in platform.requests)
    assert sent == sorted(['{"prompt": "this whole line is the prompt"}', "a plain prompt"])
    as_jsonl = batch(server, prompts, tmp_path / "out2", "--format", "jsonl")
    assert as_jsonl.returncode == 2  # line 2 is not JSON, and nothing was sent
    assert platform.received == 2


def test_the_progress_bar_is_current_and_survives_a_terminal_of_0_columns(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path, 3)
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 0, 0, 0))  # 24 rows, 0 columns
    command = [
        *CLI,
        "batch",
        str(prompts),
        "--out",
        str(tmp_path / "out"),
        "--fake",
        "--fake-latency",
        "0.3",
        "-c",
        "1",
    ]
    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal, env=_env())
    os.close(terminal)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the process has closed the terminal
        while chunk := os.read(controller, 4096):
            shown += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0
    refreshes = shown.decode(errors="replace").replace("\n", "\r").split("\r")
    assert "Traceback" not in shown.decode(errors="replace")
    assert any("1/3" in refresh and "done=1" in refresh for refresh in refreshes), refreshes
    assert any("3/3" in refresh and "done=3" in refresh for refresh in refreshes), refreshes


@pytest.mark.parametrize("every_digest_a_candidate", [False, True])
def test_repeated_requests_get_numbered_keys_and_false_candidates_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every_digest_a_candidate: bool
) -> None:
    """Keys are the request's digest and which repeat it is; the Bloom filter that finds repeats may flag a
    request seen once (a false positive), and that must not change its key."""
    if every_digest_a_candidate:
        monkeypatch.setattr(_Seen, "add", lambda self, digest: True)
    source_file = tmp_path / "prompts.txt"
    source_file.write_text("a fox\na cat\na fox\n\n# a comment\na fox\na dog\n")
    source = ItemSource(source_file, {"model": "glm-image", "size": None, "quality": None}, json_lines=False)
    assert source.check() == 5
    items = [item for item in source.items() if isinstance(item, BatchItem)]
    assert [(item.line, item.key.rsplit("-", 1)[1]) for item in items] == [
        (1, "1"),
        (2, "1"),
        (3, "2"),
        (6, "3"),
        (7, "1"),
    ]
    assert len({item.key.rsplit("-", 1)[0] for item in items}) == 3


def test_lines_with_the_parameters_of_an_earlier_line_are_still_checked_whole(tmp_path: Path) -> None:
    """A line whose model and parameters an earlier line passed with is checked by its prompt alone, but a value
    equal to an accepted one and of another type (true or 1.0 where 1 passed) is not taken for it, and each
    line's prompt is checked against the limit."""
    lines = [
        {"prompt": "one", "model": "dall-e-2", "n": 1},
        {"prompt": "a flag for n", "model": "dall-e-2", "n": True},
        {"prompt": "a float for n", "model": "dall-e-2", "n": 1.0},
        {"prompt": "x" * 1001, "model": "dall-e-2", "n": 1},
        {"prompt": "two", "model": "dall-e-2", "n": 1},
        {"prompt": "a list for n", "model": "dall-e-2", "n": [1]},
    ]
    source_file = tmp_path / "items.jsonl"
    source_file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    source = ItemSource(source_file, {"model": "glm-image", "size": None, "quality": None}, json_lines=True)
    with pytest.raises(InvalidInput) as refused:
        source.check()
    problems = dict(refused.value.problems)
    assert sorted(problems) == [2, 3, 4, 6]
    assert "n: must be an integer, got bool" in problems[2]
    assert "n: must be an integer, got float" in problems[3]
    assert "1001 characters is over dall-e-2's limit of 1000" in problems[4]
    assert "n: must be an integer, got list" in problems[6]


def _png_an_hour_unread(path: Path) -> int:
    """Write a small PNG whose access time is an hour before its modification; that access time."""
    path.write_bytes(make_png(8, 8, "0123456789abcdef"))
    modified = path.stat().st_mtime
    os.utime(path, (modified - 3600, modified))
    return path.stat().st_atime_ns


def test_checking_an_image_leaves_its_access_time_alone(tmp_path: Path) -> None:
    """A resume checks every image it finds; under relatime the first read after a write stamps the access time,
    a metadata write per image (1.6 s of a resume of 100,000 right after the run). Checking is not using."""
    control = tmp_path / "read.png"
    stamped = _png_an_hour_unread(control)
    control.read_bytes()
    if control.stat().st_atime_ns == stamped:
        pytest.skip("this file system does not record access times (noatime): nothing to leave alone")
    image = tmp_path / "checked.png"
    unread = _png_an_hour_unread(image)
    assert manifest_module.is_image(str(image))
    assert image.stat().st_atime_ns == unread


def test_an_image_another_user_owns_is_checked_all_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a file's owner may open it without touching its access time (EPERM otherwise): the check then opens
    files the plain way, this one and the next."""
    monkeypatch.setattr(manifest_module, "_no_atime", os.O_NOATIME)
    opened = os.open
    flags_seen: list[int] = []

    def as_another_user(path: str, flags: int, *args: Any, **kwargs: Any) -> int:
        flags_seen.append(flags)
        if flags & os.O_NOATIME:
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return opened(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", as_another_user)
    for name in ("one.png", "two.png"):
        _png_an_hour_unread(tmp_path / name)
        assert manifest_module.is_image(str(tmp_path / name))
    assert [bool(flags & os.O_NOATIME) for flags in flags_seen] == [True, False, False]


# Property: LineMarks, the bitmap of superseded manifest lines, holds exactly the line indexes added to it.
@given(st.sets(st.integers(min_value=0, max_value=100_000)), st.integers(min_value=0, max_value=100_000))
def test_line_marks_hold_exactly_what_was_added(added: set[int], probe: int) -> None:
    marks = LineMarks(added)
    assert (probe in marks) == (probe in added)
    assert all(index in marks for index in added)
    assert bool(marks) == bool(added)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=6,
)
_FIELD_VALUES = {
    "key": st.sampled_from(["", "k-1"]) | _JSON,
    "line": st.sampled_from([0, 1, 7, True]) | _JSON,
    "status": st.sampled_from(["generated", "done", "failed", "Done"]) | _JSON,
    "files": st.lists(st.sampled_from(["L1-k-0.png", ""]), max_size=2) | _JSON,
    "urls": st.lists(st.text(max_size=4), max_size=2) | _JSON,
    "error": st.none() | st.dictionaries(st.text(max_size=3), st.none() | st.text(max_size=3), max_size=2) | _JSON,
}


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# Property: a manifest line is a record exactly when each field has its documented type (key a non-empty
# string, line an integer >= 1 but not a boolean, a known status, files and urls lists of strings, error
# absent or an object of strings or nulls, and a done record has files), and the record holds its values.
@st.composite
def _manifest_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed record with one field changed to any value, or left out (most draws break one rule)."""
    data: dict[str, Any] = {"key": "k-1", "line": 3, "status": draw(st.sampled_from(["generated", "done", "failed"]))}
    data |= {"files": ["L3-k-0.png"], "urls": ["https://cdn.test/a.png"], "error": None}
    name = draw(st.sampled_from(sorted(_FIELD_VALUES)))
    if draw(st.booleans()):
        del data[name]
    else:
        data[name] = draw(_FIELD_VALUES[name])
    return data


_VALID = {"key": "k-1", "line": 3, "status": "done", "files": ["L3-k-0.png"], "urls": [], "error": None}


@given(_manifest_objects())
@settings(max_examples=500)  # a check costs microseconds; each rule is broken in dozens of draws
@example(_VALID)
@example(_VALID | {"key": ""})
@example(_VALID | {"line": True})
@example(_VALID | {"line": 0})
@example(_VALID | {"status": "Done"})
@example(_VALID | {"files": []})
@example(_VALID | {"urls": ["a", 1]})
@example(_VALID | {"error": {"type": 1}})
def test_a_manifest_line_is_a_record_exactly_when_its_fields_have_their_types(data: dict[str, Any]) -> None:
    files, error = data.get("files", []), data.get("error")
    well_formed = (
        isinstance(data.get("key"), str)
        and data["key"] != ""
        and isinstance(data.get("line"), int)
        and not isinstance(data["line"], bool)
        and data["line"] >= 1
        and data.get("status") in ("generated", "done", "failed")
        and _strings(files)
        and _strings(data.get("urls", []))
        and (
            error is None or (isinstance(error, dict) and all(v is None or isinstance(v, str) for v in error.values()))
        )
        and (data.get("status") != "done" or bool(files))
    )
    record = parse(json.dumps(data).encode())
    assert isinstance(record, Record) == well_formed, record
    if isinstance(record, Record):
        assert (record.key, record.line, record.status, record.files) == (
            data["key"],
            data["line"],
            data["status"],
            files,
        )
        assert (record.urls, record.error) == (data.get("urls", []), error)


def test_a_validation_warning_is_said_once_before_the_run_not_once_per_item(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = write_prompts(tmp_path, 4)
    finished = batch(server, prompts, tmp_path / "out", "--size", "512x512")  # valid for glm-image, not advised
    assert finished.returncode == 0, finished.stderr
    warned = [line for line in finished.stderr.splitlines() if "recommended" in line]
    assert warned == ["warning: size 512x512 is valid for glm-image, but 1024-2048 px per side is recommended"]
    assert "Warning:" not in finished.stderr  # no Python warning (file:line: SomethingWarning: ...) per item
    assert platform.received == 4


def test_a_manifest_line_the_disk_cut_costs_only_that_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A short write (a full disk) leaves a cut line; the next record starts on a fresh line, and the line
    indexes the appender returns stay those of the file (compaction drops lines by index)."""
    real_write = os.write
    short = iter([5, 0, 1, None])  # bytes the disk takes of each write; None: all of it

    def disk(fd: int, data: bytes) -> int:
        taken = next(short, None)
        return real_write(fd, data if taken is None else data[:taken]) if taken != 0 else 0

    appender = Appender(tmp_path / MANIFEST, 0)
    assert appender.append({"key": "a", "line": 1, "status": "done"}) == 0
    monkeypatch.setattr(os, "write", disk)
    for _ in range(3):  # cut after 5 bytes; nothing taken; only the newline that ends the cut line
        with pytest.raises(OSError, match="only part"):
            appender.append({"key": "b", "line": 2, "status": "done"})
    assert appender.append({"key": "c", "line": 3, "status": "done"}) == 2
    monkeypatch.undo()
    appender.close()
    lines = (tmp_path / MANIFEST).read_bytes().split(b"\n")
    assert [json.loads(lines[i])["key"] for i in (0, 2)] == ["a", "c"]
    assert lines[1] == b'{"key'  # the cut line, alone


def _sync_on_every_append(monkeypatch: pytest.MonkeyPatch, fsync: Callable[[int], None]) -> list[int]:
    """Every append asks for a sync (when none is running); ``fsync`` stands in for the system's. The fds it
    was called with, in order."""
    calls: list[int] = []

    def recorded(fd: int) -> None:
        calls.append(fd)
        fsync(fd)

    monkeypatch.setattr(manifest_module, "SYNC_INTERVAL", 0.0)
    monkeypatch.setattr(os, "fsync", recorded)
    return calls


def test_a_slow_fsync_of_the_manifest_does_not_hold_up_the_next_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The periodic fsync runs in a thread: records go on being appended while it lasts (on the batch's loop
    it stalled every request in flight), one sync at a time, and ``close`` waits for it, then syncs the rest."""
    started, finish = threading.Event(), threading.Event()

    def slow(fd: int) -> None:
        started.set()
        assert finish.wait(10)

    calls = _sync_on_every_append(monkeypatch, slow)
    appender = Appender(tmp_path / MANIFEST, 0)
    assert appender.append({"key": "a", "line": 1, "status": "done"}) == 0
    assert started.wait(30)
    for line in range(2, 6):  # while the sync hangs
        assert appender.append({"key": "b", "line": line, "status": "done"}) == line - 1
    assert len(calls) == 1  # no second sync was queued behind the first
    finish.set()
    appender.close()
    assert len(calls) == 2  # the periodic one, and the last one, after it
    assert len((tmp_path / MANIFEST).read_bytes().splitlines()) == 5


def test_a_failed_fsync_of_the_manifest_stops_the_next_append(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An fsync that fails in its thread (EIO: the disk lost written data) is raised by the next append, which
    writes nothing, so the batch stops as on a full disk; once raised, appends go on."""

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    calls = _sync_on_every_append(monkeypatch, broken)
    appender = Appender(tmp_path / MANIFEST, 0)
    appender.append({"key": "a", "line": 1, "status": "done"})
    assert appender._syncer is not None
    appender._syncer.submit(lambda: None).result()  # one thread, in order: the failed sync is over
    with pytest.raises(OSError, match="Input/output"):
        appender.append({"key": "b", "line": 2, "status": "done"})
    assert appender.append({"key": "c", "line": 3, "status": "done"}) == 1
    appender.close()
    assert [json.loads(line)["key"] for line in (tmp_path / MANIFEST).read_bytes().splitlines()] == ["a", "c"]
    assert len(calls) == 3  # after a, after c, and on close (whose failure is only a lost guarantee)


# --- item keys stay as earlier versions wrote them ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "prompt", "params", "key"),
    [
        ("glm-image", "一只可爱的小猫咪，坐在窗台上", {}, "c36c53bf5977715f-1"),
        ("cogview-4-250304", 'a "quoted" cat\\n', {"size": "1024x1024", "quality": "hd"}, "bf31d502d6f8a5a8-1"),
        ("dall-e-3", "a cat", {"style": "vivid"}, "2af9b94dbce24fdb-1"),
    ],
)
def test_an_item_s_key_is_the_one_earlier_versions_recorded(
    model: str, prompt: str, params: dict[str, Any], key: str
) -> None:
    """A manifest written before names items by these keys; a resume that computed others would pay again."""
    assert key_of(_digest(validate_request(model, prompt, **params)), 1) == key


# For any prompt, the digest is the SHA-256 of the request's fields as json.dumps(..., ensure_ascii=False) writes
# them, the encoding keys have always used.
@given(st.text(min_size=1, max_size=200).filter(lambda text: text.strip() != ""))
@settings(max_examples=200)
def test_the_digest_hashes_the_fields_as_json_dumps_writes_them(prompt: str) -> None:
    try:
        request = validate_request("glm-image", prompt)
    except RequestValidationError:
        return
    fields = [request.model, request.prompt, request.size, request.quality, request.n, request.style]
    fields += [request.response_format, request.user_id, request.watermark_enabled]
    expected = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).digest()[:8]
    assert _digest(request) == int.from_bytes(expected, "big")
