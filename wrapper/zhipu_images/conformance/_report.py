"""Reports of a conformance run: a table for people, JSON (a *platform profile* when run against the
real platform), JUnit XML for CI, and a comparison of two runs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._responses import DOCUMENTED_CODES
from ._runner import Outcome


def as_json(outcomes: Sequence[Outcome]) -> str:
    """A JSON list of objects with exactly ``probe``, ``expected``, ``observed`` and ``ok``."""
    return json.dumps([outcome.as_dict() for outcome in outcomes], ensure_ascii=False, indent=2)


def write_junit(outcomes: Sequence[Outcome], path: Path) -> None:
    """One test case per probe, a failure for each that did not hold."""
    failures = sum(not outcome.ok for outcome in outcomes)
    suite = ET.Element(
        "testsuite", name="zhipu-images conformance", tests=str(len(outcomes)), failures=str(failures), errors="0"
    )
    for outcome in outcomes:
        case = ET.SubElement(suite, "testcase", classname="conformance", name=outcome.probe)
        if not outcome.ok:
            failure = ET.SubElement(
                case, "failure", message=f"expected {outcome.expected}; observed {outcome.observed}"
            )
            failure.text = outcome.observed
        ET.SubElement(case, "system-out").text = f"expected: {outcome.expected}\nobserved: {outcome.observed}"
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def as_table(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for outcome in outcomes:
        mark = "ok  " if outcome.ok else "FAIL"
        lines.append(
            f"{mark} {outcome.probe}: {outcome.observed}" + ("" if outcome.ok else f" (expected {outcome.expected})")
        )
    billed = [outcome.probe for outcome in outcomes if outcome.billed]
    not_run = sum(outcome.observed.startswith("not run") for outcome in outcomes)
    held = sum(outcome.ok and not outcome.observed.startswith("not run") for outcome in outcomes)
    lines.append(f"{held} held, {len(outcomes) - held - not_run} failed, {not_run} not run (of {len(outcomes)} probes)")
    if billed:
        lines.append(f"may have been billed ({len(billed)}): {', '.join(billed)}")
    unenforced = [outcome.rule for outcome in outcomes if not outcome.ok and outcome.rule]
    if unenforced:
        lines.append("prose rules this endpoint does not enforce: " + "; ".join(dict.fromkeys(unenforced)))
    strange = [
        outcome.code for outcome in outcomes if outcome.code is not None and outcome.code not in DOCUMENTED_CODES
    ]
    if strange:
        lines.append("business codes the platform does not document: " + ", ".join(dict.fromkeys(strange)))
    return "\n".join(lines)


def differences(profile: Sequence[dict[str, Any]], outcomes: Sequence[Outcome]) -> list[str]:
    """Where ``outcomes`` (e.g. the fake's) disagree with a saved ``profile`` (e.g. the platform's), by probe."""
    observed = {outcome.probe: outcome for outcome in outcomes}
    found = []
    for entry in profile:
        mine = observed.get(str(entry.get("probe")))
        if mine is None:
            found.append(f"{entry.get('probe')}: in the profile, not run here")
        elif bool(entry.get("ok")) != mine.ok:
            found.append(f"{mine.probe}: the profile observed {entry.get('observed')!r}, here {mine.observed!r}")
    return found
