"""The manifest read back in process: which items are done, pending or filtered, what compaction keeps, where lines go.

The batch tests see these decisions through a CLI subprocess (paid generations counted on the server); these
read the manifest module directly, so each rule (the latest record wins, a done item needs all its files, a
failure with nothing paid is dropped, 1301 is final) is pinned line by line.
"""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from zhipu_images._download import TEMP_PREFIX
from zhipu_images.cli import _manifest
from zhipu_images.cli._manifest import (
    MANIFEST,
    Appender,
    LineMarks,
    ManifestError,
    Record,
    drop_lines,
    image_index,
    is_image,
    parse,
    previous_run,
    saved_files,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24


def record(key: str, status: str = "done", line: int = 1, **fields: Any) -> dict[str, Any]:
    return {"key": key, "line": line, "status": status, "files": [], "urls": [], "error": None, **fields}


def write_manifest(out: Path, *lines: dict[str, Any] | str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path = out / MANIFEST
    path.write_text(text)
    return path


def manifest_keys(out: Path) -> list[str]:
    return [json.loads(line)["key"] for line in (out / MANIFEST).read_text().splitlines()]


def image(out: Path, name: str, content: bytes = PNG) -> str:
    (out / name).write_bytes(content)
    return name


# parse


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"key": ""}, "key must be a non-empty string"),
        ({"key": 5}, "key must be a non-empty string"),
        ({"line": 0}, "line is not a line number"),
        ({"line": True}, "line is not a line number"),
        ({"line": "3"}, "line is not a line number"),
        ({"status": "paid"}, "status must be one of submitted, generated, done, failed"),
        ({"files": "a.png"}, "files must be a list of strings"),
        ({"files": [1]}, "files must be a list of strings"),
        ({"urls": ["u", None]}, "urls must be a list of strings"),
        ({"tasks": "t"}, "tasks must be a list of strings"),
        ({"tasks": [7]}, "tasks must be a list of strings"),
        ({"error": "boom"}, "error must be an object of strings"),
        ({"error": {"code": 1301}}, "error must be an object of strings"),
    ],
)
def test_a_line_of_the_wrong_shape_is_named_with_its_problem(change: dict[str, Any], problem: str) -> None:
    line = {**record("k", "failed"), **change}
    assert parse(json.dumps(line).encode()) == f"not a manifest record ({problem})"


def test_parse_names_what_a_line_is_instead_of_a_record() -> None:
    assert parse(b"\xffabc") == "not UTF-8 (byte 1)"
    assert parse(b"ab\xff") == "not UTF-8 (byte 3)"
    assert parse(b"{not json") == "not JSON"
    assert parse(b"[" * 100_000) == "not JSON"
    assert parse(b"[1]") == "a JSON list, not an object"
    assert parse(b'"text"') == "a JSON str, not an object"
    assert parse(json.dumps(record("k", "done")).encode()) == "done, but with no files"


def test_parse_keeps_every_field_and_defaults_the_optional_ones() -> None:
    full = record("k", "failed", line=7, files=["a.png"], urls=["u"], error={"code": "1301", "type": None})
    full["tasks"] = ["", "t2"]
    assert parse(json.dumps(full).encode()) == Record(
        key="k", line=7, status="failed", files=["a.png"], urls=["u"], error={"code": "1301", "type": None},
        tasks=["", "t2"],
    )  # fmt: skip
    bare = parse(b'{"key": "k", "line": 1, "status": "generated"}')
    assert bare == Record(key="k", line=1, status="generated", files=[], urls=[], error=None, tasks=[])


# image files


@pytest.mark.parametrize(
    ("name", "index"),
    [("L1-k-0.png", 0), ("L12-abc-3.jpg", 3), ("L1-k-99999.png", 99999), ("L1-k-100000.png", None),
     ("L1-k-x.png", None), ("L1-k-.png", None), ("L1-k-2", 2), ("7.png", 7), ("L1-v1.2-3.png", 3),
     ("L1-a.b.c-4.jpeg", 4)],
)  # fmt: skip
def test_an_image_s_place_is_read_from_its_file_name(name: str, index: int | None) -> None:
    assert image_index(name) == index


