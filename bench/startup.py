"""Things measured in fresh processes: import time, fake-server start, download memory."""

from __future__ import annotations

import random
import statistics
import subprocess
import time

from bench._runner import per_call_us, start_fake_server
from bench._venvs import LIB_PYTHON, PEER_PYTHON, lib_cli

IMPORT_PROBE = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
#: row -> (interpreter, what it imports); "first request ready" also loads what the first generate() loads.
#: Each row's ratio is to httpx imported by the same interpreter in the same round.
IMPORTS = {
    "httpx": (LIB_PYTHON, "import httpx"),
    "zhipu_images": (LIB_PYTHON, "import zhipu_images"),
    "zhipu_images, first request ready": (LIB_PYTHON, "import zhipu_images, zhipu_images._client, zhipu_images._wire"),
    "httpx (SDK venv)": (PEER_PYTHON, "import httpx"),
    "openai": (PEER_PYTHON, "import openai"),
    "zai": (PEER_PYTHON, "import zai"),
}


def _baseline(row: str) -> str:
    return "httpx" if IMPORTS[row][0] == LIB_PYTHON else "httpx (SDK venv)"


def import_times(runs: int) -> dict[str, tuple[float, float, tuple[float, float]]]:
    """name -> (median ms, median ratio to httpx imported in the same round and venv, IQR of that ratio).

    Each round imports every row once in a fresh interpreter, in random order.
    """
    samples: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(runs):
        for name in random.sample(list(IMPORTS), len(IMPORTS)):
            python, code = IMPORTS[name]
            out = subprocess.run(
                [python, "-c", IMPORT_PROBE.format(code=code)], capture_output=True, text=True, check=True
            )
            samples[name].append(float(out.stdout) * 1000)
    return {name: _paired(values, samples[_baseline(name)]) for name, values in samples.items()}


def _paired(values: list[float], base: list[float]) -> tuple[float, float, tuple[float, float]]:
    ratios = [v / b for v, b in zip(values, base, strict=True)]
    low, middle, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
    return statistics.median(values), middle, (low, high)


#: Whole processes, start to exit, in the library's venv: the baseline is an interpreter that imports httpx.
COMMANDS = {
    "python -c 'import httpx'": [LIB_PYTHON, "-c", "import httpx"],
    "zhipu-images --help": [lib_cli(), "--help"],
    "zhipu-images check": [lib_cli(), "check", "-p", "a cat", "-s", "1024x1024"],
    "zhipu-images models": [lib_cli(), "models"],
}


def command_times(runs: int) -> dict[str, tuple[float, float, tuple[float, float]]]:
    """name -> (median ms, median ratio to ``python -c 'import httpx'`` in the same round, IQR)."""
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name in random.sample(list(COMMANDS), len(COMMANDS)):
            started = time.perf_counter()
            subprocess.run(COMMANDS[name], capture_output=True, check=True)
            samples[name].append((time.perf_counter() - started) * 1000)
    base = samples["python -c 'import httpx'"]
    return {name: _paired(values, base) for name, values in samples.items()}


def fake_server_start_ms(runs: int) -> float:
    """Median milliseconds from launching `zhipu-images fake-server` to its first answered request."""
    import httpx

    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        process, url = start_fake_server()
        try:
            httpx.post(f"{url}/api/paas/v4/images/generations", json={}, headers={"Authorization": "Bearer k"})
            samples.append((time.perf_counter() - start) * 1000)
        finally:
            process.kill()
            process.wait()
    return statistics.median(samples)


DOWNLOAD_PROBE = """
import re, sys, tempfile
from pathlib import Path
import httpx
from zhipu_images import GeneratedImage, ImagesClient

def kib(field):
    return int(re.search(field + r":\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1])

client = ImagesClient(api_key="k")
with tempfile.TemporaryDirectory() as folder:  # the 64 MiB image is removed with it
    before = kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    if sys.argv[2] == "stream":
        size = client.download(GeneratedImage(url=sys.argv[1]), folder, max_bytes=128 * 1024 * 1024).stat().st_size
    else:
        size = len(httpx.get(sys.argv[1]).content)
    print(size, (kib("VmHWM") - before) / 1024)
"""


def download_rss_growth_mb(url: str, runs: int, mode: str) -> tuple[int, float]:
    """(bytes, median peak-RSS growth in MiB) fetching a 64 MiB image: ``stream`` (download) or ``memory``.

    Linux only: the peak is reset just before the download (/proc/self/clear_refs), so
    what imports used earlier cannot hide the growth.
    """
    growths, size = [], 0
    for _ in range(runs):
        out = subprocess.run(
            [LIB_PYTHON, "-c", DOWNLOAD_PROBE, f"{url}/big.png", mode], capture_output=True, text=True, check=True
        )
        size_text, growth = out.stdout.split()
        size = int(size_text)
        growths.append(float(growth))
    return size, statistics.median(growths)


def png_ms(runs: int) -> tuple[float, float]:
    """Median milliseconds for a 2048x2048-ish PNG of a size not drawn before, and of one drawn before.

    The pixels are cached per size (only the palette follows the seed), so a test suite draws each size once.
    """
    from zhipu_images.fake import make_png

    new, drawn = [], []
    for index in range(runs):
        start = time.perf_counter()
        make_png(2048, 2048 - index - 1, f"seed {index}")  # a height not drawn before
        new.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        make_png(2048, 2048 - index - 1, f"another seed {index}")
        drawn.append((time.perf_counter() - start) * 1000)
    return statistics.median(new), statistics.median(drawn)


def validation_us(calls: int, runs: int) -> dict[str, float]:
    import warnings

    from zhipu_images import validate_request

    cases = {
        "glm-image, size with ×": lambda: validate_request("glm-image", "一只猫", size="1568×1056"),
        "cogview-4-250304, custom size + hd": lambda: validate_request(
            "cogview-4-250304", "一只猫", size=(1440, 720), quality="hd"
        ),
        "dall-e-3, all defaults": lambda: validate_request("dall-e-3", "a cat"),
    }
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, case in cases.items():
            measure = per_call_us(case, calls)
            results[name] = statistics.median(measure()[0] for _ in range(runs))
    return results
