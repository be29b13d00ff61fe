"""The library stands on httpx's and httpcore's public API: no private name of theirs is used, and all
that knows of httpcore lives in ``_transports/`` (as httpx keeps it in ``httpx/_transports/``)."""

from __future__ import annotations

import re
from pathlib import Path

LIBRARY = Path(__file__).parent.parent / "wrapper" / "zhipu_images"
TRANSPORTS = LIBRARY / "_transports"

#: a private module or attribute of httpx or httpcore: httpx._utils, httpcore._backends, ._pool, ._network_backend
_PRIVATE = re.compile(r"\b(httpx|httpcore)\._\w+|\._pool\b|_network_backend|from (httpx|httpcore)\._")


def sources() -> list[Path]:
    return sorted(LIBRARY.rglob("*.py"))


def test_no_private_name_of_httpx_or_httpcore_is_used() -> None:
    found = [
        f"{path.relative_to(LIBRARY)}:{number}: {line.strip()}"
        for path in sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _PRIVATE.search(line)
    ]
    assert found == []


def test_only_the_transports_import_httpcore() -> None:
    importers = {
        str(path.relative_to(LIBRARY))
        for path in sources()
        if re.search(r"^\s*(import httpcore|from httpcore)", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert importers
    assert all(name.startswith("_transports/") for name in importers), importers
