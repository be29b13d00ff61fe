"""The batch through the task API, as a user runs it: the real ``zhipu-images batch`` process against the fake
server, killed and signalled at random moments. Money is counted on the server: tasks submitted (paid), sync
generations (paid), and the images on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import child_env
from tests.test_batch_integrity import (  # the fake server of the batch tests, with their key
    CLI,
    KEY,
    assert_one_image_per_prompt,
    platform,
    records,
    server,
    write_prompts,
)
from zhipu_images.cli._manifest import MANIFEST
from zhipu_images.fake import FakePlatform, FakeServer

__all__ = ["platform", "server"]  # fixtures, used by name


def command(server: FakeServer, prompts: Path, out: Path, *extra: str) -> list[str]:
    return [*CLI, "batch", str(prompts), "--base-url", f"{server.url}/api/paas/v4", "--out", str(out), *extra]


def run(server: FakeServer, prompts: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(server, prompts, out, *extra),
        capture_output=True,
        text=True,
        env=child_env(ZHIPUAI_API_KEY=KEY),
        timeout=180,
    )


def start(server: FakeServer, prompts: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(server, prompts, out, "--no-progress", *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(ZHIPUAI_API_KEY=KEY),
    )


def until(condition: object, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)
    assert condition(), "the batch did not get that far"  # type: ignore[operator]


def test_glm_image_items_are_submitted_as_tasks_recorded_before_they_are_polled(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    platform.latency = 0.05
    prompts = write_prompts(tmp_path, 8)
    out = tmp_path / "out"
    done = run(server, prompts, out, "-c", "3")
    assert done.returncode == 0, done.stderr
    assert (platform.tasks_submitted, platform.generated) == (8, 0)
    assert_one_image_per_prompt(out, 8)
    final = records(out)
    assert all(record["status"] == "done" and len(record["tasks"]) == 1 for record in final)  # type: ignore[arg-type]
    assert platform.max_in_flight <= 3  # a task holds a slot until it is done


def test_sync_keeps_one_request_per_image(tmp_path: Path, server: FakeServer, platform: FakePlatform) -> None:
    prompts = write_prompts(tmp_path, 4)
    done = run(server, prompts, tmp_path / "out", "--sync")
    assert done.returncode == 0, done.stderr
    assert (platform.tasks_submitted, platform.generated) == (0, 4)


def test_models_without_the_task_api_are_generated_as_before(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = tmp_path / "items.jsonl"
    prompts.write_text('{"prompt": "a cat", "model": "cogview-4"}\n{"prompt": "a dog"}\n')
    done = run(server, prompts, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert (platform.tasks_submitted, platform.generated) == (1, 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_at_random_moments_pays_each_prompt_exactly_once(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, seed: int
) -> None:
    platform.latency = (0.2, 0.6)
    count = 12
    prompts = write_prompts(tmp_path, count)
    out = tmp_path / "out"
    moments = random.Random(seed)
    for _ in range(4):
        process = start(server, prompts, out, "-c", "3")
        time.sleep(moments.uniform(0.05, 1.5))
        process.kill()
        process.wait(timeout=60)
    last = run(server, prompts, out, "-c", "3")
    assert last.returncode == 0, last.stderr
    assert platform.tasks_submitted == count  # each prompt paid exactly once, whenever the kills came
    assert platform.generated == 0
    assert_one_image_per_prompt(out, count)


@pytest.mark.parametrize(
    "signals", [(signal.SIGTERM,), (signal.SIGHUP,), (signal.SIGINT, signal.SIGINT)], ids=["TERM", "HUP", "INT-INT"]
)
def test_a_stop_signal_with_tasks_in_flight_loses_no_paid_task(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, signals: tuple[signal.Signals, ...]
) -> None:
    platform.latency = 1.5
    count = 6
    prompts = write_prompts(tmp_path, count)
    out = tmp_path / "out"
    process = start(server, prompts, out, "-c", "3")
    until(lambda: platform.tasks_submitted >= 3)
    for sig in signals:
        process.send_signal(sig)
        time.sleep(0.05)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    paid = platform.tasks_submitted
    again = run(server, prompts, out, "-c", "3")
    assert again.returncode == 0, again.stderr
    assert platform.tasks_submitted == count  # the tasks in flight at the signal were waited for, not paid again
    assert paid <= count
    assert_one_image_per_prompt(out, count)


def test_a_resumed_run_waits_for_the_recorded_tasks_before_submitting_anything_new(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    platform.latency = 2.0
    count = 6
    prompts = write_prompts(tmp_path, count)
    out = tmp_path / "out"
    process = start(server, prompts, out, "-c", "2")
    until(lambda: platform.tasks_submitted == 2)
    process.kill()
    process.wait(timeout=60)
    recorded = {task for record in records(out) for task in record.get("tasks", [])}  # type: ignore[attr-defined]
    assert len(recorded) == 2
    ready = max(platform._tasks[task].ready_at for task in recorded)  # when the platform finishes them
    ready_wall = time.time() + (ready - time.monotonic())
    platform.latency = 0.05
    before = len(platform.requests)
    again = run(server, prompts, out, "-c", "2")
    assert again.returncode == 0, again.stderr
    new_submissions = platform.requests[before:]
    assert len(new_submissions) == count - 2
    assert min(request.received_at for request in new_submissions) >= ready_wall - 0.01
    assert platform.tasks_submitted == count


def test_a_failed_task_is_recorded_without_its_id_and_submitted_anew_by_the_next_run(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = write_prompts(tmp_path, 3)
    out = tmp_path / "out"
    platform.fail_next("task_fail")
    first = run(server, prompts, out, "-c", "1")
    assert first.returncode == 1
    assert "TaskFailedError" in first.stderr
    failed = [record for record in records(out) if record["status"] == "failed"]
    assert len(failed) == 1
    assert "tasks" not in failed[0]  # nothing more can come of that task
    second = run(server, prompts, out)
    assert second.returncode == 0, second.stderr
    assert platform.tasks_submitted == 4  # three, and the failed one once more
    assert_one_image_per_prompt(out, 3)


def test_a_task_whose_image_url_expired_is_submitted_anew_not_polled_again(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = write_prompts(tmp_path, 1)
    out = tmp_path / "out"
    platform.image_urls_expired = True  # the image host answers 404, as after the platform's 30 days
    first = run(server, prompts, out)
    assert first.returncode == 1
    (record,) = records(out)
    assert record["urls"]
    assert record["tasks"]
    polls = platform.polls
    platform.image_urls_expired = False
    second = run(server, prompts, out)
    assert second.returncode == 0, second.stderr
    assert platform.tasks_submitted == 1  # the URL answers again: fetched, nothing paid
    platform.image_urls_expired = True
    (out / MANIFEST).write_text(json.dumps({**record, "files": []}) + "\n")
    for image in out.glob("L*.png"):
        image.unlink()
    third = run(server, prompts, out)
    assert third.returncode == 1
    assert platform.tasks_submitted == 2  # expired: generated anew, once
    assert platform.polls >= polls


@pytest.mark.parametrize("sync", [False, True], ids=["tasks", "sync"])
def test_a_prompt_the_content_filter_refused_is_not_sent_again_unless_asked(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, sync: bool
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\nforbidden-word here\na dog\n")
    out = tmp_path / "out"
    extra = ("--sync",) if sync else ()
    first = run(server, prompts, out, *extra)
    assert first.returncode == 1
    received = platform.received
    assert received == 3
    second = run(server, prompts, out, *extra)
    assert second.returncode == 1
    assert "1 refused by the content filter before (--retry-filtered sends them)" in second.stderr
    assert platform.received == received  # nothing sent again: the refusal is final
    third = run(server, prompts, out, "--retry-filtered", *extra)
    assert third.returncode == 1
    assert platform.received == received + 1  # asked: the refused prompt, once


@pytest.mark.parametrize("sync", [False, True], ids=["tasks", "sync"])
def test_sigterm_ends_a_long_wait_at_once(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, sync: bool
) -> None:
    """A container's stop gives 30 s: neither a 50 s Retry-After nor a task still generating may hold it."""
    prompts = write_prompts(tmp_path, 2)
    out = tmp_path / "out"
    if sync:
        platform.retry_after = 50.0
        platform.fail_next("rate_limit", 10)
    else:
        platform.latency = 120.0
    process = start(server, prompts, out, "-c", "2", *(("--sync",) if sync else ()))
    until(lambda: platform.received >= 2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=25)  # not the 50 s wait, nor the 120 s task
    assert process.returncode == 130, stderr
    if not sync:  # both tasks stay recorded: the next run waits for them instead of paying again
        recorded = [task for record in records(out) for task in record.get("tasks", [])]  # type: ignore[attr-defined]
        assert len(recorded) == 2
        assert platform.tasks_submitted == 2


