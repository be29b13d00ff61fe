"""The batch's contact sheet (``index.html``): parsed as HTML, and opened in a real headless browser.

Batches run through the real ``zhipu-images batch`` against a fake server on
loopback. The browser test needs Chromium (Debian's ``chromium``, which
``.ci/run`` installs); it is skipped, saying so, where there is none.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import html5lib
import pytest

from tests import test_batch_integrity as integrity
from zhipu_images.cli._contact_sheet import SHEET, write_contact_sheet
from zhipu_images.cli._manifest import MANIFEST
from zhipu_images.fake import FakePlatform, FakeServer

PROMPTS: list[dict[str, object]] = [
    {"prompt": "a red fox in the snow"},
    {"prompt": 'a <b>bold</b> "quoted" cat & dog <script>alert(1)</script>', "n": 2},
    {"prompt": "forbidden-word on a sign"},  # the fake's content filter refuses it
    {"prompt": "a wide blue whale", "size": "768x512"},
]


#: The fake platform and server fixtures of the batch integrity tests (the key they accept, in the environment).
platform, server = integrity.platform, integrity.server


def run_batch(server: FakeServer, prompts: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return integrity.batch(server, prompts, out, "--size", "512x512", "--model", "cogview-4", *extra)


def write_jsonl(folder: Path, items: list[dict[str, object]]) -> Path:
    path = folder / "prompts.jsonl"
    path.write_text("\n\n" + "".join(json.dumps(item) + "\n" for item in items))
    return path


class Figures(HTMLParser):
    """The figures of a sheet: class, id, image sources, and caption text by span class."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, object]] = []
        self.scripts = 0
        self._span: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
        elif tag == "figure":
            self.figures.append({"class": attributes.get("class"), "id": attributes.get("id"), "src": []})
        elif tag == "img" and self.figures:
            sources = self.figures[-1]["src"]
            assert isinstance(sources, list)
            sources.append(attributes.get("src"))
        elif tag in ("span", "q"):
            self._span = attributes.get("class")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("span", "q"):
            self._span = None

    def handle_data(self, data: str) -> None:
        if self._span and self.figures:
            key = str(self._span)
            self.figures[-1][key] = str(self.figures[-1].get(key, "")) + data


def figures_of(page: Path) -> Figures:
    parser = Figures()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def assert_valid_html(page: Path) -> None:
    """No parse error by the HTML standard's own parsing rules (html5lib in strict mode raises on the first)."""
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page.read_bytes())


def test_the_sheet_lists_every_item_in_input_order_with_its_images_prompt_model_size_and_status(
    tmp_path: Path, server: FakeServer, platform: FakePlatform
) -> None:
    prompts = write_jsonl(tmp_path, PROMPTS)
    out = tmp_path / "out"
    platform.fail_next("server_error")  # with -c 1 the first item (input line 3) fails, and is redone below
    first = run_batch(server, prompts, out, "-c", "1")
    assert first.returncode == 1, first.stderr
    second = run_batch(server, prompts, out, "-c", "1", "--retry-filtered")  # the refused item, sent again
    assert f"contact sheet: {out / SHEET}" in second.stderr
    # The redone item is now the manifest's last record: the page sorts, it does not copy the manifest.
    manifest_lines = [json.loads(line)["line"] for line in (out / MANIFEST).read_text().splitlines()]
    assert manifest_lines != sorted(manifest_lines)

    page = out / SHEET
    assert_valid_html(page)
    sheet = figures_of(page)
    assert [figure["id"] for figure in sheet.figures] == ["line-3", "line-4", "line-5", "line-6"]
    assert [figure["class"] for figure in sheet.figures] == ["item done", "item done", "item failed", "item done"]
    assert [figure["prompt"] for figure in sheet.figures] == [item["prompt"] for item in PROMPTS]
    assert [figure["line"] for figure in sheet.figures] == ["line 3", "line 4", "line 5", "line 6"]
    assert [figure["meta"] for figure in sheet.figures] == [
        "cogview-4 · 512x512 · standard",
        "cogview-4 · 512x512 · standard",
        "cogview-4 · 512x512 · standard",
        "cogview-4 · 768x512 · standard",
    ]
    assert "ContentFilterError (code 1301)" in str(sheet.figures[2]["error"])
    assert sheet.scripts == 0  # the prompt's <script> is text, not a script
    sources = [figure["src"] for figure in sheet.figures]
    assert [len(s) for s in sources if isinstance(s, list)] == [1, 2, 0, 1]
    for names in sources:
        assert isinstance(names, list)
        for name in names:
            assert (out / str(name)).is_file()  # relative to the page: the folder can be moved as a whole


def test_a_run_that_changed_nothing_leaves_the_sheet_as_it_was(tmp_path: Path, server: FakeServer) -> None:
    prompts = write_jsonl(tmp_path, PROMPTS[:1])
    out = tmp_path / "out"
    assert run_batch(server, prompts, out).returncode == 0
    (out / SHEET).write_text("kept")
    again = run_batch(server, prompts, out)
    assert again.returncode == 0
    assert (out / SHEET).read_text() == "kept"
    (out / SHEET).unlink()
    (out / f".{SHEET}-999999.part").write_text("<html>half a page")  # a killed run was writing the sheet
    assert run_batch(server, prompts, out).returncode == 0
    assert "line-3" in (out / SHEET).read_text()  # a missing sheet is written again
    assert not list(out.glob(".*.part"))