def test_an_image_is_a_regular_file_that_starts_like_one(tmp_path: Path) -> None:
    assert is_image(str(tmp_path / image(tmp_path, "a.png")))
    assert not is_image(str(tmp_path / image(tmp_path, "b.png", b"<html>not an image")))
    assert not is_image(str(tmp_path / "missing.png"))
    (tmp_path / "link.png").symlink_to(tmp_path / "a.png")
    assert not is_image(str(tmp_path / "link.png"))
    (tmp_path / "dir.png").mkdir()
    assert not is_image(str(tmp_path / "dir.png"))
    os.mkfifo(tmp_path / "fifo.png")
    assert not is_image(str(tmp_path / "fifo.png"))  # and it does not wait for a writer


def test_an_image_is_checked_by_name_in_the_folder_given(tmp_path: Path) -> None:
    image(tmp_path, "a.png")
    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert is_image("a.png", folder)
        assert not is_image("missing.png", folder)
    finally:
        os.close(folder)


def test_an_image_someone_else_owns_is_checked_without_o_noatime(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    image(tmp_path, "a.png")
    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    real_open = os.open
    flags_seen: list[tuple[int, int | None]] = []

    def open_refusing_noatime(path: str, flags: int, *args: Any, dir_fd: int | None = None) -> int:
        flags_seen.append((flags, dir_fd))
        if flags & getattr(os, "O_NOATIME", 0):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real_open(path, flags, *args, dir_fd=dir_fd)

    monkeypatch.setattr(_manifest, "_no_atime", getattr(os, "O_NOATIME", 0) or 0o1000000)
    monkeypatch.setattr(os, "O_NOATIME", _manifest._no_atime, raising=False)
    monkeypatch.setattr(os, "open", open_refusing_noatime)
    try:
        assert is_image("a.png", folder)
        assert _manifest._no_atime == 0  # asked once, then no more
        assert [dir_fd for _, dir_fd in flags_seen] == [folder, folder]
        flags_seen.clear()
        assert is_image("a.png", folder)
        assert len(flags_seen) == 1
    finally:
        os.close(folder)


@pytest.mark.parametrize(("no_atime", "code"), [(0, errno.EACCES), (0o1000000, errno.EACCES), (0, errno.EPERM)])
def test_a_file_the_reader_may_not_open_is_not_an_image(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_atime: int, code: int
) -> None:
    """Only EPERM while asking for O_NOATIME makes the check ask again without it; any other refusal is final."""
    image(tmp_path, "a.png")
    monkeypatch.setattr(_manifest, "_no_atime", no_atime)
    calls: list[int] = []

    def refuse(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        raise PermissionError(code, os.strerror(code))

    monkeypatch.setattr(os, "open", refuse)
    assert not is_image(str(tmp_path / "a.png"))
    assert _manifest._no_atime == no_atime
    assert len(calls) == 1


def test_a_file_that_cannot_be_read_is_not_an_image_and_is_closed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    image(tmp_path, "a.png")
    closed: list[int] = []
    real_close = os.close

    def failing_read(fd: int, size: int) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    def counted_close(fd: int) -> None:
        closed.append(fd)
        real_close(fd)

    monkeypatch.setattr(os, "read", failing_read)
    monkeypatch.setattr(os, "close", counted_close)
    assert not is_image(str(tmp_path / "a.png"))
    assert len(closed) == 1


def test_saved_files_are_the_recorded_names_that_are_images_in_the_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    image(tmp_path, "L1-k-0.png")
    image(tmp_path, "L1-k-2.png")
    image(tmp_path, "L1-k-1.png", b"not an image")
    image(tmp_path / "sub", "L1-k-3.png")
    image(tmp_path, "noindex.png")
    names = ["noindex.png", "L1-k-0.png", "L1-k-1.png", "..", "L1-k-2.png", "sub/L1-k-3.png", "L1-k-4.png", "."]
    rec = Record(key="k", line=1, status="failed", files=names, urls=[], error=None)
    expected = {0: "L1-k-0.png", 2: "L1-k-2.png"}
    assert saved_files(tmp_path, rec) == expected
    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert saved_files(tmp_path, rec, folder) == expected
    finally:
        os.close(folder)


# previous_run


def test_no_manifest_is_a_first_run_in_a_folder_made_with_its_parents(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    run = previous_run(out)
    assert out.is_dir()
    assert (run.done, run.pending, run.filtered, run.skipped_lines, run.pending_lines, run.line_count) == (
        frozenset(), {}, frozenset(), [], {}, 0,
    )  # fmt: skip
    assert previous_run(out).line_count == 0  # an existing folder is fine too


def test_each_item_s_latest_record_decides(tmp_path: Path) -> None:
    out = tmp_path
    image(out, "L1-done-0.png")
    image(out, "L2-partial-0.png")
    image(out, "L4-redone-0.png")
    image(out, "L12-saved-later-0.png")
    write_manifest(
        out,
        record("done", files=["L1-done-0.png"]),
        record("partial", "done", line=2, files=["L2-partial-0.png", "L2-partial-1.png"], urls=["u0", "u1"]),
        record("paid", "generated", line=3, urls=["u"]),
        record("redone", "failed", line=4, error={"code": "1301"}),
        record("redone", "done", line=4, files=["L4-redone-0.png"]),
        record("undone", "done", line=5, files=["L1-done-0.png"]),
        record("undone", "failed", line=5, error={"code": "500"}),
        record("filtered", "failed", line=6, error={"code": "1301", "message": "unsafe"}),
        record("task", "submitted", line=7, tasks=["", "t-1"]),
        record("no-task", "submitted", line=8, tasks=["", ""]),
        record("other-code", "failed", line=9, error={"code": "1302"}),
        record("no-error", "failed", line=10),
        record("filtered-by-other", "done", line=11, files=["L11-x-0.png"], error={"code": "1301"}),
        record("saved-later", "generated", line=12, urls=["u"]),
        record("saved-later", "done", line=12, files=["L12-saved-later-0.png"], urls=["u"]),
    )
    run = previous_run(out)
    assert run.done == {"done", "redone", "saved-later"}
    assert set(run.pending) == {"partial", "paid", "task"}
    assert run.pending["paid"].urls == ["u"]
    assert run.pending["task"].tasks == ["", "t-1"]
    assert run.filtered == {"filtered"}
    assert run.skipped_lines == []
    # compacted: one line per item worth keeping, in their order; the places of the pending ones follow
    assert manifest_keys(out) == ["done", "partial", "paid", "redone", "filtered", "task", "saved-later"]
    assert run.line_count == 7
    assert run.pending_lines == {"partial": 1, "paid": 2, "filtered": 4, "task": 5}


def test_a_done_record_whose_files_are_gone_is_pending_and_a_failure_with_files_is_kept(tmp_path: Path) -> None:
    image(tmp_path, "L2-b-0.png")
    write_manifest(
        tmp_path,
        record("a", files=["L1-a-0.png"]),  # the file was deleted: done again (nothing paid is known)
        record("b", "failed", line=2, files=["L2-b-0.png"], error={"code": "1301"}),
    )
    run = previous_run(tmp_path)
    assert run.done == frozenset()
    assert set(run.pending) == {"b"}
    assert run.filtered == frozenset()  # it has a saved image: pending, to keep it
    assert manifest_keys(tmp_path) == ["b"]
    assert run.pending_lines == {"b": 0}


def test_damaged_lines_are_skipped_with_their_number_and_empty_lines_silently(tmp_path: Path) -> None:
    image(tmp_path, "L1-a-0.png")
    path = write_manifest(
        tmp_path, record("a", files=["L1-a-0.png"]), "", "   ", "not json", record("b", "generated", urls=["u"])
    )
    with path.open("ab") as file:
        file.write(b'{"key": "c", "line": 3, "status": "gene')  # the last line, cut short
    run = previous_run(tmp_path)
    assert run.skipped_lines == [(4, "not JSON"), (6, "cut short (the run was killed while writing it)")]
    assert run.done == {"a"}
    assert set(run.pending) == {"b"}
    assert manifest_keys(tmp_path) == ["a", "b"]
    assert run.pending_lines == {"b": 1}
    assert run.line_count == 2


def test_a_manifest_that_needs_nothing_dropped_is_not_rewritten(tmp_path: Path) -> None:
    image(tmp_path, "L1-a-0.png")
    path = write_manifest(tmp_path, record("a", files=["L1-a-0.png"]), record("b", "generated", line=2, urls=["u"]))
    before = path.stat().st_ino
    run = previous_run(tmp_path)
    assert path.stat().st_ino == before
    assert run.pending_lines == {"b": 1}
    assert run.line_count == 2
    empty = write_manifest(tmp_path / "empty")
    before = empty.stat().st_ino
    assert previous_run(tmp_path / "empty").line_count == 0
    assert empty.stat().st_ino == before


def test_temporary_files_of_a_killed_run_are_swept_and_nothing_else(tmp_path: Path) -> None:
    swept = [f"{TEMP_PREFIX}1.part", ".manifest-77.part"]
    names = [*swept, f"{TEMP_PREFIX}1.png", "x.part", "L1-a-0.png", "manifest-1.part"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    previous_run(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])


def test_a_temporary_file_another_process_removed_first_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / f"{TEMP_PREFIX}1.part").write_bytes(b"x")
    real_unlink = os.unlink

    def removed_first(path: Any, *args: Any, **kwargs: Any) -> None:
        real_unlink(path, *args, **kwargs)
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(os, "unlink", removed_first)
    assert previous_run(tmp_path).line_count == 0
    assert list(tmp_path.iterdir()) == []


def test_a_symlinked_or_special_manifest_is_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("")
    (tmp_path / MANIFEST).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ManifestError, match=r"is a symlink; refusing to follow it \(move it away and run again\)$"):
        previous_run(tmp_path)
    (tmp_path / MANIFEST).unlink()
    os.mkfifo(tmp_path / MANIFEST)
    with pytest.raises(ManifestError, match=r"is not a regular file; refusing to read it \(move it away"):
        previous_run(tmp_path)


def test_a_manifest_that_cannot_be_opened_is_refused_and_says_why(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).mkdir()
    with pytest.raises(ManifestError, match=r"^cannot open .*manifest\.jsonl: Is a directory$"):
        Appender(tmp_path / MANIFEST, line_count=0)


# rewriting and appending


def test_drop_lines_keeps_the_others_in_order_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_manifest(tmp_path, *(record(f"k{i}", "generated", urls=["u"]) for i in range(6)))
    drop_lines(tmp_path, LineMarks([0, 3, 5]))
    assert manifest_keys(tmp_path) == ["k1", "k2", "k4"]
    drop_lines(tmp_path, LineMarks())
    assert manifest_keys(tmp_path) == ["k1", "k2", "k4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST]


def test_a_rewrite_that_fails_leaves_the_manifest_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_manifest(tmp_path, record("a", "generated", urls=["u"]), record("b", "generated", urls=["u"]))
    before = path.read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        drop_lines(tmp_path, LineMarks([0]))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST]


def test_a_rewrite_that_cannot_make_its_temporary_file_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_manifest(tmp_path, record("a", "generated", urls=["u"]), record("b", "generated", urls=["u"]))
    before = path.read_bytes()
    real_open = os.open

    def no_new_files(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_new_files)
    with pytest.raises(ManifestError, match=r"^cannot open .*\.part: No space left on device$"):
        drop_lines(tmp_path, LineMarks([0]))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST]