def test_a_prompt_edited_during_the_run_stops_it_with_exit_2_before_that_line_is_sent(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    platform.latency = 0.3
    prompts = tmp_path / "prompts.txt"
    lines = [f"prompt number {i}, " + "a long description " * 25 for i in range(60)]  # 30 KB: past a read buffer
    prompts.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    process = start(server, prompts, out, "-c", "1")
    until(lambda: platform.received >= 1)  # checked, and sending the first lines (a few are read ahead)
    lines[49] = "an edited prompt"  # line 50: far past what the run has read
    prompts.write_text("\n".join(lines) + "\n")  # edited in place, as an editor saving would
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr
    assert "changed during the run (line 50" in stderr
    sent = [request.json["prompt"] for request in platform.requests]
    assert "an edited prompt" not in sent
    before = platform.received
    assert before < 50
    again = run(server, prompts, out, "-c", "3")
    assert again.returncode == 0, again.stderr
    assert platform.received == 60  # the rest, as the file now reads, each paid once
    assert "an edited prompt" in [request.json["prompt"] for request in platform.requests]


@pytest.mark.parametrize("content", ["", "\n\n   \n# only a comment\n"])
def test_an_input_without_prompts_exits_2(tmp_path: Path, server: FakeServer, content: str) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(content)
    done = run(server, prompts, tmp_path / "out")
    assert done.returncode == 2
    assert "holds no prompt" in done.stderr


def test_a_fifo_as_input_is_refused_with_exit_2(tmp_path: Path, server: FakeServer, platform: FakePlatform) -> None:
    fifo = tmp_path / "prompts.fifo"
    os.mkfifo(fifo)
    done = run(server, fifo, tmp_path / "out")  # would block in open() if it were read
    assert done.returncode == 2
    assert "not a regular file" in done.stderr
    assert platform.received == 0


def test_a_line_of_64_mib_is_an_input_error_by_number_found_in_bounded_memory(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    with prompts.open("wb") as file:
        file.write(b"a cat\n")
        for _ in range(64):
            file.write(b"x" * 1024 * 1024)
        file.write(b"\na dog\n")
    launcher = (
        "import os, subprocess, sys; child = subprocess.Popen(sys.argv[1:]); "
        "_, status, usage = os.wait4(child.pid, 0); print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)"
    )
    command = [*CLI, "batch", str(prompts), "--out", str(tmp_path / "out"), "--fake", "--no-progress"]
    done = subprocess.run(
        [sys.executable, "-S", "-c", launcher, *command], capture_output=True, text=True, timeout=120, env=child_env()
    )
    code, peak_kib = map(int, done.stdout.split())
    assert code == 2
    assert f"{prompts}:2: longer than 256 KiB" in done.stderr
    assert peak_kib < 100 * 1024  # the line is 64 MiB: it was never held whole


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_legacy_chinese_text_that_decodes_as_utf8_is_refused_naming_the_encoding(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, encoding: str
) -> None:
    prompts = tmp_path / "prompts.txt"
    text = "".join(f"一只猫 {i}\n" for i in range(2000))
    prompts.write_bytes(text.encode(encoding))
    text.encode(encoding).decode("utf-8")  # it does decode: mojibake, not an error, on its own
    done = run(server, prompts, tmp_path / "out")
    assert done.returncode == 2
    assert "looks like gb18030 text, not UTF-8" in done.stderr
    assert "iconv -f GB18030 -t UTF-8" in done.stderr
    assert platform.received == 0


def test_utf8_chinese_text_is_taken(tmp_path: Path, server: FakeServer, platform: FakePlatform) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"一只猫 {i}\n" for i in range(3)), encoding="utf-8")
    assert run(server, prompts, tmp_path / "out", "--sync").returncode == 0
    assert sorted(request.json["prompt"] for request in platform.requests) == [f"一只猫 {i}" for i in range(3)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["TERM", "INT", "HUP"])
def test_a_stop_signal_during_the_input_check_exits_130_and_sends_nothing(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, sig: signal.Signals
) -> None:
    prompts = tmp_path / "prompts.jsonl"
    line = '{{"prompt": "a cat {0}", "size": "{1}x1024"}}\n'
    prompts.write_text("".join(line.format(i, 1024 + 32 * (i % 20)) for i in range(300_000)))
    out = tmp_path / "out"
    process = start(server, prompts, out)

    def reading_the_input() -> bool:  # an event, not a time: the command has the file open
        with contextlib.suppress(OSError):
            return any(os.readlink(fd) == str(prompts) for fd in Path(f"/proc/{process.pid}/fd").iterdir())
        return False

    until(reading_the_input)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "nothing was sent" in stderr
    assert "Traceback" not in stderr
    assert platform.received == 0
    assert not list(out.glob("*.part")) if out.exists() else True
