"""Vendor a new spec from the documentation page the platform publishes it in, regenerate, report the drift.

    python openapi/update_spec.py PAGE [--spec zhipu|openai]     # make update-spec PAGE=... [SPEC=openai]

The platform publishes its OpenAPI document inside a documentation page, as a
fenced ``yaml`` block (seed 001's form). The block is written to openapi/ as
published, byte for byte; then ``regen.py`` regenerates generated/ and prints
what changed and what the rules table does not cover. The older page's form
(seed 000: the docs site's rendering of one operation, ``paths: {path, method,
request}``) is not an OpenAPI document and is refused, saying what is expected.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TARGETS = {"zhipu": "zhipu.yaml", "openai": "openai-compatible.yaml"}
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", type=Path, help="the documentation page (Markdown) that holds the spec")
    parser.add_argument("--spec", choices=sorted(TARGETS), default="zhipu", help="which vendored document it replaces")
    args = parser.parse_args()
    try:
        document = extract_document(args.page.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {args.page}: {error}", file=sys.stderr)
        return 2
    except SpecPageError as error:
        print(f"error: {args.page}: {error}", file=sys.stderr)
        return 2
    target = HERE / TARGETS[args.spec]
    target.write_text(document, encoding="utf-8")
    print(f"wrote {target.relative_to(HERE.parent)} from {args.page}")
    return subprocess.run([sys.executable, str(HERE / "regen.py")], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
