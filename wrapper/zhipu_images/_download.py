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
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ._bounded import BodyTooLarge, BodyUndecodable
from ._deadline import DeadlineExceeded
from ._exceptions import DownloadError
from ._redact import safe_text
from ._results import GeneratedImage

#: hidden temporary files, renamed into place when complete
TEMP_PREFIX = ".zhipu-images-"
#: What an image URL may not hold: a space, a control character or DEL.
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


#: Bytes kept from the start of an image (its signature and first chunk header) and from its end (the trailer).
HEAD_BYTES = 16
TAIL_BYTES = 12
#: The last 12 bytes of every PNG: an empty IEND chunk with its CRC.
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def image_extension(head: bytes) -> str | None:
    """The file extension for an image's first bytes, or None if they are not a known image format."""
    for signature, extension in _SIGNATURES:
        if head.startswith(signature):
            return extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def structure_problem(extension: str, head: bytes, tail: bytes, size: int) -> str | None:
    """Why bytes that start like an image are not a whole one (a PNG signature followed by HTML), or None.

    Checked on what the file's ends hold, not by decoding it: a PNG must open
    with its IHDR chunk and close with IEND; a JPEG ends with its EOI marker; a
    GIF with its trailer; a WebP's RIFF size must match the file's.
    """
    if extension == "png":
        if head[8:16] != b"\x00\x00\x00\x0dIHDR":
            return "it starts with a PNG signature but no IHDR chunk follows"
        if not tail.endswith(_PNG_END):
            return "it is a PNG without its IEND chunk (cut short, or followed by something else)"
    elif extension == "jpg" and not tail.endswith(b"\xff\xd9"):
        return "it is a JPEG without its end marker (cut short, or followed by something else)"
    elif extension == "gif" and not tail.endswith(b";"):
        return "it is a GIF without its trailer (cut short, or followed by something else)"
    elif extension == "webp" and int.from_bytes(head[4:8], "little") + 8 != size:
        return "its RIFF size does not match its length"
    return None