def _record(line: int, status: str, **fields: object) -> str:
    base: dict[str, object] = {"key": f"k{line}", "line": line, "status": status, "prompt": f"prompt {line}"}
    return json.dumps(base | fields) + "\n"


def test_of_two_records_for_one_line_the_later_wins_and_damaged_or_hostile_records_do_no_harm(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text(
        _record(2, "failed", error={"type": "APIError", "code": "500", "message": "first try"})
        + "not json at all\n"
        + _record(1, "done", files=["../../etc/passwd", "javascript:alert(1)", "a b.png"])
        + _record(9, "weird")
        + _record(True, "done")  # a bool is not a line number
        + _record(2, "done", files=["L000002-k2-0.png"], request={"model": "glm-image", "size": "1024x1024"})
        + '{"line": 3, "status": "generated", "prompt": "\\u0000\\u202e</figure><img src=x onerror=alert(1)>"}\n'
    )
    page = write_contact_sheet(tmp_path, 'title <"&>')
    assert_valid_html(page)
    sheet = figures_of(page)
    assert [figure["id"] for figure in sheet.figures] == ["line-1", "line-2", "line-3"]
    assert sheet.figures[0]["src"] == ["javascript%3Aalert%281%29", "a%20b.png"]  # relative names only
    assert sheet.figures[1]["class"] == "item done"
    assert "error" not in sheet.figures[1]
    assert sheet.figures[2]["class"] == "item generated"
    assert sheet.figures[2]["src"] == []
    assert "onerror=alert" in str(sheet.figures[2]["prompt"])  # as text
    assert "3 items: 2 done, 1 paid, not saved yet." in page.read_text()
    assert not list(tmp_path.glob(".*.part"))


def _chromium() -> str | None:
    for name in (os.environ.get("ZHIPU_IMAGES_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


#: Served beside the batch folder (same origin): waits until every image of the sheet has settled, then
#: writes what each one did into the page, for --dump-dom to print.
_CHECK_PAGE = """<!DOCTYPE html><html><body><iframe id="sheet" src="out/index.html"
 style="width:1200px;height:20000px"></iframe><script>
function settled(images) { return images.every(i => i.complete); }
function report() {
  const sheet = document.getElementById('sheet').contentDocument;
  const images = sheet ? [...sheet.images] : [];
  const ready = sheet && sheet.URL.endsWith('/index.html') && sheet.readyState === 'complete';
  if (!ready || !settled(images)) { setTimeout(report, 50); return; }
  const result = {
    images: images.map(i => [i.getAttribute('src'), i.naturalWidth, i.naturalHeight]),
    broken: [...sheet.querySelectorAll('.broken img')].map(i => i.getAttribute('src')),
  };
  const out = document.createElement('pre');
  out.id = 'result';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
}
report();
</script></body></html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``tmp_path`` over HTTP on loopback, so the checking page may read the sheet in its frame."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}"
        finally:
            httpd.shutdown()


@pytest.mark.skipif(_chromium() is None, reason="no Chromium here (Debian: apt-get install chromium)")
def test_in_a_real_browser_every_image_loads_at_its_size_and_a_deleted_one_is_labelled(
    tmp_path: Path, server: FakeServer, served: str
) -> None:
    prompts = write_jsonl(tmp_path, PROMPTS)
    out = tmp_path / "out"
    assert run_batch(server, prompts, out).returncode == 1  # the content-filtered item failed
    names = sorted(path.name for path in out.glob("L*.png"))
    gone = names.pop()  # the whale, 768x512
    (out / gone).unlink()
    (tmp_path / "check.html").write_text(_CHECK_PAGE)
    chromium = _chromium()
    assert chromium is not None
    profile = tmp_path / "profile"
    dumped = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-extensions", "--disable-sync", "--no-first-run",
         "--disable-component-update", f"--user-data-dir={profile}", "--virtual-time-budget=20000",
         "--dump-dom", f"{served}/check.html"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    marker = '<pre id="result">'
    assert marker in dumped.stdout, "the checking page never saw every image settle: " + dumped.stdout[-2000:]
    result = json.loads(dumped.stdout.split(marker, 1)[1].split("</pre>", 1)[0].replace("&quot;", '"'))
    loaded = {src: (width, height) for src, width, height in result["images"] if src != gone}
    assert sorted(loaded) == names
    assert set(loaded.values()) == {(512, 512)}  # decoded by the browser, at the size asked for
    assert result["broken"] == [gone]


# --- the layout, in a real browser at three widths; pages for large batches ------------------------------------

#: Served beside the batch folder: the sheet in a frame WIDTH wide and one screen (700 px) high, so most cards
#: are below the fold; once every image has settled, what the browser laid out and loaded is written out.
_LAYOUT_PAGE = """<!DOCTYPE html><html><body style="margin:0"><iframe id="sheet" src="out/index.html"
 style="width:WIDTHpx;height:700px;border:0"></iframe><script>
function report() {
  const sheet = document.getElementById('sheet').contentDocument;
  const ready = sheet && sheet.URL.endsWith('/index.html') && sheet.readyState === 'complete';
  const images = ready ? [...sheet.images] : [];
  if (!ready || !images.every(i => i.complete)) { setTimeout(report, 50); return; }
  const root = sheet.documentElement;
  const cards = [...sheet.querySelectorAll('figure')].map(f => f.getBoundingClientRect());
  const result = {
    width: root.clientWidth, scrollWidth: root.scrollWidth, margin: parseFloat(getComputedStyle(sheet.body).marginLeft),
    cards: cards.map(r => [r.left, r.right, r.top]),
    images: images.map(i => [i.naturalWidth, i.getBoundingClientRect().top, i.getBoundingClientRect().width]),
  };
  const out = document.createElement('pre');
  out.id = 'result';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
}
report();
</script></body></html>
"""


def _browser_result(page_url: str, profile: Path) -> dict[str, object]:
    chromium = _chromium()
    assert chromium is not None
    dumped = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-extensions", "--disable-sync", "--no-first-run",
         "--disable-component-update", f"--user-data-dir={profile}", "--virtual-time-budget=20000",
         "--window-size=2700,900", "--dump-dom", page_url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    marker = '<pre id="result">'
    assert marker in dumped.stdout, "the layout page never saw every image settle: " + dumped.stdout[-2000:]
    result: dict[str, object] = json.loads(
        dumped.stdout.split(marker, 1)[1].split("</pre>", 1)[0].replace("&quot;", '"')
    )
    return result


@pytest.mark.skipif(_chromium() is None, reason="no Chromium here (Debian: apt-get install chromium)")
@pytest.mark.parametrize(("width", "columns"), [(420, 1), (1400, 5), (2560, 10)])
def test_the_cards_fill_the_width_and_every_image_loads_without_scrolling(
    tmp_path: Path, server: FakeServer, served: str, width: int, columns: int
) -> None:
    prompts = write_jsonl(tmp_path, [{"prompt": f"a cat, picture {i}"} for i in range(24)])
    assert run_batch(server, prompts, tmp_path / "out").returncode == 0
    (tmp_path / "check.html").write_text(_LAYOUT_PAGE.replace("WIDTH", str(width)))
    result = _browser_result(f"{served}/check.html", tmp_path / "profile")
    inner, margin = float(result["width"]), float(result["margin"])  # type: ignore[arg-type]
    cards: list[list[float]] = result["cards"]  # type: ignore[assignment]
    images: list[list[float]] = result["images"]  # type: ignore[assignment]
    assert len(cards) == 24
    assert result["scrollWidth"] == result["width"]  # nothing sticks out sideways
    # the grid spans the page between its margins, in as many columns as fit
    assert min(left for left, _, _ in cards) == pytest.approx(margin, abs=1)
    assert max(right for _, right, _ in cards) == pytest.approx(inner - margin, abs=1)
    assert len({round(top) for _, _, top in cards[:columns]}) == 1  # the first row holds `columns` cards
    assert len({round(left) for left, _, _ in cards}) == columns
    # every image was loaded and decoded, those below the fold (a screenshot or a printout) too
    assert all(natural == 512 for natural, _, _ in images)
    assert any(top > 700 for _, top, _ in images)
    assert min(shown for _, _, shown in images) > 100  # scaled to its card, not a sliver


def test_a_large_batch_gets_pages_and_a_smaller_one_later_removes_the_extra_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zhipu_images.cli import _contact_sheet

    monkeypatch.setattr(_contact_sheet, "PAGE_SIZE", 10)

    def write(items: int) -> None:
        records = (
            json.dumps({"key": f"k{line}", "line": line, "status": "done", "prompt": f"p{line}", "files": []})
            for line in range(1, items + 1)
        )
        (tmp_path / MANIFEST).write_text("".join(record + "\n" for record in records))
        write_contact_sheet(tmp_path, "batch")

    write(25)
    pages = sorted(path.name for path in tmp_path.glob("index*.html"))
    assert pages == ["index-2.html", "index-3.html", "index.html"]
    lines = [
        [str(f["id"]) for f in figures_of(tmp_path / name).figures]
        for name in ("index.html", "index-2.html", "index-3.html")
    ]
    assert lines == [[f"line-{n}" for n in range(start, min(start + 10, 26))] for start in (1, 11, 21)]
    second = (tmp_path / "index-2.html").read_text(encoding="utf-8")
    assert '<a href="index.html">1</a> <strong>2</strong> <a href="index-3.html">3</a>' in second
    assert "25 items" in second  # each page sums up the whole batch
    for name in pages:
        assert_valid_html(tmp_path / name)
    write(12)
    assert sorted(path.name for path in tmp_path.glob("index*.html")) == ["index-2.html", "index.html"]
