"""Client instructions per request, counted by valgrind's callgrind: the same number every run.

Timings on a shared 2-core machine move by +-10% between runs; an instruction
count does not. Each contender runs in a fresh interpreter under callgrind at two
request counts; the difference divided by the extra requests is its cost per
request, with start-up and imports cancelled out. The server is another process,
so only client work is counted. Two probes run at once (counts ignore contention).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

from bench._venvs import LIB_PYTHON, PEER_PYTHON

PROBE = """
import asyncio, sys
mode, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
P = "一只可爱的小猫咪"
BODY = {"model": "glm-image", "prompt": P, "quality": "hd", "size": "1280x1280"}
ENDPOINT = url + "/api/paas/v4/images/generations"
AUTH = {"Authorization": "Bearer bench.key"}
if mode == "raw httpx":
    import httpx
    c = httpx.Client()
    call = lambda: c.post(ENDPOINT, json=BODY, headers=AUTH).json()["data"][0]["url"]
elif mode == "generated client":
    from zhipu_images_api import AuthenticatedClient
    from zhipu_images_api.api.images import create_image
    from zhipu_images_api.models import CreateImageRequest, ImageModel
    c = AuthenticatedClient(base_url=url + "/api", token="bench.key")
    body = CreateImageRequest(model=ImageModel.GLM_IMAGE, prompt=P)
    call = lambda: create_image.sync_detailed(client=c, body=body).parsed
elif mode == "zhipu_images":
    from zhipu_images import ImagesClient
    c = ImagesClient(api_key="bench.key", base_url=url + "/api/paas/v4")
    call = lambda: c.generate(P).images[0].url
elif mode == "openai":
    from openai import OpenAI
    c = OpenAI(api_key="bench.key", base_url=url + "/v1")
    call = lambda: c.images.generate(model="dall-e-2", prompt=P).data
elif mode == "zai-sdk":
    from zai import ZhipuAiClient
    c = ZhipuAiClient(api_key="bench.key", base_url=url + "/api/paas/v4")
    call = lambda: c.images.generations(model="cogview-4", prompt=P).data
else:
    loop = asyncio.new_event_loop()
    if mode == "raw httpx async":
        import httpx
        c = httpx.AsyncClient()
        async def one():
            return (await c.post(ENDPOINT, json=BODY, headers=AUTH)).json()["data"][0]["url"]
    elif mode == "zhipu_images async":
        from zhipu_images import AsyncImagesClient
        c = AsyncImagesClient(api_key="bench.key", base_url=url + "/api/paas/v4")
        async def one():
            return (await c.generate(P)).images[0].url
    else:
        from openai import AsyncOpenAI
        c = AsyncOpenAI(api_key="bench.key", base_url=url + "/v1")
        async def one():
            return (await c.images.generate(model="dall-e-2", prompt=P)).data
    call = lambda: loop.run_until_complete(one())
call()
for _ in range(n):
    call()
"""

CONTENDERS = {
    "sync": ["raw httpx", "generated client", "zhipu_images", "raw httpx (SDK venv)", "openai", "zai-sdk"],
    "async": ["raw httpx async", "zhipu_images async", "raw httpx async (SDK venv)", "openai async"],
}


def _python(name: str) -> str:
    """The library and its baseline count in the library's venv; the SDKs and theirs in the SDKs' venv."""
    return PEER_PYTHON if name.startswith(("openai", "zai")) or name.endswith("(SDK venv)") else LIB_PYTHON


def available() -> bool:
    return shutil.which("valgrind") is not None


def _count(name: str, url: str, requests: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", _python(name), "-c", PROBE]
    out = subprocess.run(
        [*command, name.removesuffix(" (SDK venv)"), url, str(requests)],
        capture_output=True,
        text=True,
        check=True,
        # A fixed hash seed: string hashing changes dict layouts, and with them the count, by about 1%.
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    collected = re.search(r"Collected : (\d+)", out.stderr)
    assert collected is not None, out.stderr[-2000:]
    return int(collected[1])


def per_request(url: str, low: int = 10, high: int = 110) -> dict[str, dict[str, float]]:
    """mode -> contender -> instructions per request."""
    jobs = [(mode, name, n) for mode, names in CONTENDERS.items() for name in names for n in (low, high)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _count(job[1], url, job[2]), jobs), strict=True))
    return {
        mode: {name: (counts[(mode, name, high)] - counts[(mode, name, low)]) / (high - low) for name in names}
        for mode, names in CONTENDERS.items()
    }
