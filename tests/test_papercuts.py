"""The small things a newcomer meets in the first hour, each as it should be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import child_env
from zhipu_images import DownloadError, RequestValidationError, validate_request
from zhipu_images.cli._folder_lock import LOCK_FILE
from zhipu_images.fake import fake_client

CLI = [sys.executable, "-m", "zhipu_images"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=child_env(), cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("cogview4", "cogview-4"),
        ("GLM_Image", "glm-image"),
        ("dalle3", "dall-e-3"),
        ("cogview-4-25034", "cogview-4-250304"),
    ],
)
def test_a_misspelt_model_gets_a_did_you_mean(typed: str, meant: str) -> None:
    with pytest.raises(RequestValidationError) as unknown:
        validate_request(typed, "a cat")
    assert f"did you mean {meant!r}?" in str(unknown.value)


def test_a_name_far_from_every_model_gets_no_guess() -> None:
    with pytest.raises(RequestValidationError) as unknown:
        validate_request("banana", "a cat")
    assert "did you mean" not in str(unknown.value)


def test_the_cli_names_its_own_option_for_an_unknown_model(tmp_path: Path) -> None:
    done = cli("generate", "a cat", "--model", "cogview4", "--fake", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "did you mean 'cogview-4'?" in done.stderr
    assert "--allow-unknown-model" in done.stderr
    assert "allow_unknown_model=True" not in done.stderr


def test_a_download_dest_that_looks_like_a_file_name_says_how_to_name_the_file(tmp_path: Path) -> None:
    with fake_client() as client:
        image = client.generate("a cat", model="cogview-4").images[0]
        with pytest.raises(DownloadError, match=r"looks like a file name.*filename='new'"):
            client.download(image, tmp_path / "new.png")
        assert not (tmp_path / "new.png").exists()  # no folder of that name made
        (tmp_path / "afile").write_text("x")
        with pytest.raises(DownloadError, match="is a file; dest is the folder"):
            client.download(image, tmp_path / "afile")
        assert client.download(image, tmp_path, filename="new").name == "new.png"


def test_fake_server_prints_its_url_on_stdout_for_a_program_that_asked_for_port_0() -> None:
    process = subprocess.Popen([*CLI, "fake-server", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/files/nothing").status_code == 404  # it answers there
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_clean_batch_leaves_no_lock_and_defaults_its_folder_as_generate_does(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n")
    done = cli("batch", str(prompts), "--fake", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 item: 1 done" in done.stderr
    out = tmp_path / "images"
    assert (out / "manifest.jsonl").is_file()
    assert not (out / LOCK_FILE).exists()
