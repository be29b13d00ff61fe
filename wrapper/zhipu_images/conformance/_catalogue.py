"""The probes: one request each, built from the rules table, the vendored specs and the documented codes.

Probes that the platform must refuse before generating anything come first
and run by default: a missing or made-up key, an unknown model, and each prose
rule broken once per model (a size not a multiple of the model's step, over
its pixel cap, a side out of range, ``hd`` where only ``standard`` is
documented, a ``user_id`` shorter than 6), plus the OpenAI-compatible
endpoint's documented limits. Probes that succeed on purpose (``paid``) make
one generation per model with its defaults; they cost money and run only
when asked (``--allow-paid N``).

The task API is probed too: a model without it, a size glm-image refuses, a
missing key, an unknown task id (free), and, paid, one task followed to its PNG.

Names are stable (``zhipu.size.multiple_of.cogview-4``): reports from different
runs, and platform profiles, compare by name.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from attrs import frozen

from .._rules import MODELS, ModelRules

Auth = Literal["none", "made_up", "key"]
#: What a probe calls: a generation, a task submission, or a query of a task's result (``body["id"]``).
Operation = Literal["generate", "task", "task_result"]
#: A key no platform issued: refused by any endpoint that checks keys.
MADE_UP_KEY = "zhipu-images-conformance.made-up-key-0000"
#: Documented prices per generation (seed 003), in CNY; models without one are "not documented".
PRICES_CNY = {"cogview-4-250304": 0.06, "cogview-4": 0.06}
_PROMPT = "一只可爱的小猫咪"  # the docs' own example prompt
_PARAMETER_CODES = frozenset({"1210", "1213", "1214"})


@frozen
class Probe:
    name: str
    provider: Literal["zhipu", "openai"]
    body: dict[str, Any]
    auth: Auth
    #: HTTP statuses that hold; business codes that hold (None: any, as for OpenAI-style word codes)
    statuses: frozenset[int]
    codes: frozenset[str] | None
    #: the prose rule the probe breaks, if it is one (what a schema-only mock cannot enforce)
    rule: str | None = None
    #: succeeds on purpose: a generation is billed
    paid: bool = False
    #: for paid probes: the image size the answer must have
    size: tuple[int, int] | None = None
    operation: Operation = "generate"

    @property
    def expected(self) -> str:
        if self.paid:
            width, height = self.size or (0, 0)
            return f"HTTP 200, an answer of the spec's shape, a {width}x{height} PNG (billed)"
        codes = "" if self.codes is None else ", code " + " or ".join(sorted(self.codes))
        return "HTTP " + " or ".join(map(str, sorted(self.statuses))) + codes + ", no image generated"


def _request(rules: ModelRules, **fields: Any) -> dict[str, Any]:
    return {"model": rules.name, "prompt": _PROMPT, **fields}


def _refused(name: str, rules: ModelRules, rule: str, **fields: Any) -> Probe:
    return Probe(
        name=f"zhipu.{name}.{rules.name}",
        provider="zhipu",
        body=_request(rules, **fields),
        auth="key",
        statuses=frozenset({400}),
        codes=_PARAMETER_CODES,
        rule=rule,
    )


def _size_probes(rules: ModelRules) -> list[Probe]:
    custom = rules.custom_sizes
    if custom is None:
        return []
    step = custom.multiple_of
    probes = []
    off_step = 1024 // step * step + step // 2  # within every range, not a multiple of the step
    probes.append(_refused("size.multiple_of", rules, f"sides multiples of {step}", size=f"{off_step}x{off_step}"))
    side = math.isqrt(custom.max_pixels) // step * step + step  # the smallest square over the cap
    if custom.max_side is None or side <= custom.max_side:
        cap = f"at most {custom.max_pixels} pixels"
        probes.append(_refused("size.max_pixels", rules, cap, size=f"{side}x{side}"))
    if custom.max_side is not None:
        wide = f"{custom.max_side + step}x{custom.min_side}"
        probes.append(_refused("size.max_side", rules, f"sides at most {custom.max_side}", size=wide))
    if custom.min_side > step:
        narrow = f"{custom.min_side - step}x{custom.min_side}"
        probes.append(_refused("size.min_side", rules, f"sides at least {custom.min_side}", size=narrow))
    return probes


def _zhipu_probes(rules: ModelRules) -> list[Probe]:
    probes = _size_probes(rules)
    if "hd" not in rules.qualities:
        only = ", ".join(rules.qualities)
        probes.append(_refused("quality.hd", rules, f"quality {only} only (hd not documented)", quality="hd"))
    probes.append(_refused("user_id.min_length", rules, "user_id of 6-128 characters", user_id="abc12"))
    return probes


def _openai_probes() -> list[Probe]:
    def refused(name: str, rule: str, **body: Any) -> Probe:
        return Probe(
            name=f"openai.{name}",
            provider="openai",
            body={"prompt": "a cat", **body},
            auth="key",
            statuses=frozenset({400}),
            codes=None,
            rule=rule,
        )

    dall_e_2, dall_e_3 = MODELS["dall-e-2"], MODELS["dall-e-3"]
    return [
        refused("size.not_offered.dall-e-2", "dall-e-2 sizes only", model="dall-e-2", size="1792x1024"),
        refused("n.range.dall-e-3", "n=1 for dall-e-3", model="dall-e-3", n=2),
        refused("n.range.dall-e-2", "n of 1-10", model="dall-e-2", n=11),
        refused(
            "prompt.max_length.dall-e-2",
            f"prompts of at most {dall_e_2.max_prompt_chars} characters",
            model="dall-e-2",
            prompt="a" * ((dall_e_2.max_prompt_chars or 1000) + 1),
        ),
        refused(
            "prompt.max_length.dall-e-3",
            f"prompts of at most {dall_e_3.max_prompt_chars} characters",
            model="dall-e-3",
            prompt="a" * ((dall_e_3.max_prompt_chars or 4000) + 1),
        ),
        Probe(
            name="openai.auth.made_up_key",
            provider="openai",
            body={"prompt": "a cat", "model": "dall-e-2"},
            auth="made_up",
            statuses=frozenset({401}),
            codes=None,
        ),
    ]


def _task_probes() -> list[Probe]:
    """The task API's free refusals. DECISION: no answer to an unknown task id was published; any refusal of
    the request (400 or 404) holds, since the id is its one parameter."""
    glm = MODELS["glm-image"]
    without = next(rules for rules in MODELS.values() if rules.provider == "zhipu" and rules.name != glm.name)
    step = glm.custom_sizes.multiple_of if glm.custom_sizes else 32
    off_step = 1024 // step * step + step // 2
    refused = frozenset({400})
    return [
        Probe(
            "zhipu.task.auth.no_header",
            "zhipu",
            _request(glm),
            "none",
            frozenset({401}),
            frozenset({"1001"}),
            operation="task",
        ),
        Probe(
            f"zhipu.task.model.no_task_api.{without.name}",
            "zhipu",
            _request(without),
            "key",
            refused,
            _PARAMETER_CODES | {"1211", "1212"},
            rule="the task API takes glm-image only",
            operation="task",
        ),
        Probe(
            "zhipu.task.size.multiple_of.glm-image",
            "zhipu",
            _request(glm, size=f"{off_step}x{off_step}"),
            "key",
            refused,
            _PARAMETER_CODES,
            rule=f"sides multiples of {step}",
            operation="task",
        ),
        Probe(
            "zhipu.task.result.unknown_id",
            "zhipu",
            {"id": "zhipu-images-conformance-no-such-task"},
            "key",
            frozenset({400, 404}),
            None,
            operation="task_result",
        ),
    ]


def catalogue(*, openai: bool) -> list[Probe]:
    """Every probe: the refusals first (free), then one paid generation per Zhipu model."""
    glm = MODELS["glm-image"]
    probes = [
        Probe("zhipu.auth.no_header", "zhipu", _request(glm), "none", frozenset({401}), frozenset({"1001"})),
        # "401": what the platform was seen to answer (../shared/reference); 1002: what its code page says
        Probe(
            "zhipu.auth.made_up_key", "zhipu", _request(glm), "made_up", frozenset({401}), frozenset({"401", "1002"})
        ),
        Probe(
            "zhipu.model.unknown",
            "zhipu",
            {"model": "zhipu-images-no-such-model", "prompt": _PROMPT},
            "key",
            frozenset({400, 404}),
            frozenset({"1211"}),
        ),
    ]
    zhipu_models = [rules for rules in MODELS.values() if rules.provider == "zhipu"]
    for rules in zhipu_models:
        probes += _zhipu_probes(rules)
    probes += _task_probes()
    if openai:
        probes += _openai_probes()
    for rules in zhipu_models:
        width, height = map(int, (rules.default_size or "1024x1024").split("x"))
        probes.append(
            Probe(
                name=f"zhipu.generate.defaults.{rules.name}",
                provider="zhipu",
                body=_request(rules),
                auth="key",
                statuses=frozenset({200}),
                codes=None,
                paid=True,
                size=(width, height),
            )
        )
    width, height = map(int, (glm.default_size or "1280x1280").split("x"))
    probes.append(
        Probe(
            name="zhipu.task.defaults.glm-image",
            provider="zhipu",
            body=_request(glm),
            auth="key",
            statuses=frozenset({200}),
            codes=None,
            paid=True,
            size=(width, height),
            operation="task",
        )
    )
    return probes
