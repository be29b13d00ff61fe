"""A spec update must not block users: a model the platform adds is usable the day its spec lists it.

The vendored spec is edited in a temporary copy, the generated client is
regenerated from it with the project's own ``openapi/regen.py`` (the real
generator, pinned), and a fresh interpreter runs with that client first on its
path, as a user's checkout would after ``make regen``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.processes import child_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "openapi"))
import drift  # type: ignore[import-not-found]  # noqa: E402
import regen  # type: ignore[import-not-found]  # noqa: E402
import update_spec  # type: ignore[import-not-found]  # noqa: E402

NEW_MODEL = "cogview-5-preview"
WHOLE = "bigmodel-openapi.json"


@pytest.fixture(scope="module")
def spec_with_a_new_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated/ folder whose Zhipu client was regenerated from a spec that adds NEW_MODEL to the enum."""
    root = tmp_path_factory.mktemp("spec-update")
    spec = json.loads((ROOT / "openapi" / WHOLE).read_text(encoding="utf-8"))
    spec["components"]["schemas"]["CreateImageRequest"]["properties"]["model"]["enum"].append(NEW_MODEL)
    (root / WHOLE).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    regen.generate(WHOLE, "zhipu_images_api", root / "generated", folder=root)
    return root / "generated"


def run_with(generated: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = child_env(PYTHONPATH=os.pathsep.join([str(generated), str(ROOT / "wrapper")]))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_model_added_to_the_spec_is_validated_by_the_schema_with_a_warning(spec_with_a_new_model: Path) -> None:
    done = run_with(
        spec_with_a_new_model,
        f"""
        import warnings
        from zhipu_images import RequestValidationError, UnspecifiedModelWarning, validate_request
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            request = validate_request("{NEW_MODEL}", "a cat")
        assert [type(w.message) for w in caught] == [UnspecifiedModelWarning], caught
        assert "{NEW_MODEL}" in str(caught[0].message)
        assert (request.size, request.quality) == (None, None)  # nothing sent that was not given: its defaults
        for wrong in (dict(size="huge"), dict(quality="ultra"), dict(user_id="abc")):
            try:
                validate_request("{NEW_MODEL}", "a cat", **wrong)
            except RequestValidationError as error:
                print("refused", error.field)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["refused size", "refused quality", "refused user_id"]


def test_a_model_added_to_the_spec_generates_against_the_fake(spec_with_a_new_model: Path) -> None:
    done = run_with(
        spec_with_a_new_model,
        f"""
        import warnings
        from zhipu_images.fake import FakePlatform, fake_client
        warnings.simplefilter("ignore")
        platform = FakePlatform()
        with fake_client(platform) as client:
            result = client.generate("a cat", model="{NEW_MODEL}", size="1024x768")
        print(platform.requests[-1].json)
        print(len(result.images))
        """,
    )
    assert done.returncode == 0, done.stderr
    sent, images = done.stdout.strip().splitlines()
    assert f"'model': '{NEW_MODEL}'" in sent
    assert "quality" not in sent  # the platform's default applies
    assert images == "1"


def test_check_accepts_a_model_added_to_the_spec_and_prints_the_warning(spec_with_a_new_model: Path) -> None:
    done = run_with(
        spec_with_a_new_model,
        f"""
        import sys
        sys.argv = ["zhipu-images", "check", "--model", "{NEW_MODEL}"]
        from zhipu_images.cli import main
        main()
        """,
    )
    assert done.returncode == 0, done.stderr
    assert f"warning: model '{NEW_MODEL}' is in the spec but has no documented rules" in done.stderr


def test_a_model_in_neither_table_nor_spec_needs_allow_unknown_model() -> None:
    """(With the committed spec.) Refused by default, naming the way out; sent by name when allowed."""
    done = run_with(
        ROOT / "generated",
        """
        import warnings
        from zhipu_images import RequestValidationError, UnspecifiedModelWarning
        from zhipu_images.fake import FakePlatform, fake_client
        with fake_client() as client:
            try:
                client.generate("a cat", model="cogview-9")
            except RequestValidationError as error:
                print(error.rule, "allow_unknown_model=True" in str(error))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    client.generate("a cat", model="cogview-9", allow_unknown_model=True)
                except Exception as error:
                    print(type(error).__name__, getattr(error, "code", None))
            print([type(w.message).__name__ for w in caught])
        """,
    )
    assert done.returncode == 0, done.stderr
    refused, answered, warned = done.stdout.strip().splitlines()
    assert refused == "unknown_model True"
    assert answered == "ModelNotFoundError 1211"  # sent by name; the fake (like the platform) does not know it
    assert warned == "['UnspecifiedModelWarning']"


SEEDS = ROOT.parent / "shared" / "seeds"


def _seed(prefix: str) -> str:
    pages = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.exists() else []
    if not pages:
        pytest.skip(f"seed {prefix} is not beside the checkout (../shared/seeds)")
    return pages[0].read_text(encoding="utf-8")


def test_update_spec_extracts_the_vendored_openai_document_byte_for_byte() -> None:
    expected = (ROOT / "openapi" / "openai-compatible.yaml").read_text(encoding="utf-8")
    assert update_spec.extract_document(_seed("004")) == expected


def test_update_spec_takes_the_whole_document_as_published() -> None:
    text = (ROOT / "openapi" / WHOLE).read_bytes().decode("utf-8")
    assert update_spec.whole_document(text, WHOLE) == text


def test_update_spec_refuses_a_whole_document_without_the_task_api_and_writes_nothing(tmp_path: Path) -> None:
    spec = json.loads((ROOT / "openapi" / WHOLE).read_text(encoding="utf-8"))
    del spec["paths"]["/paas/v4/async/images/generations"]
    published = tmp_path / "openapi.json"
    published.write_text(json.dumps(spec), encoding="utf-8")
    before = (ROOT / "openapi" / WHOLE).read_bytes()
    done = subprocess.run(
        [sys.executable, str(ROOT / "openapi" / "update_spec.py"), str(published)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "no POST /paas/v4/async/images/generations" in done.stderr
    assert (ROOT / "openapi" / WHOLE).read_bytes() == before


def test_update_spec_refuses_a_zhipu_page_that_holds_only_the_sync_operation() -> None:
    page = _seed("001")
    assert update_spec.extract_document(page)  # a valid page of the older, one-operation form
    done = subprocess.run(
        [sys.executable, str(ROOT / "openapi" / "update_spec.py"), str(sorted(SEEDS.glob("001_*.txt"))[0])],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "whole OpenAPI document" in done.stderr
    assert "drop the task API" in done.stderr


def test_update_spec_refuses_the_older_page_form_saying_what_it_expects() -> None:
    older = (ROOT / "tests" / "fixtures" / "seed000-cogview-page.yaml").read_text(encoding="utf-8")
    page = f"# 图像生成\n\n## OpenAPI\n\n````yaml openapi/openapi.json post /paas/v4/images/generations\n{older}````\n"
    with pytest.raises(update_spec.SpecPageError, match=r"rendering of one operation.*expected a ```yaml block"):
        update_spec.extract_document(page)


def test_update_spec_refuses_the_real_older_page_too() -> None:
    with pytest.raises(update_spec.SpecPageError, match=re.escape("`openapi: 3.x`")):
        update_spec.extract_document(_seed("000"))


def test_make_update_spec_on_the_older_page_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("````yaml\npaths:\n  path: /paas/v4/images/generations\n  method: post\n````\n")
    before = (ROOT / "openapi" / "openai-compatible.yaml").read_bytes()
    done = subprocess.run(
        [sys.executable, str(ROOT / "openapi" / "update_spec.py"), str(page), "--spec", "openai"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "not an OpenAPI document" in done.stderr
    assert (ROOT / "openapi" / "openai-compatible.yaml").read_bytes() == before


def _edited(edit: Callable[[dict[str, Any]], None]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shipped fixed Zhipu document, and a copy with ``edit`` applied."""
    shipped = json.loads((ROOT / "generated" / "zhipu_images_api" / "openapi.json").read_text(encoding="utf-8"))
    edited = copy.deepcopy(shipped)
    edit(edited["components"]["schemas"]["CreateImageRequest"]["properties"])
    return shipped, edited


def test_an_optional_field_added_is_named_in_the_drift_report_and_usable_through_extra_body() -> None:
    shipped, edited = _edited(lambda props: props.update(seed={"type": "integer", "description": "random seed"}))
    text = drift.report(WHOLE, shipped, edited)
    assert "request field added: seed" in text
    assert "request field 'seed' is not sent by this version: pass extra_body={'seed': ...}" in text
    from zhipu_images.fake import FakePlatform, fake_client

    platform = FakePlatform()
    with fake_client(platform) as client:
        client.generate("a cat", model="cogview-4", extra_body={"seed": 42})
    assert platform.requests[-1].json["seed"] == 42


def test_a_model_removed_is_reported_with_its_orphaned_rules() -> None:
    def remove(props: dict[str, Any]) -> None:
        props["model"]["enum"].remove("cogview-3-flash")

    shipped, edited = _edited(remove)
    text = drift.report(WHOLE, shipped, edited)
    assert "model removed: cogview-3-flash" in text
    assert "model 'cogview-3-flash' has rules but left the spec: its rules are orphaned" in text
    # and the rules/spec contract test fails, naming it
    from tests.unit.test_rules_contract import rules_spec_mismatches

    assert rules_spec_mismatches(edited) == [
        "model 'cogview-3-flash' has rules but is missing from the spec's model enum"
    ]


def test_the_drift_from_the_seed_page_names_the_task_api() -> None:
    """What ``make regen`` printed when the whole document replaced seed 001's: the two task operations."""
    shipped = json.loads((ROOT / "generated" / "zhipu_images_api" / "openapi.json").read_text(encoding="utf-8"))
    seed_page = copy.deepcopy(shipped)
    for path in ("/paas/v4/async/images/generations", "/paas/v4/async-result/{id}"):
        del seed_page["paths"][path]
    for schema in ("AsyncCreateImageRequest", "AsyncResponse", "AsyncImageGenerationResponse"):
        del seed_page["components"]["schemas"][schema]
    text = drift.report(WHOLE, seed_page, shipped)
    assert "operation added: POST /paas/v4/async/images/generations (create_image_task)" in text
    assert "operation added: GET /paas/v4/async-result/{id} (get_async_result)" in text
    assert "request schema added: AsyncCreateImageRequest (models: glm-image)" in text
    assert "operation removed" not in drift.report(WHOLE, shipped, shipped)


def test_an_enum_or_default_changed_is_reported() -> None:
    def change(props: dict[str, Any]) -> None:
        props["quality"]["enum"].append("ultra")
        props["size"]["default"] = "1024x1024"

    shipped, edited = _edited(change)
    text = drift.report(WHOLE, shipped, edited)
    assert "request field quality: enum ['hd', 'standard'] -> ['hd', 'standard', 'ultra']" in text
    assert "request field size: default '1280x1280' -> '1024x1024'" in text
