"""Batch input files: one prompt per line, or JSON Lines with per-item parameters; all checked before any call."""

from __future__ import annotations

import collections
import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

from attrs import frozen

from .._exceptions import RequestValidationError
from .._validation import ImageRequest, validate_request

#: per-item keys a JSON Lines object may carry, besides ``prompt``
EXAMPLE_LINE = '{"prompt": "a cat", "size": "1024x1024"}'
ITEM_PARAMETERS = ("model", "size", "quality", "n", "style", "response_format", "user_id", "watermark_enabled")


@frozen
class BatchItem:
    """One line of the input, validated. ``key`` identifies it across runs (for resuming)."""

    line: int
    key: str
    request: ImageRequest
    params: dict[str, Any]


class InvalidInput(Exception):
    """Some lines cannot be used; ``problems`` are ``(line number, message)`` pairs."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        super().__init__(f"{len(problems)} invalid line(s)")


def _is_json_lines(path: Path, lines: list[str]) -> bool:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return True
    first = next((line.strip() for line in lines if line.strip()), "")
    return first.startswith("{")


def _key(request: ImageRequest, seen: collections.Counter[str]) -> str:
    """Stable across runs and edits elsewhere in the file: the request's content, plus which repeat it is."""
    fields = [request.model, request.prompt, request.size, request.quality, request.n, request.style]
    fields += [request.response_format, request.user_id, request.watermark_enabled]
    digest = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:16]
    seen[digest] += 1
    return f"{digest}-{seen[digest]}"


def read_items(path: Path, defaults: dict[str, Any]) -> list[BatchItem]:
    """Every usable line as a validated item, or ``InvalidInput`` listing every bad line by number."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput([(0, f"the file is not UTF-8 text ({error.reason})")]) from error
    lines = text.splitlines()
    json_lines = _is_json_lines(path, lines)
    items, problems = [], []
    seen: collections.Counter[str] = collections.Counter()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or (not json_lines and line.startswith("#")):
            continue
        params = dict(defaults)
        if json_lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append((number, f"not valid JSON ({error.msg})"))
                continue
            except ValueError:  # a number of more digits than Python converts
                problems.append((number, "not usable JSON (a number with thousands of digits)"))
                continue
            except RecursionError:
                problems.append((number, "not usable JSON (nested too deeply)"))
                continue
            if not isinstance(record, dict) or "prompt" not in record:
                problems.append((number, f'expected an object with a "prompt", e.g. {EXAMPLE_LINE}'))
                continue
            unknown = sorted(set(record) - {"prompt", *ITEM_PARAMETERS})
            if unknown:
                problems.append(
                    (number, f"unknown field(s) {', '.join(unknown)}; allowed: prompt, {', '.join(ITEM_PARAMETERS)}")
                )
                continue
            prompt = record.pop("prompt")
            params.update({k: v for k, v in record.items() if v is not None})
        else:
            prompt = line
        model = params.pop("model")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                request = validate_request(model, prompt, **params)
        except RequestValidationError as invalid:
            problems.append((number, str(invalid)))
            continue
        items.append(
            BatchItem(line=number, key=_key(request, seen), request=request, params={"model": model, **params})
        )
    if problems:
        raise InvalidInput(problems)
    return items
