"""The batch manifest (``DIR/manifest.jsonl``): what was paid for and what was saved, read back defensively.

Each line is one JSON record about one item (its ``key``), appended as it
happens:

- ``submitted``: a task of the task API was accepted; its id (in ``tasks``, at the
  place of the image it makes) is recorded *before* it is polled, so a kill while
  the platform generates loses nothing: the next run waits for it instead of paying again;
- ``generated``: the answer arrived; its image ``urls`` are recorded *before*
  anything is downloaded, so a kill during a slow download loses no paid image;
- ``done``: every image is saved; ``files`` names them (``L<line>-<key>-<i>.<ext>``,
  ``i`` the image's place in ``urls``);
- ``failed``: the item failed; ``files`` and ``urls`` keep what was paid and saved. A failure of the
  content filter (1301) is final: the next run does not send that prompt again unless asked
  (``--retry-filtered``): an account that keeps sending unsafe prompts can be locked.

The latest record of a key wins. Reading never trusts the file: it is read as
bytes, line by line, and a line that is not UTF-8, not JSON, cut short, or of
the wrong shape (checked against ``Record``'s typed fields) is skipped with a
warning naming its line, and its item is done again. An item counts as done
only if its files exist and are images.

Compaction (at the start and the end of a run) rewrites the manifest, through
a temporary file and a rename, to the latest record of each item worth
keeping: done items, and items with paid URLs, saved files or pending tasks. It holds one
offset per item in memory, not the records.

Appends are whole lines, one ``write`` each, fsync'd about ``SYNC_INTERVAL``
apart and at the end: a power loss loses at most the last second or so of
records and never cuts more than the last line. The periodic fsync runs in a
thread of its own: on the batch's event loop, each one stalled every request
in flight (1-4 ms in this project's benchmark VM, far more on a busy or a
network disk). The manifest is opened with ``O_NOFOLLOW``: a symlink in its
place is refused, not written through.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import time
from collections.abc import Callable, Container, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, get_args

from attrs import field, frozen

from .._download import TEMP_PREFIX, image_extension

MANIFEST = "manifest.jsonl"
#: Longest wait between fsyncs of the manifest, in seconds.
SYNC_INTERVAL = 1.0
#: The compaction's temporary file: ``<this><pid>.part`` beside the manifest.
_COMPACTION_PREFIX = ".manifest-"
Status = Literal["submitted", "generated", "done", "failed"]


class ManifestError(Exception):
    """The manifest cannot be used at all (a symlink, unreadable); the message says why."""


@frozen
class Record:
    """The fields every record must have, typed (``parse`` checks them: it alone makes records)."""

    key: str
    line: int
    status: Status
    files: list[str]
    urls: list[str]
    #: a failure: its type, code and message
    error: dict[str, Any] | None
    #: the task ids of its images (task API), by the image's place; "" where none is pending
    tasks: list[str] = field(factory=list)


_STATUSES: tuple[str, ...] = get_args(Status)


def parse(raw: bytes) -> Record | str:
    """The record on one manifest line, or why it is not one.

    The checks are written out rather than left to attrs validators: resuming reads every line of the
    manifest, and at 100,000 items the validators were most of the time it took.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as undecodable:
        return f"not UTF-8 (byte {undecodable.start + 1})"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return "not JSON"
    if type(data) is not dict:
        return f"a JSON {type(data).__name__}, not an object"
    key, line, status = data.get("key"), data.get("line"), data.get("status")
    files, urls, error = data.get("files", []), data.get("urls", []), data.get("error")
    tasks = data.get("tasks", [])
    if type(key) is not str or not key:
        problem = "key must be a non-empty string"
    elif type(line) is not int or line < 1:  # type(), not isinstance: true is not line 1
        problem = "line is not a line number"
    elif status not in _STATUSES:
        problem = f"status must be one of {', '.join(_STATUSES)}"
    elif not _strings(files):
        problem = "files must be a list of strings"
    elif not _strings(urls):
        problem = "urls must be a list of strings"
    elif not _strings(tasks):
        problem = "tasks must be a list of strings"
    elif error is not None and (
        type(error) is not dict or not all(type(v) is str or v is None for v in error.values())
    ):
        problem = "error must be an object of strings"
    elif status == "done" and not files:
        return "done, but with no files"
    else:
        return Record(key=key, line=line, status=status, files=files, urls=urls, error=error, tasks=tasks)
    return f"not a manifest record ({problem})"


