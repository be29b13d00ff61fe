"""What a fresh interpreter loads, and leaves for its exit: the quick commands and the package load no HTTP stack.

Counted in modules, not timed: ``zhipu-images --help`` used to import httpx (and with it, where click, rich
and pygments are installed, httpx's own CLI), which is most of its start-up. ``make bench`` times it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import child_env

HEAVY = ("httpx", "httpcore", "asyncio", "zhipu_images_api", "openai_images_api", "tqdm", "redis")

PROBE = """
import json, sys
sys.argv = ["zhipu-images", *json.loads(sys.argv[1])]
from zhipu_images.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {heavy})))
"""


def loaded_by(arguments: list[str], watched: set[str]) -> set[str]:
    """Which of the ``watched`` packages a fresh interpreter running ``zhipu-images arguments`` loaded."""
    probe = PROBE.replace("{heavy}", repr(watched))
    done = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(arguments)],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    )
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


@pytest.mark.parametrize("arguments", [["--help"], ["check", "-p", "a cat", "-s", "1024x1024"], ["models"]])
def test_the_quick_commands_load_no_http_stack(arguments: list[str]) -> None:
    assert loaded_by(arguments, set(HEAVY)) == set()


@pytest.mark.parametrize(("switch", "loaded"), [("--no-progress", []), ("--progress", ["tqdm"])])
def test_a_batch_without_a_progress_bar_loads_no_progress_library(
    tmp_path: Path, switch: str, loaded: list[str]
) -> None:
    # tqdm also reads its metadata and sets up a multiprocessing lock: ~30 ms of a batch's start.
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n")
    arguments = ["batch", str(prompts), "--out", str(tmp_path / "out"), "--fake", switch]
    assert loaded_by(arguments, {"tqdm"}) == set(loaded)
    assert (tmp_path / "out" / "manifest.jsonl").exists()


def test_importing_the_package_loads_no_http_stack_until_a_client_is_asked_for() -> None:
    probe = (
        "import sys, zhipu_images; zhipu_images.validate_request('glm-image', 'a cat'); "
        "before = 'httpx' in sys.modules; zhipu_images.ImagesClient; print(before, 'httpx' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=child_env(), check=True)
    assert done.stdout.split() == ["False", "True"]


def test_the_command_line_leaves_the_collector_nothing_to_do_at_exit() -> None:
    """The interpreter's collections at shutdown passed over every object, 60-70 ms of a 1,000-item batch's end:
    ``main`` freezes them on its way out, whether the command succeeded or failed (it ends the process)."""
    probe = (
        "import gc, sys\n"
        "before = gc.get_freeze_count()  # not 0 on some interpreters (3.12.1 starts with objects frozen)\n"
        "from zhipu_images.cli import main\n"
        "for arguments in (['models'], ['check', '--size', 'no']):\n"
        "    sys.argv = ['zhipu-images', *arguments]\n"
        "    gc.unfreeze()\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as ended:\n"
        "        print('ended', ended.code, gc.get_freeze_count() > 0, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=child_env(), check=True)
    endings = [line for line in done.stderr.splitlines() if line.startswith("ended ")]
    assert endings == ["ended 0 True", "ended 2 True"], done.stderr


def test_a_batch_freezes_what_it_set_up_only_in_a_process_of_its_own(tmp_path: Path) -> None:
    """Run by ``main`` (the process is the command's), the batch freezes the objects it set up before its first
    request: the collector's full passes then skip them (one took 39 ms of a 1,000-item batch, the loop stalled).
    Run through ``app``, within another process, it leaves that process's collector alone."""
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n")
    probe = (
        "import gc, sys\n"
        "before = gc.get_freeze_count()  # not 0 on some interpreters (3.12.1 starts with objects frozen)\n"
        "import zhipu_images.cli._batch as batch\n"
        "from zhipu_images.cli import app, main\n"
        "started = batch.run_batch\n"
        "async def run_batch(*args, **kwargs):\n"
        "    print('frozen at the start', gc.get_freeze_count() > before, file=sys.stderr)\n"
        "    return await started(*args, **kwargs)\n"
        "batch.run_batch = run_batch\n"
        "arguments = ['batch', sys.argv[1], '--out', sys.argv[2], '--fake', '--no-progress']\n"
        "try:\n"
        "    app(arguments, prog_name='zhipu-images')\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.argv = ['zhipu-images', *arguments]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(prompts), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    )
    starts = [line for line in done.stderr.splitlines() if line.startswith("frozen at the start")]
    assert starts == ["frozen at the start False", "frozen at the start True"], done.stderr
