"""Regenerate generated/ from the vendored documents: parse, select, fix, validate, generate, format.

    python openapi/regen.py           # rewrite generated/, then report what changed (openapi/drift.py)
    python openapi/regen.py --check   # exit 1 if generated/ is not what regen would write

Each generated package also receives ``openapi.json``: the fixed document it was
generated from, which the fake server and the contract tests load at run time.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from openapi_spec_validator import validate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from drift import report  # noqa: E402
from fixes import apply_fixes  # noqa: E402
from selection import load_document, prune_components, select_operations  # noqa: E402

#: vendored document -> generated package name
TARGETS = {
    "bigmodel-openapi.json": "zhipu_images_api",
    "openai-compatible.yaml": "openai_images_api",
}


def fixed_document(name: str, folder: Path = HERE) -> dict[str, object]:
    """The vendored document (from ``folder``): its selected operations, with its named fixes applied, validated."""
    doc = load_document((folder / name).read_text(encoding="utf-8"), name)
    selected = select_operations(name, doc)
    applied = apply_fixes(name, doc)
    prune_components(doc)
    validate(doc)
    print(f"{name}: selected {', '.join(selected)}; applied {', '.join(applied)}; valid OpenAPI {doc['openapi']}")
    return doc


def generate(name: str, package: str, out_root: Path, folder: Path = HERE) -> None:
    """Generate ``package`` into ``out_root`` from the document ``name`` in ``folder`` (tests pass an edited copy)."""
    doc = fixed_document(name, folder)
    spec_text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    out = out_root / package
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / f"{package}.json"
        spec_path.write_text(spec_text, encoding="utf-8")
        cmd = [
            "openapi-python-client", "generate",
            "--path", str(spec_path),
            "--config", str(HERE / "generator" / f"{package}.yaml"),
            "--meta", "none",
            "--output-path", str(out),
            "--overwrite",
            "--fail-on-warning",
        ]  # fmt: skip
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0 or "Error" in result.stdout:
            sys.exit(f"openapi-python-client failed for {name}:\n{result.stdout}\n{result.stderr}")
    (out / "openapi.json").write_text(spec_text, encoding="utf-8")
    (out / "py.typed").write_text("# PEP 561: this package ships type hints\n", encoding="utf-8")


def _previous_document(package: Path) -> dict[str, object] | None:
    """The fixed document the current generated code was made from (None before the first regen)."""
    shipped = package / "openapi.json"
    return json.loads(shipped.read_text(encoding="utf-8")) if shipped.exists() else None


def trees_differ(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two directory trees (pycache ignored)."""

    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}

    fa, fb = files(a), files(b)
    changed = {f for f in fa & fb if not filecmp.cmp(a / f, b / f, shallow=False)}
    return sorted((fa ^ fb) | changed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    generated = ROOT / "generated"
    if not args.check:
        for name, package in TARGETS.items():
            previous = _previous_document(generated / package)
            generate(name, package, generated)
            print(report(name, previous, json.loads((generated / package / "openapi.json").read_text("utf-8"))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        drift: list[str] = []
        for name, package in TARGETS.items():
            generate(name, package, Path(tmp))
            drift += [f"{package}/{f}" for f in trees_differ(Path(tmp) / package, generated / package)]
    if drift:
        print("generated/ is out of date with openapi/ (spec drift):", *drift, sep="\n  ", file=sys.stderr)
        print("Run `make regen` and commit openapi/ and generated/ together.", file=sys.stderr)
        return 1
    print("generated/ matches openapi/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
