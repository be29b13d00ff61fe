"""Batch input files: one prompt per line, or JSON Lines with per-item parameters; all checked before any call."""

from __future__ import annotations

import array
import hashlib
import json
import warnings
from collections.abc import Callable, Container, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from attrs import frozen

from .._exceptions import ImagesError, RequestValidationError
from .._validation import ImageRequest, validate_request, with_prompt

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


class InputChanged(ImagesError):
    """The input file changed after it was checked: a line now says something else (or nothing valid). The run
    stops before sending that line: what it would send was never checked, and its manifest key would be the
    old line's, so the next run would pay for it again."""

    scope = "input"

    def __init__(self, path: Path, line: int):
        self.line = line
        super().__init__(
            f"{path} changed during the run (line {line} is not what was checked): nothing more was sent; "
            "run the same command again once the file is final"
        )


#: Legacy encodings of Chinese text (what Windows tools save), as charset-normalizer names them.
LEGACY_CHINESE = frozenset({"gb18030", "gbk", "gb2312", "cp936", "big5", "big5hkscs", "cp950", "hz"})
#: How much of the file the encoding is guessed from.
_SAMPLE = 64 * 1024


def legacy_encoding(path: Path) -> str | None:
    """The legacy Chinese encoding ``path`` is most likely in, or None (ASCII, or most likely UTF-8).

    GBK text often decodes as UTF-8 too (一只猫 becomes һֻè), so decoding cleanly proves nothing: the
    guess is charset-normalizer's, on the first 64 KiB."""
    with path.open("rb") as file:
        sample = file.read(_SAMPLE)
    if sample.isascii():
        return None
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    return best.encoding if best is not None and best.encoding in LEGACY_CHINESE else None


def json_lines_by_suffix(path: Path) -> bool:
    """The default ``--format``: JSON Lines for ``.jsonl``/``.ndjson``, text (a prompt per line) otherwise."""
    return path.suffix.lower() in (".jsonl", ".ndjson")


#: ``json.dumps(fields, ensure_ascii=False)`` makes a new encoder each call: this one, with the same settings,
#: gives the same bytes in 60% of the time (it runs for every input line, at every resume)
_FIELDS_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _digest(request: ImageRequest) -> int:
    """The request's content as 64 bits (the first 16 hex digits of its SHA-256, as keys have always been)."""
    fields = [request.model, request.prompt, request.size, request.quality, request.n, request.style]
    fields += [request.response_format, request.user_id, request.watermark_enabled]
    return int.from_bytes(hashlib.sha256(_FIELDS_ENCODER.encode(fields).encode()).digest()[:8], "big")


def key_of(digest: int, repeat: int) -> str:
    """An item's key: stable across runs and edits elsewhere in the file (its content, and which repeat it is)."""
    return f"{digest:016x}-{repeat}"


class _Seen:
    """Which 64-bit digests were seen, in 512 KiB whatever their number: a Bloom filter.

    ``add`` says True for every digest seen before and, rarely (~3 in 10,000 at
    100,000 items), for one that was not: the caller counts those candidates
    exactly afterwards. A dict of every digest would grow ~100 bytes per item.
    """

    BITS = 1 << 22

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS // 8)

    def add(self, digest: int) -> bool:
        mask = self.BITS - 1
        present = True
        for position in (digest & mask, (digest >> 21) & mask, (digest >> 42) & mask):
            byte, bit = position >> 3, 1 << (position & 7)
            if not self._bits[byte] & bit:
                present = False
                self._bits[byte] |= bit
        return present


#: Parameter sets whose checked request is kept, so that a line with one of them checks only its prompt: a text
#: file has one set, JSON Lines usually a few (one per distinct user_id, say: hence a bound).
KEPT_PARAMETER_SETS = 64

#: Distinct validation warnings kept for stderr (one per model and size, say); the rest are dropped.
SHOWN_WARNINGS = 20


