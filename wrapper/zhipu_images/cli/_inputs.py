"""Batch input files: one prompt per line, or JSON Lines with per-item parameters; all checked before any call."""

from __future__ import annotations

import collections
import hashlib
import json
import warnings
from collections.abc import Callable, Iterator
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


def json_lines_by_suffix(path: Path) -> bool:
    """The default ``--format``: JSON Lines for ``.jsonl``/``.ndjson``, text (a prompt per line) otherwise."""
    return path.suffix.lower() in (".jsonl", ".ndjson")


def _key(request: ImageRequest, seen: collections.Counter[str]) -> str:
    """Stable across runs and edits elsewhere in the file: the request's content, plus which repeat it is."""
    fields = [request.model, request.prompt, request.size, request.quality, request.n, request.style]
    fields += [request.response_format, request.user_id, request.watermark_enabled]
    digest = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:16]
    seen[digest] += 1
    return f"{digest}-{seen[digest]}"


@frozen
class ItemSource:
    """The items of an input file, read as a stream: ``check`` validates every line (nothing is kept),
    iterating yields the items again. Memory does not grow with the file's length, only its distinct requests."""

    path: Path
    defaults: dict[str, Any]
    json_lines: bool

    def check(self, problem_of: Callable[[BatchItem], str | None] | None = None) -> int:
        """The number of items, or ``InvalidInput`` listing every bad line by number
        (``problem_of`` adds the caller's own check of each valid item, e.g. that an endpoint serves its model)."""
        count, problems = 0, []
        for outcome in self._outcomes():
            if not isinstance(outcome, BatchItem):
                problems.append(outcome)
            elif problem_of is not None and (problem := problem_of(outcome)) is not None:
                problems.append((outcome.line, problem))
            else:
                count += 1
        if problems:
            raise InvalidInput(problems)
        return count

    def __iter__(self) -> Iterator[BatchItem]:
        for outcome in self._outcomes():
            if isinstance(outcome, BatchItem):
                yield outcome

    def _outcomes(self) -> Iterator[BatchItem | tuple[int, str]]:
        seen: collections.Counter[str] = collections.Counter()
        with self.path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
                except UnicodeDecodeError as error:
                    yield number, f"not UTF-8 text (byte {error.start + 1} of the line)"
                    continue
                if not line or (not self.json_lines and line.startswith("#")):
                    continue
                outcome = self._item(number, line)
                if isinstance(outcome, str):
                    yield number, outcome
                else:
                    request, params = outcome
                    yield BatchItem(line=number, key=_key(request, seen), request=request, params=params)

    def _item(self, number: int, line: str) -> tuple[ImageRequest, dict[str, Any]] | str:
        params = dict(self.defaults)
        if self.json_lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                return f"not valid JSON ({error.msg})"
            except ValueError:  # a number of more digits than Python converts
                return "not usable JSON (a number with thousands of digits)"
            except RecursionError:
                return "not usable JSON (nested too deeply)"
            if not isinstance(record, dict) or "prompt" not in record:
                return f'expected an object with a "prompt", e.g. {EXAMPLE_LINE}'
            unknown = sorted(set(record) - {"prompt", *ITEM_PARAMETERS})
            if unknown:
                return f"unknown field(s) {', '.join(unknown)}; allowed: prompt, {', '.join(ITEM_PARAMETERS)}"
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
            return str(invalid)
        return request, {"model": model, **params}