def _strings(value: object) -> bool:
    return type(value) is list and all(type(item) is str for item in value)


def image_index(name: str) -> int | None:
    """The image's place in its item's ``urls``, from its file name (``...-<i>.<ext>``)."""
    stem = name.rsplit(".", 1)[0]
    tail = stem.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() and len(tail) < 6 else None


#: How images are opened to be checked: without following a symlink, without blocking (opening a FIFO put in an
#: image's place would otherwise wait for a writer).
_CHECK_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
#: And without touching the access time: checking is not using, and under relatime (the usual mount) the first
#: read after a write updates it, a metadata write per image: 1.6 of the 6.9 s (profiled) of resuming 100,000
#: images right after the run that saved them. Only the file's owner may ask; ``is_image`` stops asking once
#: refused.
_no_atime = getattr(os, "O_NOATIME", 0)


def is_image(path: str, folder: int | None = None) -> bool:
    """A regular file (not a symlink) that starts like an image. (A ``str``: pathlib costs more than the check.)
    ``folder``: a descriptor of the folder ``path`` is a name in, which spares the kernel walking the folder's
    path for each file (at a resume, every image is checked: 0.2-0.5 s of 100,000)."""
    global _no_atime
    try:
        fd = os.open(path, _CHECK_FLAGS | _no_atime, dir_fd=folder)
    except PermissionError as refused:
        if not (_no_atime and refused.errno == errno.EPERM):  # EPERM: O_NOATIME on another user's file
            return False
        _no_atime = 0
        return is_image(path, folder)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and image_extension(os.read(fd, 16)) is not None
    except OSError:
        return False
    finally:
        os.close(fd)


def saved_files(out: Path, record: Record, folder: int | None = None) -> dict[int, str]:
    """Image index -> file name, for the record's files that are still there and are images (``folder``: a
    descriptor of ``out``, for checking many records)."""
    saved = {}
    path = os.fspath(out)
    for name in record.files:
        index = image_index(name)
        if index is None or "/" in name or name in (".", ".."):  # a name, never a path (nor one out of ``out``)
            continue
        if is_image(name if folder is not None else os.path.join(path, name), folder):
            saved[index] = name
    return saved


@contextlib.contextmanager
def _opened_folder(out: Path) -> Iterator[int]:
    """A descriptor of ``out``, to check its images by name (``saved_files``)."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        yield fd
    finally:
        os.close(fd)


def _lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the newline) of each line; None for a last line cut short."""
    with _open(path, os.O_RDONLY) as file:
        for number, raw in enumerate(file, start=1):
            yield number, raw[:-1] if raw.endswith(b"\n") else None