class ItemSource:
    """The items of an input file, read as a stream.

    ``check`` validates every line and keeps, per item, only its line number and
    key (16 bytes in two arrays); ``items`` reads the file again and yields the
    items to send, validating again only those not already done. Memory grows
    by those 16 bytes per line, not by the items.
    """

    def __init__(self, path: Path, defaults: dict[str, Any], json_lines: bool) -> None:
        self.path = path
        self.defaults = defaults
        self.json_lines = json_lines
        #: warnings worth a person's attention (a model checked by the schema only), once each
        self.warnings: list[str] = []
        self._lines = array.array("I")
        self._digests = array.array("Q")
        self._repeats = array.array("I")
        #: (model and parameters, typed) -> a request they passed with, for ``with_prompt``
        self._checked: dict[tuple[Any, ...], ImageRequest] = {}

    def check(self, problem_of: Callable[[ImageRequest], str | None] | None = None) -> int:
        """The number of items, or ``InvalidInput`` listing every bad line by number
        (``problem_of`` adds the caller's own check of each valid request, e.g. that an endpoint serves its model)."""
        problems: list[tuple[int, str]] = []
        # Validation warnings (a size outside the recommended range, a model known from the spec only) are
        # noted once each, for one line on stderr rather than one per item. Once for the whole pass:
        # entering catch_warnings per line cost more than validating it.
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = self._note  # restored by catch_warnings
            maybe_repeated = self._check_lines(problems, problem_of)
        if problems:
            raise InvalidInput(sorted(problems))
        self._number_repeats(maybe_repeated)
        return len(self._lines)

    def _note(self, message: Warning | str, *args: object, **kwargs: object) -> None:
        if str(message) not in self.warnings and len(self.warnings) < SHOWN_WARNINGS:
            self.warnings.append(str(message))

    def _check_lines(
        self, problems: list[tuple[int, str]], problem_of: Callable[[ImageRequest], str | None] | None
    ) -> set[int]:
        """Validate every line, keeping each item's line and digest; the digests that may occur more than once."""
        seen = _Seen()
        maybe_repeated: set[int] = set()
        for number, line in self._lines_of_file(problems):
            outcome = self._item(number, line)
            if isinstance(outcome, str):
                problems.append((number, outcome))
                continue
            request, _ = outcome
            if problem_of is not None and (problem := problem_of(request)) is not None:
                problems.append((number, problem))
            digest = _digest(request)
            if seen.add(digest):
                maybe_repeated.add(digest)
            self._lines.append(number)
            self._digests.append(digest)
        return maybe_repeated

    def _number_repeats(self, maybe_repeated: set[int]) -> None:
        """Which repeat of its request each item is (1 for most): counted exactly for the few candidates."""
        counts: dict[int, int] = {}
        for digest in self._digests:
            if digest in maybe_repeated:
                counts[digest] = counts.get(digest, 0) + 1
                self._repeats.append(counts[digest])
            else:
                self._repeats.append(1)

    def items(self, done: Container[str] = ()) -> Iterator[BatchItem | str]:
        """After ``check``: each item in input order, or just its key where ``done`` holds it (not validated again)."""
        position = 0
        for number, line in self._lines_of_file([]):
            if position < len(self._lines) and number > self._lines[position]:
                raise InputChanged(self.path, self._lines[position])  # a checked line is gone or unreadable
            if position >= len(self._lines) or self._lines[position] != number:
                continue  # a line without an item (blank, a comment)
            key = key_of(self._digests[position], self._repeats[position])
            position += 1
            if key in done:
                yield key
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcome = self._item(number, line)
            if isinstance(outcome, str) or _digest(outcome[0]) != self._digests[position - 1]:
                raise InputChanged(self.path, number)
            request, params = outcome
            yield BatchItem(line=number, key=key, request=request, params=params)

    def _lines_of_file(self, problems: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        """(line number, text) of each line that holds an item; undecodable lines go to ``problems``."""
        with self.path.open("rb") as file:
            for number, raw in enumerate(_bounded_lines(file), start=1):
                if raw is None:
                    problems.append((number, f"longer than {MAX_LINE // 1024} KiB: no model takes a prompt so long"))
                    continue
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
                except UnicodeDecodeError as error:
                    problems.append((number, f"not UTF-8 text (byte {error.start + 1} of the line)"))
                    continue
                if line and (self.json_lines or not line.startswith("#")):
                    yield number, line

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
        parameter_set = _typed(model, params)
        checked = self._checked.get(parameter_set) if parameter_set is not None else None
        try:
            if checked is not None:
                request = with_prompt(checked, prompt)
            else:
                request = validate_request(model, prompt, **params)  # its warnings are off: see check
                if parameter_set is not None and len(self._checked) < KEPT_PARAMETER_SETS:
                    self._checked[parameter_set] = request
        except RequestValidationError as invalid:
            return str(invalid)
        return request, {"model": model, **params}


#: The longest input line read: the longest prompt a model takes (4,000 characters), JSON-escaped, with room.
MAX_LINE = 256 * 1024


def _bounded_lines(file: BinaryIO) -> Iterator[bytes | None]:
    """Each line of ``file``, or None for one longer than ``MAX_LINE``, which is skipped without being held:
    a one-line file of gigabytes costs a read buffer, not its size."""
    while True:
        line = file.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) <= MAX_LINE or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):  # the rest of the long line, a piece at a time
            line = file.readline(MAX_LINE)
        yield None


def _typed(model: object, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The model and parameters with each value's type (True is not 1 to the checks, 1.0 is not 1), as a key;
    None if one cannot be a key (a list or an object from JSON, which the checks refuse anyway)."""
    key = (type(model), model, *((name, type(value), value) for name, value in sorted(params.items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key
