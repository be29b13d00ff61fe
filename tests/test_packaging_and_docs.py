"""What a user meets first: the wheel `pip install .` builds, and the README's examples, run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.hostile import png
from tests.processes import child_env
from zhipu_images.fake import FakeImagesAPI, png_size, running_fake_server

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The wheel's long description (its PyPI page), for people who pip install.
PYPI_PAGE = (ROOT / "PYPI.md").read_text(encoding="utf-8")
PYTHON_BLOCKS: list[str] = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
PYPI_BLOCKS: list[str] = re.findall(r"```python\n(.*?)```", PYPI_PAGE, flags=re.DOTALL)
#: The documentation site's pages (make docs), and their Python blocks by page.
DOCS = sorted((ROOT / "docs").rglob("*.md"))
DOCS_BLOCKS: list[tuple[str, str]] = [
    (f"{page.relative_to(ROOT / 'docs')}-{index}", text)
    for page in DOCS
    for index, text in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL))
]


def block(containing: str) -> str:
    """The README's Python block that contains ``containing``."""
    (found,) = [text for text in PYTHON_BLOCKS if containing in text]
    return found


def test_the_docs_have_python_blocks_to_run() -> None:
    assert len(DOCS_BLOCKS) >= 6


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == ["make demo", "make test"]


def test_readme_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", "readme-key")
    monkeypatch.chdir(tmp_path)
    with FakeImagesAPI() as fake:
        exec(compile(block("with ImagesClient() as client:"), "README.md", "exec"), {})
    (saved,) = (tmp_path / "out").iterdir()
    assert png_size(saved.read_bytes()) == (1568, 1056)
    assert fake.requests[-1].json["size"] == "1568x1056"