@contextlib.contextmanager
def _open(path: Path, flags: int) -> Iterator[Any]:
    """The manifest, opened without following a symlink and without blocking (a FIFO would wait for a
    writer); anything but a regular file is refused: read as empty, a FIFO would have every item paid again."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as error:
        if path.is_symlink():
            raise ManifestError(f"{path} is a symlink; refusing to follow it (move it away and run again)") from None
        raise ManifestError(f"cannot open {path}: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ManifestError(f"{path} is not a regular file; refusing to read it (move it away and run again)")
    with os.fdopen(fd, "rb" if flags == os.O_RDONLY else "ab") as file:
        yield file


@frozen
class PreviousRun:
    """What earlier runs left, after compaction: items done, and the latest record of items with paid images."""

    done: frozenset[str]
    pending: dict[str, Record]
    #: items the content filter refused (1301), which are not sent again unless asked
    filtered: frozenset[str]
    #: (line number, problem) for each manifest line that was skipped
    skipped_lines: list[tuple[int, str]]
    #: the line index of each pending (or filtered) record in the manifest as it is now (superseded when its
    #: item is redone)
    pending_lines: dict[str, int]
    #: lines in the manifest as it is now: where this run's records start
    line_count: int


def previous_run(out: Path) -> PreviousRun:
    """Read the manifest back, sweep what a killed run left, and compact the manifest if it needs it.

    One pass reads and checks every line; each key's latest record decides. The
    manifest is rewritten only if some line must go (superseded, damaged, or a
    failure with nothing paid): a finished manifest is read once, not copied.
    """
    out.mkdir(parents=True, exist_ok=True)
    # A killed run (SIGKILL, power loss) cannot remove its temporary files; this run does. One listing of the
    # folder, names compared as strings: two pathlib globs of a 100,000-image folder took 0.19 s, one listing 0.08 s.
    with os.scandir(out) as entries:
        stale = [entry.path for entry in entries if _is_temporary(entry.name)]
    for name in stale:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    path = out / MANIFEST
    if not path.exists() and not path.is_symlink():
        return PreviousRun(
            done=frozenset(), pending={}, filtered=frozenset(), skipped_lines=[], pending_lines={}, line_count=0
        )
    skipped: list[tuple[int, str]] = []
    latest: dict[str, int] = {}  # key -> index of the line of its latest record worth keeping
    done: set[str] = set()
    filtered: set[str] = set()
    pending: dict[str, Record] = {}
    lines = 0
    with _opened_folder(out) as folder:
        for number, raw in _lines(path):
            lines = number
            if raw is not None and not raw.strip():
                continue  # an empty line
            record = parse(raw) if raw is not None else "cut short (the run was killed while writing it)"
            if isinstance(record, str):
                skipped.append((number, record))
                continue
            key = record.key
            done.discard(key)  # a later record of a key replaces what an earlier one said
            filtered.discard(key)
            pending.pop(key, None)
            latest.pop(key, None)
            files = saved_files(out, record, folder)
            if record.status == "done" and len(files) == len(record.files):
                done.add(key)
            elif record.urls or files or any(record.tasks):
                pending[key] = record
            elif record.status == "failed" and record.error is not None and record.error.get("code") == "1301":
                filtered.add(key)
            else:
                continue  # a failure with nothing paid: nothing to keep
            latest[key] = number - 1
    # a filtered item's line too: sent again (--retry-filtered), its new record replaces it
    pending_lines = {key: latest[key] for key in (*pending, *filtered)}
    if len(latest) < lines:
        keep = LineMarks(latest.values())
        moved = _rewrite(path, keep.__contains__, watch=set(pending_lines.values()))
        pending_lines = {key: moved[index] for key, index in pending_lines.items()}
    return PreviousRun(
        done=frozenset(done),
        pending=pending,
        filtered=frozenset(filtered),
        skipped_lines=skipped,
        pending_lines=pending_lines,
        line_count=len(latest),
    )


def _is_temporary(name: str) -> bool:
    """A download's or a compaction's temporary file, which only a run that was killed leaves behind."""
    return name.endswith(".part") and name.startswith((TEMP_PREFIX, _COMPACTION_PREFIX))


class LineMarks:
    """A set of line indexes, one bit each: 12.5 KB for 100,000 lines, where a set of ints takes megabytes."""

    def __init__(self, indexes: Iterable[int] = ()) -> None:
        self._bits = bytearray()
        for index in indexes:
            self.add(index)

    def add(self, index: int) -> None:
        byte = index >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte + 1 - len(self._bits) + len(self._bits) // 2))
        self._bits[byte] |= 1 << (index & 7)

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int):
            return False
        byte = index >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (index & 7)))

    def __bool__(self) -> bool:
        return any(self._bits)


def _rewrite(path: Path, keeps: Callable[[int], bool], watch: Container[int] = ()) -> dict[int, int]:
    """Keep only the lines whose index ``keeps``: through a temporary file, fsync'd, renamed into place.

    Returns where the lines at the ``watch`` indexes went (old index -> new index)."""
    moved: dict[int, int] = {}
    written = 0
    temp = path.with_name(f"{_COMPACTION_PREFIX}{os.getpid()}.part")
    try:
        with _open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as compacted:
            for number, raw in _lines(path):
                if raw is not None and keeps(number - 1):
                    if number - 1 in watch:
                        moved[number - 1] = written
                    compacted.write(raw + b"\n")
                    written += 1
            compacted.flush()
            os.fsync(compacted.fileno())
        os.replace(temp, path)
    except BaseException:  # interrupted, or the disk: the manifest is as it was, and no temporary file is left
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return moved


def drop_lines(out: Path, superseded: LineMarks) -> None:
    """Rewrite the manifest without the ``superseded`` lines (at the end of a run: its own ``generated``
    records and the earlier records of the items it redid), so that it holds one line per item."""
    if superseded:
        _rewrite(out / MANIFEST, lambda index: index not in superseded)


class Appender:
    """Appends records as whole lines; fsyncs in a thread about ``SYNC_INTERVAL`` apart, and on close.

    Each line is one ``os.write``, with no buffer in between: a write the disk refuses raises at once
    and leaves nothing behind to fail again on close. If the disk took only part of a line, the next
    line starts on a fresh one, so the cut line is the only one lost (the reader skips it).
    """

    def __init__(self, path: Path, line_count: int) -> None:
        self._stack = contextlib.ExitStack()
        file = self._stack.enter_context(_open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND))
        self._fd = file.fileno()  # written with os.write; the file object only closes it
        self._synced = time.monotonic()
        #: the periodic fsync's thread, made at the first one; and that sync, until the next append looks at it
        self._syncer: ThreadPoolExecutor | None = None
        self._syncing: Future[None] | None = None
        self._cut = False
        #: the index the next record's line gets (``line_count``: the lines already there)
        self.lines = line_count

    def append(self, record: dict[str, Any]) -> int:
        """Write one record and return its line index; an ``OSError`` (a full disk, or a failed fsync of
        earlier lines) propagates: stop the batch."""
        if self._syncing is not None and self._syncing.done():
            syncing, self._syncing = self._syncing, None
            syncing.result()  # the OSError of a failed fsync
        prefix = b"\n" if self._cut else b""  # ends the line the disk cut, if one is open
        # backslashreplace: a lone surrogate that reached a record anyway is written as its JSON escape
        data = prefix + json.dumps(record, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"
        written = os.write(self._fd, data)
        if written < len(data):
            if written > len(prefix):  # part of this record is in the file: a cut line of its own
                self._cut = True
                self.lines += 1  # a line of the file, which the indexes after it count
            elif written == len(prefix):
                self._cut = False
            raise OSError(errno.ENOSPC, "the disk took only part of a manifest line")
        self._cut = False
        index, self.lines = self.lines, self.lines + 1
        now = time.monotonic()
        if now - self._synced >= SYNC_INTERVAL and self._syncing is None:
            self._synced = now
            if self._syncer is None:
                self._syncer = ThreadPoolExecutor(1, thread_name_prefix="zhipu-images-manifest-sync")
            self._syncing = self._syncer.submit(os.fsync, self._fd)
        return index

    def close(self) -> None:
        try:
            if self._syncer is not None:
                self._syncer.shutdown()  # the file stays open until its sync is over
            os.fsync(self._fd)
        except OSError:
            pass  # every line is written; unsynced, a power cut may lose the last second of them, no more
        finally:
            self._stack.close()
