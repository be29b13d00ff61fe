"""The vendored documents, the regen fixes, and the fixed documents shipped in generated/."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"


def load_fixes() -> ModuleType:
    spec = importlib.util.spec_from_file_location("openapi_fixes", ROOT / "openapi" / "fixes.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["openapi_fixes"] = module
    spec.loader.exec_module(module)
    return module


fixes = load_fixes()
VENDORED = sorted(fixes.FIXES)


def vendored(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "openapi" / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def fenced_yaml(seed: Path, fence: str) -> str:
    text = seed.read_text(encoding="utf-8")
    start = text.index("\n", text.index(fence + "yaml")) + 1
    return text[start : text.index("\n" + fence, start)] + "\n"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source pages (shared/seeds) are not beside this checkout")
@pytest.mark.parametrize(
    ("name", "seed", "fence"),
    [("zhipu.yaml", "001_78e6a5044f7b3994.txt", "````"), ("openai-compatible.yaml", "004_dcaf07a2a67cbda7.txt", "```")],
)
def test_vendored_document_is_the_published_yaml_unchanged(name: str, seed: str, fence: str) -> None:
    assert (ROOT / "openapi" / name).read_text(encoding="utf-8") == fenced_yaml(SEEDS / seed, fence)


@pytest.mark.parametrize("name", VENDORED)
def test_vendored_document_is_not_valid_without_fixes_or_has_unreadable_names(name: str) -> None:
    """Every fix is needed: the raw document still has the problem each one repairs."""
    doc = vendored(name)
    for fix in fixes.FIXES[name]:
        fix(copy.deepcopy(doc))  # raises FixNoLongerApplies if the problem is gone


@pytest.mark.parametrize("name", VENDORED)
def test_fixed_document_is_valid_openapi(name: str) -> None:
    doc = vendored(name)
    fixes.apply_fixes(name, doc)
    validate(doc)
    operation = next(iter(doc["paths"].values()))["post"]
    assert operation["operationId"] in {"create_image", "createImage"}
    assert operation["tags"] == ["images"]


@pytest.mark.parametrize("package", ["zhipu_images_api", "openai_images_api"])
def test_generated_operation_module_has_a_readable_ascii_path(package: str) -> None:
    modules = [
        p.relative_to(ROOT / "generated" / package) for p in (ROOT / "generated" / package / "api").rglob("*.py")
    ]
    assert sorted(map(str, modules)) == ["api/__init__.py", "api/images/__init__.py", "api/images/create_image.py"]


@pytest.mark.parametrize("name", VENDORED)
def test_each_fix_fails_loudly_once_upstream_fixed_it(name: str) -> None:
    doc = vendored(name)
    fixes.apply_fixes(name, doc)
    for fix in fixes.FIXES[name]:
        with pytest.raises(fixes.FixNoLongerApplies, match=fix.__name__):
            fix(doc)


@pytest.mark.parametrize(
    ("name", "package"), [("zhipu.yaml", "zhipu_images_api"), ("openai-compatible.yaml", "openai_images_api")]
)
def test_generated_package_ships_the_fixed_document(name: str, package: str) -> None:
    doc = vendored(name)
    fixes.apply_fixes(name, doc)
    shipped = json.loads(resources.files(package).joinpath("openapi.json").read_text(encoding="utf-8"))
    assert shipped == doc
    assert resources.files(package).joinpath("py.typed").is_file()


def test_generated_code_never_imports_the_wrapper() -> None:
    for path in (ROOT / "generated").rglob("*.py"):
        assert not re.search(r"\bzhipu_images\b(?!_api)", path.read_text(encoding="utf-8")), path
