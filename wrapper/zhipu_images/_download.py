"""Saving images: streamed to a temporary file beside the target, renamed into place only when complete.

Whatever goes wrong (bad status, not an image, over the size cap, a broken
connection, Ctrl-C), the temporary file is removed and no partial file is left.
File names are derived from a hash of the image's source, never from the URL's
path, so a hostile URL cannot write outside ``dest``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from ._exceptions import DownloadError
from ._results import GeneratedImage

#: hidden temporary files, renamed into place when complete
TEMP_PREFIX = ".zhipu-images-"

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def image_extension(head: bytes) -> str | None:
    """The file extension for an image's first bytes, or None if they are not a known image format."""
    for signature, extension in _SIGNATURES:
        if head.startswith(signature):
            return extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def checked_url(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise DownloadError(
            f"refusing to download from a {scheme or 'relative'!s} URL; only http and https are allowed"
        )
    return url


def default_stem(image: GeneratedImage) -> str:
    source = image.url or image.b64_json or ""
    return "image-" + hashlib.sha256(source.encode()).hexdigest()[:20]


def checked_stem(filename: str | None, image: GeneratedImage) -> str:
    """A bare file name without extension: the caller's (checked) or one derived from the image."""
    if filename is None:
        return default_stem(image)
    stem = filename.rsplit(".", 1)[0] if "." in filename.lstrip(".") else filename
    if not stem or stem in (".", "..") or any(sep in filename for sep in ("/", "\\", "\0")) or stem.startswith("."):
        raise DownloadError(f"filename {filename!r} must be a plain file name, without folders or a leading dot")
    return stem


class AtomicImageFile:
    """Collects an image's bytes in a hidden temporary file in ``dest``; ``commit`` renames it into place."""

    def __init__(self, dest: str | os.PathLike[str], stem: str, max_bytes: int):
        self.folder = Path(dest)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.folder, prefix=TEMP_PREFIX, suffix=".part")
        except OSError as error:
            raise DownloadError(f"cannot write into {self.folder}: {error.strerror}") from error
        self.temp = Path(name)
        self.file = os.fdopen(fd, "wb")
        self.stem = stem
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self.extension: str | None = None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise DownloadError(f"the image is larger than the {self.max_bytes} byte cap (max_bytes)")
        if self.extension is None and len(self.head) < 12:
            self.head += chunk[: 12 - len(self.head)]
            if len(self.head) >= 12:
                self._check_head()
        try:
            self.file.write(chunk)
        except OSError as error:  # a full disk, a quota: the image cannot be kept
            raise DownloadError(f"cannot write into {self.folder}: {error.strerror or error}") from error

    def _check_head(self) -> None:
        self.extension = image_extension(self.head)
        if self.extension is None:
            raise DownloadError(f"the content is not an image (starts with {self.head[:8]!r})")

    def check_status(self, status_code: int) -> None:
        if status_code != 200:
            raise DownloadError(f"the image URL answered HTTP {status_code}")

    def commit(self) -> Path:
        if self.extension is None:
            self._check_head()
        target = self.folder / f"{self.stem}.{self.extension}"
        try:
            self.file.close()  # flushes: a full disk shows here too
            os.replace(self.temp, target)
        except OSError as error:
            raise DownloadError(f"cannot write {target}: {error.strerror or error}") from error
        return target

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # closing flushes, which fails again on a full disk
            self.file.close()
        self.temp.unlink(missing_ok=True)


def decode_b64(image: GeneratedImage, max_bytes: int) -> bytes:
    assert image.b64_json is not None
    if len(image.b64_json) * 3 // 4 > max_bytes + 3:
        raise DownloadError(f"the image is larger than the {max_bytes} byte cap (max_bytes)")
    try:
        return base64.b64decode(image.b64_json, validate=True)
    except (binascii.Error, ValueError) as error:
        raise DownloadError("the image's b64_json is not valid base64") from error


def save_bytes(data: bytes, dest: str | os.PathLike[str], stem: str, cap: int) -> Path:
    """Save an inline (b64) image with the same checks and atomic rename as a streamed one."""
    target = AtomicImageFile(dest, stem, cap)
    try:
        target.write(data)
        return target.commit()
    except BaseException:
        target.abort()
        raise
