"""Vendor a new spec as the platform publishes it, regenerate, report the drift.

    python openapi/update_spec.py FILE [--spec zhipu|openai]     # make update-spec PAGE=FILE [SPEC=openai]

Zhipu publishes its whole OpenAPI document (``https://docs.bigmodel.cn/openapi/openapi.json``, every API of
the platform): FILE is that JSON, written to ``openapi/bigmodel-openapi.json`` byte for byte once the image
operations that ``selection.py`` names are found in it. The OpenAI-compatible spec is published inside a
documentation page, as a fenced ``yaml`` block (seed 004's form); the block is written as published. Then
``regen.py`` regenerates generated/ and prints what changed and what the rules table does not cover.

Refused, saying what is expected, and writing nothing: the older page's form (seed 000: the docs site's
rendering of one operation, ``paths: {path, method, request}``), and, for Zhipu, a page's yaml block (seed
001's form, the sync operation alone: it would drop the task API).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from selection import SelectionNoLongerApplies, load_document, select_operations  # noqa: E402

TARGETS = {"zhipu": "bigmodel-openapi.json", "openai": "openai-compatible.yaml"}
#: A fenced block of three or more backticks whose info string starts with yaml; the same fence closes it.
_FENCE = re.compile(r"^(?P<fence>`{3,})ya?ml\b[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.MULTILINE | re.DOTALL)


class SpecPageError(Exception):
    """The page holds no OpenAPI document; the message says what it holds and what is expected."""


def extract_document(page: str) -> str:
    """The text of the page's OpenAPI document (its first ``yaml`` fence whose document has ``openapi:``)."""
    forms = []
    for match in _FENCE.finditer(page):
        body = match["body"]
        try:
            loaded = yaml.safe_load(body)
        except yaml.YAMLError as error:
            forms.append(f"a yaml block that does not parse ({str(error).splitlines()[0]})")
            continue
        if isinstance(loaded, dict) and str(loaded.get("openapi", "")).startswith("3."):
            return body
        if isinstance(loaded, dict) and isinstance(loaded.get("paths"), dict) and "path" in loaded["paths"]:
            forms.append("the docs site's rendering of one operation (`paths: {path, method, request}`)")
        else:
            forms.append("a yaml block that is not an OpenAPI document")
    found = "; ".join(forms) if forms else "no ```yaml block"
    raise SpecPageError(
        f"the page holds {found}, not an OpenAPI document: expected a ```yaml block whose document starts with "
        "`openapi: 3.x` and has `paths` and `components` (as the image generation page has had since glm-image)"
    )


def whole_document(text: str, target: str) -> str | None:
    """``text`` if it is a whole OpenAPI document in JSON holding the operations ``target`` needs; None if it is
    not JSON (a page, for ``extract_document``); ``SpecPageError`` if it is JSON of another kind."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        doc = load_document(text, target)
    except ValueError as error:
        raise SpecPageError(f"the file is not valid JSON ({error})") from None
    if not str(doc.get("openapi", "")).startswith("3.") or not isinstance(doc.get("paths"), dict):
        raise SpecPageError("the JSON is not an OpenAPI 3.x document (no `openapi: 3.x` and `paths`)")
    try:
        select_operations(target, doc)
    except SelectionNoLongerApplies as error:
        raise SpecPageError(str(error)) from None
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = "the whole document (JSON) or the documentation page (Markdown) that holds the spec"
    parser.add_argument("page", type=Path, help=what)
    parser.add_argument("--spec", choices=sorted(TARGETS), default="zhipu", help="which vendored document it replaces")
    args = parser.parse_args()
    target = HERE / TARGETS[args.spec]
    try:
        text = args.page.read_bytes().decode("utf-8")  # not read_text: its newline translation changes bytes
        document = whole_document(text, target.name)
        if document is None and target.suffix == ".json":
            raise SpecPageError(
                "expected the platform's whole OpenAPI document (JSON, as published at "
                "https://docs.bigmodel.cn/openapi/openapi.json): a page's yaml block holds the sync image operation "
                "alone, and vendoring it would drop the task API"
            )
        if document is None:
            document = extract_document(text)
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {args.page}: {error}", file=sys.stderr)
        return 2
    except SpecPageError as error:
        print(f"error: {args.page}: {error}", file=sys.stderr)
        return 2
    target.write_bytes(document.encode("utf-8"))
    print(f"wrote {target.relative_to(HERE.parent)} from {args.page}")
    return subprocess.run([sys.executable, str(HERE / "regen.py")], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
