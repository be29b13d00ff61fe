"""Which extra brings what: a part of the library whose packages are missing says what to install."""

from __future__ import annotations

import importlib.util

#: extra -> the packages it brings that the library imports
EXTRAS = {
    "cli": ("click", "tqdm", "charset_normalizer", "jsonschema"),
    "testing": ("respx", "jsonschema"),
    "redis": ("redis",),
}


def missing(*modules: str) -> list[str]:
    """Those of ``modules`` that cannot be imported."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def require(what: str, extra: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise ``ModuleNotFoundError`` naming the extra to install if a package ``what`` needs is missing."""
    absent = missing(*(modules if modules is not None else EXTRAS[extra]))
    if absent:
        raise ModuleNotFoundError(install_hint(what, extra, absent), name=absent[0])


def install_hint(what: str, extra: str, absent: list[str]) -> str:
    verb = "is" if len(absent) == 1 else "are"
    return f"{what} needs {', '.join(absent)}, which {verb} not installed: pip install 'zhipu-images[{extra}]'"