def test_line_marks_grow_to_any_index() -> None:
    marks = LineMarks()
    assert not marks
    for index in (0, 7, 8, 9, 63, 64, 1000, 100_000):
        marks.add(index)
        assert index in marks
    assert marks
    assert [i for i in range(100_001) if i in marks] == [0, 7, 8, 9, 63, 64, 1000, 100_000]
    assert "0" not in marks
    assert 8 not in LineMarks([0])  # one past the last byte
    assert 16 not in LineMarks([0, 8])


def test_appended_records_are_whole_lines_with_their_text_as_written(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST
    appender = Appender(path, line_count=3)
    assert appender.append(record("图像", "generated", urls=["u"])) == 3
    assert appender.append(record("lone\udc80", "generated", urls=["u"])) == 4
    appender.close()
    raw = path.read_bytes()
    assert raw.count(b"\n") == 2  # no line left open, none empty
    assert b"\n\n" not in raw
    assert "图像".encode() in raw  # UTF-8, not \\u escapes
    assert b"lone\\udc80" in raw  # a lone surrogate is written as its escape, not refused
    assert parse(raw.splitlines()[0]) == Record(
        key="图像", line=1, status="generated", files=[], urls=["u"], error=None
    )


def disk_takes(monkeypatch: pytest.MonkeyPatch, *taken: int) -> None:
    """The next writes take only ``taken`` bytes each (a full disk); the writes after them, all."""
    real_write = os.write
    left = list(taken)

    def short_write(fd: int, data: bytes) -> int:
        return real_write(fd, data[: left.pop(0)] if left else data)

    monkeypatch.setattr(os, "write", short_write)


def test_a_line_the_disk_cut_is_ended_before_the_next_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / MANIFEST
    appender = Appender(path, line_count=5)
    disk_takes(monkeypatch, 10)
    with pytest.raises(OSError, match="the disk took only part of a manifest line") as cut:
        appender.append(record("a", "generated", urls=["u"]))
    assert cut.value.errno == errno.ENOSPC
    assert appender.lines == 6  # the cut line is a line of the file
    assert appender.append(record("b", "generated", urls=["u"])) == 6
    appender.close()
    lines = path.read_bytes().split(b"\n")
    assert parse(lines[0]) == "not JSON"
    assert isinstance(parse(lines[1]), Record)


def test_a_write_that_took_only_the_line_break_leaves_no_line_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / MANIFEST
    appender = Appender(path, line_count=0)
    disk_takes(monkeypatch, 5, 1)
    for _ in range(2):
        with pytest.raises(OSError, match="only part"):
            appender.append(record("a", "generated", urls=["u"]))
    assert appender.lines == 1
    assert appender.append(record("b", "generated", urls=["u"])) == 1
    appender.close()
    assert path.read_bytes().count(b"\n") == 2
    assert path.read_bytes().split(b"\n")[1].startswith(b'{"key": "b"')


def test_the_manifest_is_synced_at_the_interval_in_one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    synced: list[int] = []
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    real_fsync = os.fsync

    def counted_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counted_fsync)
    appender = Appender(tmp_path / MANIFEST, line_count=0)
    appender.append(record("a", "generated", urls=["u"]))
    now[0] += _manifest.SYNC_INTERVAL - 0.001
    appender.append(record("b", "generated", urls=["u"]))
    assert synced == []
    now[0] += 0.001  # exactly the interval since the appender was made
    appender.append(record("c", "generated", urls=["u"]))
    assert appender._syncer is not None
    appender._syncer.shutdown()
    assert len(synced) == 1
    appender.close()
    assert len(synced) == 2
    assert len(set(synced)) == 1


