"""The batch's contact sheet, ``DIR/index.html``: every item in input order, to look at rather than read.

One figure per item, ordered by input line: its images (the files beside the
page, linked relatively, so the folder can be moved, zipped or opened
offline), its line number, prompt, model, size and status; a failure shows its
error instead of an image. Styles are inline and nothing is fetched from
elsewhere. The one script is an ``onerror`` handler that labels an image whose
file has gone since; the page reads the same without it.

It is written from the manifest after each run, through a temporary file and a
rename, so a browser never sees half a page. The records are not held in
memory: one integer per item (its input line, status and record's offset) is
sorted, and the records are read back one at a time.

The cards fill the window's width at any size (a grid of columns at least
``CARD_MIN`` wide). Images load at once, not lazily: a headless screenshot or a
printout never scrolls, and lazy images below the fold stayed grey there. To
keep a page quick with that, a batch of more than ``PAGE_SIZE`` items gets more
pages (``index-2.html``, ...), linked from each other; the images are the files
themselves, scaled by the browser (smaller copies would need an image library
for every format the platform may answer in, and seconds of CPU per thousand
images on every run).
"""

from __future__ import annotations

import html
import json
import os
from array import array
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from .._redact import safe_text
from ._manifest import MANIFEST

SHEET = "index.html"
#: Items per page: a page loads all of its images at once.
PAGE_SIZE = 500
#: The narrowest a card gets before the grid has one column fewer.
CARD_MIN = "14rem"
#: One integer per record, (line, offset, status) from high bits to low, so that sorting orders by line and
#: then by place in the manifest: offsets up to 2**40 (a terabyte of manifest), input lines up to 2**22 (four
#: million; later lines are left off the page).
_STATUS_BITS = 2
_OFFSET_BITS = 40
_LINE_SHIFT = _OFFSET_BITS + _STATUS_BITS
_STATUS_MASK = (1 << _STATUS_BITS) - 1
_OFFSET_MASK = (1 << _OFFSET_BITS) - 1
_MAX_LINE = 1 << (64 - _LINE_SHIFT)

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem; color: #222; background: #fafafa; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
.summary, .pages { margin: 0 0 1rem; color: #555; }
.pages a, .pages strong { margin-right: .5rem; }
.sheet { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, $card), 1fr)); gap: 1rem; }
figure { margin: 0; min-width: 0; padding: .5rem; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
figure.failed, figure.generated { border-color: #d33; background: #fff5f5; }
.images { display: grid; grid-template-columns: repeat(auto-fit, minmax(6rem, 1fr)); gap: 4px; min-height: 2rem; }
.images a { display: block; }
.images img { display: block; width: 100%; height: auto; object-fit: contain; background: #eee; }
.none { display: flex; align-items: center; justify-content: center; width: 100%; height: 6rem;
  background: #f3e3e3; color: #b00; }
.broken::after { content: "file missing"; color: #d33; font-size: .8rem; }
figcaption { margin-top: .4rem; font-size: .85rem; overflow-wrap: anywhere; }
.prompt { display: block; margin: .2rem 0; }
.meta { color: #555; }
.status { font-weight: 600; }
.failed .status, .generated .status, .submitted .status, .error { color: #b00; }
""".replace("$card", CARD_MIN)

_STATUS_WORDS = {
    "done": "done",
    "failed": "failed",
    "generated": "paid, not saved yet",
    "submitted": "paid, generating (a task)",
}
_STATUSES = tuple(_STATUS_WORDS)


def page_name(number: int) -> str:
    """The file of page ``number`` (1: ``index.html``)."""
    return SHEET if number == 1 else f"index-{number}.html"


def write_contact_sheet(out: Path, title: str) -> Path:
    """Write ``out/index.html`` (and further pages) from ``out/manifest.jsonl``; return the first page's path.
    An ``OSError`` propagates."""
    with open(out / MANIFEST, "rb") as records:
        order = _line_order(records)
        counts = dict.fromkeys(_STATUSES, 0)
        for packed in order:
            counts[_STATUSES[packed & _STATUS_MASK]] += 1
        pages = max(1, -(-len(order) // PAGE_SIZE))
        for number in range(1, pages + 1):
            chunk = order[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
            _write_page(out, number, pages, _head(title, counts, number, pages), chunk, records)
    number = pages + 1
    while (out / page_name(number)).exists():  # pages of an earlier, longer sheet
        (out / page_name(number)).unlink()
        number += 1
    return out / SHEET


def _write_page(out: Path, number: int, pages: int, head: str, chunk: list[int], records: BinaryIO) -> None:
    """One page through a temporary file and a rename: a browser never sees half of it."""
    target = out / page_name(number)
    temp = out / f".{target.name}-{os.getpid()}.part"
    temp.unlink(missing_ok=True)  # left by a killed run of the same pid; "x" below then never follows a link
    try:
        with open(temp, "x", encoding="utf-8", newline="\n") as page:
            page.write(head)
            for packed in chunk:
                records.seek(packed >> _STATUS_BITS & _OFFSET_MASK)
                record = _record(records.readline())
                if record is not None:
                    page.write(_figure(record))
            page.write(f"</main>\n{_page_links(number, pages)}</body>\n</html>\n")
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _page_links(number: int, pages: int) -> str:
    if pages == 1:
        return ""
    links = " ".join(
        f"<strong>{page}</strong>" if page == number else f'<a href="{page_name(page)}">{page}</a>'
        for page in range(1, pages + 1)
    )
    return f'<nav class="pages">pages: {links}</nav>\n'


def sweep_contact_sheet(out: Path) -> None:
    """Remove the temporary file of a sheet a killed run was writing (the folder's lock says no run is)."""
    for stale in out.glob(".index*.html-*.part"):
        stale.unlink(missing_ok=True)


def _line_order(records: BinaryIO) -> list[int]:
    """Each item's record as one integer (line, offset, status), in line order; of two records for one line,
    the later one."""
    packed = array("Q")
    offset = 0
    for raw in records:
        record = _record(raw)
        if record is not None:
            status = _STATUSES.index(record["status"])
            packed.append(record["line"] << _LINE_SHIFT | offset << _STATUS_BITS | status)
        offset += len(raw)
    ordered = sorted(packed)
    del packed
    return [
        value
        for position, value in enumerate(ordered)
        if position + 1 == len(ordered) or ordered[position + 1] >> _LINE_SHIFT != value >> _LINE_SHIFT
    ]


def _record(raw: bytes) -> dict[str, Any] | None:
    """A manifest line's record if it has what a figure needs (the manifest's own reader checked the rest)."""
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    line, status = record.get("line"), record.get("status")
    if type(line) is not int or not 0 < line < _MAX_LINE or status not in _STATUS_WORDS:
        return None
    return record


def _head(title: str, counts: dict[str, int], number: int, pages: int) -> str:
    total = sum(counts.values())
    parts = [f"{counts[status]} {_STATUS_WORDS[status]}" for status in _STATUS_WORDS if counts.get(status)]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{_text(title)}</h1>\n"
        f'<p class="summary">{total} items: {", ".join(parts) or "none yet"}. '
        "Items not started yet are not listed.</p>\n"
        f"{_page_links(number, pages)}"
        '<main class="sheet">\n'
    )


def _figure(record: dict[str, Any]) -> str:
    line = record["line"]
    status = record["status"]
    request: dict[str, Any] = record["request"] if isinstance(record.get("request"), dict) else {}
    files = [name for name in record.get("files") or [] if isinstance(name, str) and _plain_name(name)]
    images = "".join(
        f'<a href="{quote(name)}"><img src="{quote(name)}" alt="line {line}, image {number}" '
        f'decoding="async" onerror="this.parentNode.classList.add(\'broken\')"></a>'
        for number, name in enumerate(files, start=1)
    )
    meta = " · ".join(
        _text(str(request[name])) for name in ("model", "size", "quality") if request.get(name) is not None
    )
    error = record.get("error")
    failure = ""
    if isinstance(error, dict):
        code = f" (code {_text(str(error['code']))})" if error.get("code") else ""
        failure = (
            f'<span class="error">{_text(str(error.get("type") or "error"))}{code}: '
            f"{_text(str(error.get('message') or ''))}</span>"
        )
    if not images:
        images = f'<span class="none">{"no image" if status == "failed" else "not saved yet"}</span>'
    return (
        f'<figure class="item {status}" id="line-{line}">\n'
        f'<div class="images">{images}</div>\n'
        f'<figcaption><span class="line">line {line}</span> · '
        f'<span class="status">{_STATUS_WORDS[status]}</span>'
        f'<q class="prompt">{_text(str(record.get("prompt") or ""))}</q>'
        f'<span class="meta">{meta}</span>{"<br>" + failure if failure else ""}</figcaption>\n'
        "</figure>\n"
    )


def _plain_name(name: str) -> bool:
    """A file of this folder (the manifest is not trusted to name only those)."""
    return "/" not in name and "\\" not in name and name not in ("", ".", "..")


def _text(value: str) -> str:
    """Text for the page: printable, cut to a readable length, and escaped."""
    return html.escape(safe_text(value), quote=True)
