"""One batch run per output folder: an exclusive ``flock`` on ``DIR/.zhipu-images.lock``.

Two runs on one folder would each pay for every prompt and overwrite each
other's manifest. The lock is the kernel's (``fcntl.flock``), so a run killed
with -9 gives it back at once: a stale lock file is simply taken over, and a run that ends removes it. The
file holds the holder's pid, host and start time, for the message the second
run prints. (POSIX only; a lock on a network file system is only as good as
that file system's ``flock``.)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

LOCK_FILE = ".zhipu-images.lock"


class FolderBusy(Exception):
    """Another run holds the folder; the message names it."""


class FolderLock:
    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise FolderBusy(
                    f"another batch run is writing into {self.path.parent} ({holder}); "
                    "wait for it to end, or use another --out"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            if _still_there(self.path, fd):
                break
            os.close(fd)  # the run before removed the file as it ended: this lock is on nothing; again
        os.ftruncate(fd, 0)
        os.write(
            fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": int(time.time())}).encode()
        )
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._fd is not None:
            # Removed while still held, so a clean run leaves nothing behind; a run that opened the file just
            # before finds, once it has the lock, that it is gone, and takes a new one (``_still_there``).
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            os.close(self._fd)
            self._fd = None


def _still_there(path: Path, fd: int) -> bool:
    """Whether the locked file is still the one at ``path`` (not removed by the run that held it before)."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(data["started"])))
        return f"pid {int(data['pid'])} on {str(data['host'])[:100]}, started {started}"
    except (OSError, ValueError, KeyError, TypeError):
        return "its pid is not recorded"
