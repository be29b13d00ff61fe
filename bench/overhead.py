"""Per-request client overhead on one canned loopback server: ours, raw httpx, the generated client, the SDKs.

Two groups, each in its own venv and process, each with raw httpx as its baseline: ``library`` (raw httpx,
the generated client, zhipu_images) in the library's venv, ``sdks`` (raw httpx, openai, zai-sdk) in theirs.
``python -m bench.overhead URL GROUP ROUNDS CALLS`` prints one group's results as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx

from bench._runner import Measured, Sample, interleaved, per_call_us
from bench._venvs import LIB_PYTHON, PEER_PYTHON, run_json

PROMPT = "一只可爱的小猫咪"
KEY = "bench.key"  # zai-sdk expects an "id.secret" key
ZHIPU_BODY = {"model": "glm-image", "prompt": PROMPT, "quality": "hd", "size": "1280x1280"}


def sync_contenders(url: str, calls: int, group: str) -> dict[str, Callable[[], Sample]]:
    raw = httpx.Client()
    endpoint = f"{url}/api/paas/v4/images/generations"
    headers = {"Authorization": f"Bearer {KEY}"}

    def raw_httpx() -> Any:
        response = raw.post(endpoint, json=ZHIPU_BODY, headers=headers)
        response.raise_for_status()
        return response.json()["data"][0]["url"]

    contenders: dict[str, Callable[[], object]] = {"raw httpx": raw_httpx}
    if group == "library":
        from zhipu_images import ImagesClient
        from zhipu_images_api import AuthenticatedClient
        from zhipu_images_api.api.images import create_image
        from zhipu_images_api.models import CreateImageRequest, ImageModel

        generated = AuthenticatedClient(base_url=f"{url}/api", token=KEY)
        body = CreateImageRequest(model=ImageModel.GLM_IMAGE, prompt=PROMPT)
        ours = ImagesClient(api_key=KEY, base_url=f"{url}/api/paas/v4")
        contenders["generated client"] = lambda: create_image.sync_detailed(client=generated, body=body).parsed
        contenders["zhipu_images"] = lambda: ours.generate(PROMPT, model="glm-image").images[0].url
    else:
        from openai import OpenAI
        from zai import ZhipuAiClient

        openai = OpenAI(api_key=KEY, base_url=f"{url}/v1")
        zai = ZhipuAiClient(api_key=KEY, base_url=f"{url}/api/paas/v4")
        contenders["openai"] = lambda: openai.images.generate(model="dall-e-2", prompt=PROMPT).data
        contenders["zai-sdk"] = lambda: zai.images.generations(model="cogview-4", prompt=PROMPT).data
    for call in contenders.values():  # warm up connections and lazy imports
        call()
    return {name: per_call_us(call, calls) for name, call in contenders.items()}


def async_contenders(
    url: str, calls: int, loop: asyncio.AbstractEventLoop, group: str
) -> dict[str, Callable[[], Sample]]:
    raw = httpx.AsyncClient()
    endpoint = f"{url}/api/paas/v4/images/generations"
    headers = {"Authorization": f"Bearer {KEY}"}

    async def raw_httpx() -> Any:
        response = await raw.post(endpoint, json=ZHIPU_BODY, headers=headers)
        response.raise_for_status()
        return response.json()["data"][0]["url"]

    contenders: dict[str, Callable[[], Awaitable[object]]] = {"raw httpx": raw_httpx}
    if group == "library":
        from zhipu_images import AsyncImagesClient

        ours = AsyncImagesClient(api_key=KEY, base_url=f"{url}/api/paas/v4")

        async def ours_call() -> Any:
            return (await ours.generate(PROMPT, model="glm-image")).images[0].url

        contenders["zhipu_images"] = ours_call
    else:
        from openai import AsyncOpenAI

        openai = AsyncOpenAI(api_key=KEY, base_url=f"{url}/v1")

        async def openai_call() -> Any:
            return (await openai.images.generate(model="dall-e-2", prompt=PROMPT)).data

        contenders["openai"] = openai_call

    def timed(call: Callable[[], Awaitable[object]]) -> Callable[[], Sample]:
        async def many() -> None:
            for _ in range(calls):
                await call()

        batch = per_call_us(lambda: loop.run_until_complete(many()), 1)

        def measure() -> Sample:
            wall, cpu = batch()
            return wall / calls, cpu / calls

        return measure

    for call in contenders.values():
        loop.run_until_complete(call())
    return {name: timed(call) for name, call in contenders.items()}


def measure(url: str, rounds: int, calls: int, group: str) -> dict[str, dict[str, Measured]]:
    """mode -> contender -> its medians and paired ratios to raw httpx, for one group, in this process."""
    results = {"sync": interleaved(sync_contenders(url, calls, group), rounds, baseline="raw httpx")}
    loop = asyncio.new_event_loop()
    try:
        results["async"] = interleaved(async_contenders(url, calls, loop, group), rounds, baseline="raw httpx")
    finally:
        loop.close()
    return results


def run(url: str, rounds: int, calls: int) -> dict[str, dict[str, Measured]]:
    """Both groups, each in its venv: mode -> contender -> measured (the SDKs' raw httpx named as such)."""
    results: dict[str, dict[str, Measured]] = {"sync": {}, "async": {}}
    for group, python in (("library", LIB_PYTHON), ("sdks", PEER_PYTHON)):
        measured = run_json(python, "bench.overhead", url, group, rounds, calls)
        for mode, contenders in measured.items():
            for name, values in contenders.items():
                shown = f"{name} (SDK venv)" if group == "sdks" and name == "raw httpx" else name
                results[mode][shown] = Measured(
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
                )
    return results


if __name__ == "__main__":
    url, group, rounds, calls = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    measured = measure(url, rounds, calls, group)
    print(json.dumps({mode: {n: attrs.asdict(m) for n, m in c.items()} for mode, c in measured.items()}))