def test_a_finished_sync_lets_the_next_interval_sync_again_and_a_failed_one_stops_the_next_append(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    outcomes = [None, None, OSError(errno.EIO, "Input/output error")]
    synced: list[int] = []
    monkeypatch.setattr(time, "monotonic", lambda: now[0])

    def fsync(fd: int) -> None:
        synced.append(fd)
        failure = outcomes.pop(0) if outcomes else None
        if failure is not None:
            raise failure

    monkeypatch.setattr(os, "fsync", fsync)
    appender = Appender(tmp_path / MANIFEST, line_count=0)
    for key, sync_before in (("a", 0), ("b", 1), ("c", 2)):
        now[0] += _manifest.SYNC_INTERVAL
        assert appender._syncing is None or appender._syncing.exception(timeout=10) is None
        assert len(synced) == sync_before
        appender.append(record(key, "generated", urls=["u"]))
    assert appender._syncing is not None
    appender._syncing.exception(timeout=10)  # the failed one
    with pytest.raises(OSError, match="Input/output error"):
        appender.append(record("d", "generated", urls=["u"]))
    appender.close()
    assert manifest_keys(tmp_path) == ["a", "b", "c"]


def test_appending_to_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "target").write_text("")
    (tmp_path / MANIFEST).symlink_to(tmp_path / "target")
    with pytest.raises(ManifestError, match="symlink"):
        Appender(tmp_path / MANIFEST, line_count=0)
    assert (tmp_path / "target").read_text() == ""