def checked_url(url: str) -> httpx.URL:
    """``url``, parsed, if httpx can send it to an http(s) host; a ``DownloadError`` saying why not otherwise.

    The download sends the parsed URL: httpx would otherwise parse the text again (~30 us each)."""
    if not isinstance(url, str):
        raise DownloadError(f"image URL: expected a string, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
        parsed = httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as error:
        raise DownloadError(f"image URL {safe_text(url, limit=200)!r} is not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise DownloadError(
            f"refusing to download from a {scheme or 'relative'!s} URL; only http and https are allowed"
        )
    if _SPACE_OR_CONTROL.search(url):
        raise DownloadError(f"image URL {safe_text(url, limit=200)!r} contains spaces or control characters")
    return parsed


#: A ``dest`` that does not exist yet and ends so is taken for a file name, not a folder to make.
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"})


def checked_dest(dest: object) -> Path:
    """The folder argument of ``download`` as a ``Path``; a clear error for anything else."""
    if not isinstance(dest, str | os.PathLike):
        raise DownloadError(f"dest: expected a folder path (str or os.PathLike), got {type(dest).__name__}")
    path = Path(dest)
    try:
        encoded = os.fsencode(path)
    except UnicodeEncodeError:
        raise DownloadError("dest: the folder path has a character the file system cannot store") from None
    if b"\0" in encoded:
        raise DownloadError("dest: a folder path cannot contain a NUL character")
    if path.exists() and not path.is_dir():
        raise DownloadError(
            f"dest: {safe_text(str(path), limit=200)!r} is a file; dest is the folder the image is saved in "
            f"(name the file with filename=, e.g. download(image, 'out', filename='cat'))"
        )
    if not path.exists() and path.suffix.lower() in _IMAGE_SUFFIXES:
        raise DownloadError(
            f"dest: {safe_text(str(path), limit=200)!r} looks like a file name, and dest is the folder the image is "
            f"saved in (its extension comes from its bytes): download(image, {str(path.parent)!r}, "
            f"filename={path.stem!r})"
        )
    return path


def default_stem(image: GeneratedImage) -> str:
    source = image.url or image.b64_json or ""
    return "image-" + hashlib.sha256(source.encode(errors="surrogatepass")).hexdigest()[:20]


def checked_stem(filename: str | None, image: GeneratedImage) -> str:
    """A bare file name without extension: the caller's (checked) or one derived from the image."""
    if filename is None:
        return default_stem(image)
    if not isinstance(filename, str):
        raise DownloadError(f"filename: expected a plain file name (str), got {type(filename).__name__}")
    stem = filename.rsplit(".", 1)[0] if "." in filename.lstrip(".") else filename
    if not stem or stem in (".", "..") or any(sep in filename for sep in ("/", "\\", "\0")) or stem.startswith("."):
        raise DownloadError(
            f"filename {safe_text(filename, limit=200)!r} must be a plain file name, without folders or a leading dot"
        )
    try:
        os.fsencode(stem)
    except UnicodeEncodeError:
        raise DownloadError("filename: it has a character the file system cannot store") from None
    return stem


def _create_temp(folder: Path) -> tuple[int, str]:
    """A new hidden temporary file in ``folder``, created with the permissions the umask gives
    (0644 under 022, like any file the user makes; ``mkstemp`` would make it 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = str(folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}.part")
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def _disk_error(message: str) -> DownloadError:
    """A download that failed on this machine's side (a full disk, no permission): ``scope == "disk"``."""
    error = DownloadError(message)
    error.scope = "disk"
    return error


class AtomicImageFile:
    """Collects an image's bytes in a hidden temporary file in ``dest``; ``commit`` renames it into place."""

    def __init__(self, dest: str | os.PathLike[str], stem: str, max_bytes: int):
        self.folder = checked_dest(dest)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, name = _create_temp(self.folder)
        except OSError as error:
            raise _disk_error(f"cannot write into {self.folder}: {error.strerror}") from error
        self.temp = Path(name)
        self.file = os.fdopen(fd, "wb")
        self.stem = stem
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self.tail = b""
        self.extension: str | None = None

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise DownloadError(f"the image is larger than the {self.max_bytes} byte cap (max_bytes)")
        if self.extension is None and len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
            if len(self.head) >= HEAD_BYTES:
                self._check_head()
        self.tail = (self.tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]
        try:
            self.file.write(chunk)
        except OSError as error:  # a full disk, a quota: the image cannot be kept
            raise _disk_error(f"cannot write into {self.folder}: {error.strerror or error}") from error

    def _check_head(self) -> None:
        self.extension = image_extension(self.head)
        if self.extension is None:
            raise DownloadError(f"the content is not an image (starts with {self.head[:8]!r})")

    def check_status(self, status_code: int) -> None:
        if status_code != 200:
            error = DownloadError(f"the image URL answered HTTP {status_code}")
            error.status_code = status_code
            raise error

    def failed(self, failure: BaseException) -> DownloadError:
        """The error for a download whose body did not arrive whole (``_reading.BODY_FAILURES``)."""
        if isinstance(failure, BodyTooLarge):
            return DownloadError(f"the image is larger than the {self.max_bytes} byte cap (max_bytes)")
        if isinstance(failure, DeadlineExceeded | httpx.TimeoutException):
            return DownloadError("download failed: the image did not arrive in time (the client's timeout)")
        if isinstance(failure, BodyUndecodable):
            return DownloadError(f"download failed: {failure}")
        return DownloadError(f"download failed: {type(failure).__name__}")

    def commit(self) -> Path:
        if self.extension is None:
            self._check_head()
        assert self.extension is not None
        problem = structure_problem(self.extension, self.head, self.tail, self.size)
        if problem is not None:
            raise DownloadError(f"the content is not a whole image: {problem}")
        target = self.folder / f"{self.stem}.{self.extension}"
        try:
            self.file.close()  # flushes: a full disk shows here too
            os.replace(self.temp, target)
        except OSError as error:
            raise _disk_error(f"cannot write {target}: {error.strerror or error}") from error
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
