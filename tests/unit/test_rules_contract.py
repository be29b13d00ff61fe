"""The rule table and the vendored spec agree on which models and qualities exist."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from zhipu_images import MODELS

FIXTURES = Path(__file__).parents[1] / "fixtures"


def request_property(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """A request-body property of the images operation, from an OpenAPI document or
    from the docs site's rendering of one operation (the form seed 000 has)."""
    if "components" in doc and doc["components"].get("schemas"):
        prop = doc["components"]["schemas"]["CreateImageRequest"]["properties"][name]
    else:
        schema = doc["paths"]["request"]["body"]["application/json"]["schemaArray"][0]
        prop = schema["properties"][name]
    for part in prop.get("allOf", []):
        prop = {**prop, **part}
    return dict(prop)


def rules_spec_mismatches(doc: dict[str, Any]) -> list[str]:
    """Every disagreement between the Zhipu rule table and a spec document, by name."""
    problems = []
    spec_models = set(request_property(doc, "model")["enum"])
    zhipu = {name: rules for name, rules in MODELS.items() if rules.provider == "zhipu"}
    problems += [
        f"model {m!r} has rules but is missing from the spec's model enum" for m in sorted(set(zhipu) - spec_models)
    ]
    problems += [f"model {m!r} is in the spec's model enum but has no rules" for m in sorted(spec_models - set(zhipu))]
    spec_qualities = set(request_property(doc, "quality")["enum"])
    rule_qualities = {q for rules in zhipu.values() for q in rules.qualities}
    problems += [
        f"quality {q!r} has rules but is missing from the spec" for q in sorted(rule_qualities - spec_qualities)
    ]
    problems += [
        f"quality {q!r} is in the spec but no model accepts it" for q in sorted(spec_qualities - rule_qualities)
    ]
    return problems


def shipped_zhipu_spec() -> dict[str, Any]:
    doc = json.loads(resources.files("zhipu_images_api").joinpath("openapi.json").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_rules_and_vendored_spec_agree() -> None:
    assert rules_spec_mismatches(shipped_zhipu_spec()) == []


def test_older_page_is_reported_missing_glm_image_by_name() -> None:
    older = yaml.safe_load((FIXTURES / "seed000-cogview-page.yaml").read_text(encoding="utf-8"))
    assert rules_spec_mismatches(older) == ["model 'glm-image' has rules but is missing from the spec's model enum"]


def test_a_model_added_upstream_without_rules_is_reported() -> None:
    doc = shipped_zhipu_spec()
    doc["components"]["schemas"]["CreateImageRequest"]["properties"]["model"]["enum"].append("cogview-5")
    assert rules_spec_mismatches(doc) == ["model 'cogview-5' is in the spec's model enum but has no rules"]


def test_quality_enums_are_compared_both_ways() -> None:
    doc = shipped_zhipu_spec()
    quality = doc["components"]["schemas"]["CreateImageRequest"]["properties"]["quality"]
    dropped = copy.deepcopy(doc)
    dropped["components"]["schemas"]["CreateImageRequest"]["properties"]["quality"]["enum"] = ["hd"]
    assert rules_spec_mismatches(dropped) == ["quality 'standard' has rules but is missing from the spec"]
    quality["enum"].append("ultra")
    assert rules_spec_mismatches(doc) == ["quality 'ultra' is in the spec but no model accepts it"]


def test_openai_spec_offers_every_dall_e_size_and_quality() -> None:
    doc = json.loads(resources.files("openai_images_api").joinpath("openapi.json").read_text(encoding="utf-8"))
    props = doc["components"]["schemas"]["ImageGenerationRequest"]["properties"]
    openai = [rules for rules in MODELS.values() if rules.provider == "openai"]
    assert {s for rules in openai for s in rules.recommended_sizes} == set(props["size"]["enum"])
    assert {q for rules in openai for q in rules.qualities} == set(props["quality"]["enum"])
    assert {s for rules in openai for s in rules.styles} == set(props["style"]["enum"])
