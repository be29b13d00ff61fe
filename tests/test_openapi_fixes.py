"""The vendored documents, the regen fixes, and the fixed documents shipped in generated/."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import re
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
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
sys.path.insert(0, str(ROOT / "openapi"))
import selection  # type: ignore[import-not-found]  # noqa: E402

VENDORED = sorted(fixes.FIXES)
UPSTREAM = ROOT.parent / "shared" / "reference" / "upstream"


def vendored(name: str) -> dict[str, Any]:
    """The vendored document as ``make regen`` reads it: its selected operations, before the fixes."""
    doc = selection.load_document((ROOT / "openapi" / name).read_text(encoding="utf-8"), name)
    assert isinstance(doc, dict)
    selection.select_operations(name, doc)
    return doc


def fixed(name: str) -> dict[str, Any]:
    doc = vendored(name)
    fixes.apply_fixes(name, doc)
    selection.prune_components(doc)
    return doc


def fenced_yaml(seed: Path, fence: str) -> str:
    text = seed.read_text(encoding="utf-8")
    start = text.index("\n", text.index(fence + "yaml")) + 1
    return text[start : text.index("\n" + fence, start)] + "\n"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source pages (shared/seeds) are not beside this checkout")
def test_vendored_openai_document_is_the_published_yaml_unchanged() -> None:
    published = fenced_yaml(SEEDS / "004_dcaf07a2a67cbda7.txt", "```")
    assert (ROOT / "openapi" / "openai-compatible.yaml").read_text(encoding="utf-8") == published


#: sha256 of the platform's whole document of 2026-07-11 (shared/reference/upstream/README.md)
WHOLE_DOCUMENT_SHA256 = "c3754a1265e6f88dbba1404520d50773f7f7bd586fb2d676dde62d1c1bfe377e"


def test_vendored_zhipu_document_is_the_platforms_whole_document_byte_for_byte() -> None:
    raw = (ROOT / "openapi" / "bigmodel-openapi.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == WHOLE_DOCUMENT_SHA256
    if (UPSTREAM / "bigmodel-openapi-2026-07-11.json").is_file():
        assert raw == (UPSTREAM / "bigmodel-openapi-2026-07-11.json").read_bytes()


def test_the_selection_keeps_the_image_operations_and_only_the_schemas_they_reach() -> None:
    doc = fixed("bigmodel-openapi.json")
    assert {(m, p) for p, item in doc["paths"].items() for m in item} == set(
        selection.SELECTIONS["bigmodel-openapi.json"]
    )
    assert set(doc["components"]["schemas"]) == {
        "CreateImageRequest",
        "ImageGenerationResponse",
        "AsyncCreateImageRequest",
        "AsyncResponse",
        "AsyncImageGenerationResponse",
        "Error",
    }
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert [tag["name"] for tag in doc["tags"]] == ["模型 API"]


def test_a_selected_operation_gone_upstream_fails_loudly() -> None:
    doc = selection.load_document((ROOT / "openapi" / "bigmodel-openapi.json").read_text("utf-8"), "x.json")
    del doc["paths"]["/paas/v4/async-result/{id}"]
    with pytest.raises(selection.SelectionNoLongerApplies, match=r"GET /paas/v4/async-result/\{id\}"):
        selection.select_operations("bigmodel-openapi.json", doc)


@pytest.mark.parametrize("name", VENDORED)
def test_vendored_document_is_not_valid_without_fixes_or_has_unreadable_names(name: str) -> None:
    """Every fix is needed: the raw document still has the problem each one repairs."""
    doc = vendored(name)
    for fix in fixes.FIXES[name]:
        fix(copy.deepcopy(doc))  # raises FixNoLongerApplies if the problem is gone


@pytest.mark.parametrize("name", VENDORED)
def test_fixed_document_is_valid_openapi(name: str) -> None:
    doc = fixed(name)
    validate(doc)
    operations = [op for item in doc["paths"].values() for op in item.values()]
    ids = {"create_image", "createImage", "create_image_task", "get_async_result"}
    assert {op["operationId"] for op in operations} <= ids
    assert all(op["tags"] == ["images"] for op in operations)


@pytest.mark.parametrize(
    ("package", "operations"),
    [
        ("zhipu_images_api", ["create_image", "create_image_task", "get_async_result"]),
        ("openai_images_api", ["create_image"]),
    ],
)
def test_generated_operation_modules_have_readable_ascii_paths(package: str, operations: list[str]) -> None:
    modules = [
        p.relative_to(ROOT / "generated" / package) for p in (ROOT / "generated" / package / "api").rglob("*.py")
    ]
    expected = ["api/__init__.py", "api/images/__init__.py", *(f"api/images/{name}.py" for name in operations)]
    assert sorted(map(str, modules)) == sorted(expected)


@pytest.mark.parametrize("name", VENDORED)
def test_each_fix_fails_loudly_once_upstream_fixed_it(name: str) -> None:
    doc = vendored(name)
    fixes.apply_fixes(name, doc)
    for fix in fixes.FIXES[name]:
        with pytest.raises(fixes.FixNoLongerApplies, match=fix.__name__):
            fix(doc)


@pytest.mark.parametrize(
    ("name", "package"),
    [("bigmodel-openapi.json", "zhipu_images_api"), ("openai-compatible.yaml", "openai_images_api")],
)
def test_generated_package_ships_the_fixed_document(name: str, package: str) -> None:
    doc = fixed(name)
    shipped = json.loads(resources.files(package).joinpath("openapi.json").read_text(encoding="utf-8"))
    assert shipped == doc
    assert resources.files(package).joinpath("py.typed").is_file()


def test_generated_code_never_imports_the_wrapper() -> None:
    for path in (ROOT / "generated").rglob("*.py"):
        assert not re.search(r"\bzhipu_images\b(?!_api)", path.read_text(encoding="utf-8")), path
