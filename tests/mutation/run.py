"""``make mutation``: mutmut over the modules that decide money and validity ([tool.mutmut] in pyproject.toml).

mutmut names modules from the folder it mutates (``src/`` or the root), so the run happens in a copy of the
checkout, ``.mutation/``, with ``wrapper/`` as ``src/``; it is kept between runs, and mutmut re-tests only what
changed in the code. When the tests changed since the last complete run (or none completed), the mutants that
survived and those no test covered are tested again (a new test may kill them; one that was killed stays killed).
The report counts, per module, the mutants killed, timed out, survived and not covered, and sets apart the
survivors that change only the text of a message (a string literal), which no behaviour depends on.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / ".mutation"
MUTMUT = Path(sys.executable).parent / "mutmut"
#: a string literal, to tell a mutant that changes only a message's text
_STRING = re.compile(r"""(?:[rbfu]{0,2})("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def stage() -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for source, target in (("wrapper", "src"), ("generated", "generated"), ("tests", "tests"), ("openapi", "openapi")):
        destination = STAGE / target
        shutil.rmtree(destination, ignore_errors=True)
        shutil.copytree(ROOT / source, destination, ignore=ignore)
    text = (ROOT / "pyproject.toml").read_text()
    (STAGE / "pyproject.toml").write_text(text.replace('"wrapper/', '"src/'))
    (STAGE / "mutants" / "src").mkdir(parents=True, exist_ok=True)


def mutmut(*arguments: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # for the tests' own subprocesses (the CLI, the fake server): the mutated package, then the generated ones
        "PYTHONPATH": f"{STAGE / 'mutants' / 'src'}{os.pathsep}{STAGE / 'generated'}",
        "HYPOTHESIS_PROFILE": "ci",
    }
    return subprocess.run([str(MUTMUT), *arguments], cwd=STAGE, env=env, text=True, capture_output=capture, check=False)


def text_only(name: str) -> bool:
    """Whether mutant ``name`` changes nothing but the inside of string literals."""
    diff = mutmut("show", name, capture=True).stdout.splitlines()
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    if not removed or len(removed) != len(added):
        return False
    return all(_STRING.sub('""', old) == _STRING.sub('""', new) for old, new in zip(removed, added, strict=True))


#: the module of a mutant's name: ``pkg.mod.x_function__mutmut_3``, ``pkg.mod.xǁClassǁmethod__mutmut_3``
_MODULE = re.compile(r"(.+?)\.x[_ǁ]")


def _score(counts: Counter[str]) -> float:
    caught = counts["killed"] + counts["timeout"]
    behaviour = caught + counts["survived"] + counts["no tests"]
    return caught / behaviour if behaviour else 1.0


def tests_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "tests").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def not_killed_listed() -> list[str]:
    """The mutants that survived or that no test covered, as mutmut's last results name them."""
    listed = mutmut("results", "--all", "true", capture=True).stdout
    statuses = (": survived", ": no tests")
    return [line.strip().rpartition(": ")[0] for line in listed.splitlines() if line.strip().endswith(statuses)]


def main() -> int:
    stage()
    workers = str(os.cpu_count() or 2)
    tests_seen = STAGE / "tests.sha256"
    digest = tests_digest()
    run = mutmut("run", "--max-children", workers)
    tests_changed = not tests_seen.exists() or tests_seen.read_text() != digest
    if run.returncode == 0 and tests_changed:
        again = not_killed_listed()
        if again:
            print(f"mutation: the tests changed; testing the {len(again)} mutants not killed again")
            run = mutmut("run", "--max-children", workers, *again)
    if run.returncode != 0:
        print(f"mutation: mutmut run failed (exit {run.returncode})")
        return run.returncode
    tests_seen.write_text(digest)
    listed = mutmut("results", "--all", "true", capture=True).stdout
    outcomes: dict[str, Counter[str]] = {}
    survivors: list[tuple[str, bool]] = []
    for line in listed.splitlines():
        name, _, status = line.strip().rpartition(": ")
        named = _MODULE.match(name)
        if named is None:
            continue
        only_text = status == "survived" and text_only(name)
        if status == "survived":
            survivors.append((name, only_text))
        outcomes.setdefault(named[1], Counter())["text only" if only_text else status] += 1
    columns = ("killed", "timeout", "survived", "no tests", "text only")
    print(f"{'module':34}" + "".join(f"{column:>11}" for column in columns) + "      score")
    totals: Counter[str] = Counter()
    for module, counts in sorted(outcomes.items()):
        totals.update(counts)
        print(f"{module:34}" + "".join(f"{counts[column]:11}" for column in columns) + f"  {_score(counts):>9.1%}")
    caught = totals["killed"] + totals["timeout"]
    print(
        f"caught {caught} of the {caught + totals['survived'] + totals['no tests']} mutants that change behaviour "
        f"({_score(totals):.1%}; a timeout is caught, a mutant no test covers is not; "
        f"{totals['text only']} that change only a message's text are left out)"
    )
    report = STAGE / "survivors.txt"
    report.write_text("".join(f"{name}{' (text only)' if only else ''}\n" for name, only in survivors))
    print(f"survivors: {report} (mutmut show NAME in {STAGE} for each one's change)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