def test_readme_fixture_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme=block("def test_cover_image(fake_images_api)"))
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_readme_error_example_runs_as_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", "readme-key")
    with FakeImagesAPI() as fake:
        fake.fail_next("content_filter")
        exec(compile(block("except ContentFilterError as error:"), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "invalid: size multiple_of -> nearest valid size: 992x992" in printed
    assert "filtered: 1301 400" in printed
    assert "kept 3 images" in printed
    assert len(fake.requests) == 4  # the invalid call sent nothing


@pytest.mark.parametrize(
    "text",
    [*PYTHON_BLOCKS, *PYPI_BLOCKS, *(text for _, text in DOCS_BLOCKS)],
    ids=[
        *(f"README-{i}" for i in range(len(PYTHON_BLOCKS))),
        *(f"PYPI-{i}" for i in range(len(PYPI_BLOCKS))),
        *(f"docs/{name}" for name, _ in DOCS_BLOCKS),
    ],
)
def test_every_readme_python_block_runs_in_a_fresh_interpreter(text: str, tmp_path: Path) -> None:
    """As a reader would paste it: with no key and no network (the fake examples), or with the environment
    the README describes pointing at a fake-server (the examples written for the real platform)."""
    if "def test_" in text:  # run as a service's test would be: pytest, with the package's plugin
        script = tmp_path / "test_readme.py"
        script.write_text(text)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    else:
        command = [sys.executable, "-c", text]
    env = child_env()
    with running_fake_server() as server:
        if "fake_client" not in text and "def test_" not in text:
            env |= {"ZHIPUAI_API_KEY": "readme-key", "ZHIPUAI_BASE_URL": f"{server.url}/api/paas/v4"}
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_the_offline_examples_save_images_without_a_key(tmp_path: Path) -> None:
    env = child_env()
    for text in (block("with fake_client() as client:  # in process"), block("async with fake_async_client(")):
        subprocess.run([sys.executable, "-c", text], cwd=tmp_path, env=env, check=True, timeout=120)
    saved = sorted((tmp_path / "out").iterdir())
    assert len(saved) == 4
    assert all(png_size(path.read_bytes()) in {(1024, 1024), (1280, 1280)} for path in saved)


def test_one_wheel_holds_the_library_and_both_generated_clients(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("zhipu_images-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("zhipu_images", "zhipu_images_api", "openai_images_api"):
        assert f"{package}/__init__.py" in names
        assert f"{package}/py.typed" in names
    assert {"zhipu_images_api/openapi.json", "openai_images_api/openapi.json"} <= names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "zhipu-images = zhipu_images.cli:main" in entry_points
    assert "zhipu_images = zhipu_images.fake.pytest_plugin" in entry_points
    assert not any(name.startswith(("tests/", "bench/", "openapi/")) for name in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    # A service installs only what generating and downloading need; the rest comes with extras.
    required = [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    unconditional = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in required if "extra ==" not in r}
    assert unconditional == {"httpx", "httpcore", "sniffio", "attrs"}
    extras = {line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Provides-Extra: ")}
    assert extras == {"cli", "testing", "redis", "all"}
    assert "pip install zhipu-images" in metadata  # the PyPI page is PYPI.md, for people who pip install
    assert "make demo" not in metadata


def test_the_pypi_page_speaks_to_people_who_pip_install() -> None:
    """No repository commands (make, the checkout's venv) on the page a pip user reads; every command it
    shows is the installed one."""
    assert "make " not in PYPI_PAGE
    assert ".venv" not in PYPI_PAGE
    commands = [
        line.split("#")[0].strip()
        for shell in re.findall(r"```sh\n(.*?)```", PYPI_PAGE, flags=re.DOTALL)
        for line in shell.splitlines()
    ]
    assert all(command.startswith(("pip install", "zhipu-images", "export")) for command in commands if command)


BLOCK = "import sys\nfor name in {names!r}:\n    sys.modules[name] = None  # as if not installed\n"


@pytest.mark.parametrize(
    ("absent", "code", "expected"),
    [
        (
            ["click"],
            "from zhipu_images.cli import main; main()",
            "zhipu-images: the command line needs click, which is not installed: pip install 'zhipu-images[cli]'",
        ),
        (
            ["tqdm", "charset_normalizer"],
            "from zhipu_images.cli import main; main()",
            "needs tqdm, charset_normalizer, which are not installed: pip install 'zhipu-images[cli]'",
        ),
        (
            ["jsonschema"],
            "import zhipu_images.fake",
            "the fake platform needs jsonschema, which is not installed: pip install 'zhipu-images[testing]'",
        ),
        (
            ["respx"],
            "from zhipu_images.fake import FakeImagesAPI",
            "FakeImagesAPI (the fake_images_api fixture) needs respx, which is not installed: "
            "pip install 'zhipu-images[testing]'",
        ),
        (
            ["jsonschema"],
            "import zhipu_images.conformance",
            "the conformance runner needs jsonschema, which is not installed: pip install 'zhipu-images[cli]'",
        ),
    ],
)
def test_a_missing_extra_says_what_to_install(absent: list[str], code: str, expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK.format(names=absent) + code],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    assert done.returncode == 1
    assert expected in done.stderr
    if "cli" not in code:  # an import: the error is the import's own, its message the hint
        assert "ModuleNotFoundError: " + expected in done.stderr


def test_the_library_alone_generates_without_any_extra(tmp_path: Path) -> None:
    """What the base install imports when a client generates and downloads: no package of an extra."""
    probe = BLOCK.format(names=["click", "tqdm", "charset_normalizer", "jsonschema", "respx", "redis", "pytest"]) + (
        "import httpx, zhipu_images\n"
        f"png = bytes.fromhex({png().hex()!r})\n"
        "def answer(request):\n"
        "    if request.url.path.endswith('.png'):\n"
        "        return httpx.Response(200, content=png, headers={'content-type': 'image/png'})\n"
        "    return httpx.Response(200, json={'created': 1, 'data': [{'url': 'https://cdn.example/a.png'}]})\n"
        "http = httpx.Client(transport=httpx.MockTransport(answer))\n"
        "with zhipu_images.ImagesClient(api_key='k.s', http_client=http) as client:\n"
        f"    print(client.download(client.generate('a cat').images[0], {str(tmp_path)!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=child_env())
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).read_bytes() == png()
