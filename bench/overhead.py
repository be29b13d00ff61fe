"""Per-request client overhead on one canned loopback server: ours, raw httpx, the generated client, the SDKs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench._runner import Measured, Sample, interleaved, per_call_us

PROMPT = "一只可爱的小猫咪"
KEY = "bench.key"  # zai-sdk expects an "id.secret" key
ZHIPU_BODY = {"model": "glm-image", "prompt": PROMPT, "quality": "hd", "size": "1280x1280"}


def sync_contenders(url: str, calls: int) -> dict[str, Callable[[], Sample]]:
    from openai import OpenAI
    from zai import ZhipuAiClient

    from zhipu_images import ImagesClient
    from zhipu_images_api import AuthenticatedClient
    from zhipu_images_api.api.images import create_image
    from zhipu_images_api.models import CreateImageRequest, ImageModel

    raw = httpx.Client()
    endpoint = f"{url}/api/paas/v4/images/generations"
    headers = {"Authorization": f"Bearer {KEY}"}

    def raw_httpx() -> Any:
        response = raw.post(endpoint, json=ZHIPU_BODY, headers=headers)
        response.raise_for_status()
        return response.json()["data"][0]["url"]

    generated = AuthenticatedClient(base_url=f"{url}/api", token=KEY)
    body = CreateImageRequest(model=ImageModel.GLM_IMAGE, prompt=PROMPT)
    ours = ImagesClient(api_key=KEY, base_url=f"{url}/api/paas/v4")
    openai = OpenAI(api_key=KEY, base_url=f"{url}/v1")
    zai = ZhipuAiClient(api_key=KEY, base_url=f"{url}/api/paas/v4")
    contenders: dict[str, Callable[[], object]] = {
        "raw httpx": raw_httpx,
        "generated client": lambda: create_image.sync_detailed(client=generated, body=body).parsed,
        "zhipu_images": lambda: ours.generate(PROMPT, model="glm-image").images[0].url,
        "openai": lambda: openai.images.generate(model="dall-e-2", prompt=PROMPT).data,
        "zai-sdk": lambda: zai.images.generations(model="cogview-4", prompt=PROMPT).data,
    }
    for call in contenders.values():  # warm up connections and lazy imports
        call()
    return {name: per_call_us(call, calls) for name, call in contenders.items()}


def async_contenders(url: str, calls: int, loop: asyncio.AbstractEventLoop) -> dict[str, Callable[[], Sample]]:
    from openai import AsyncOpenAI

    from zhipu_images import AsyncImagesClient

    raw = httpx.AsyncClient()
    endpoint = f"{url}/api/paas/v4/images/generations"
    headers = {"Authorization": f"Bearer {KEY}"}

    async def raw_httpx() -> Any:
        response = await raw.post(endpoint, json=ZHIPU_BODY, headers=headers)
        response.raise_for_status()
        return response.json()["data"][0]["url"]

    ours = AsyncImagesClient(api_key=KEY, base_url=f"{url}/api/paas/v4")
    openai = AsyncOpenAI(api_key=KEY, base_url=f"{url}/v1")

    async def ours_call() -> Any:
        return (await ours.generate(PROMPT, model="glm-image")).images[0].url

    async def openai_call() -> Any:
        return (await openai.images.generate(model="dall-e-2", prompt=PROMPT)).data

    contenders: dict[str, Callable[[], Awaitable[object]]] = {
        "raw httpx": raw_httpx,
        "zhipu_images": ours_call,
        "openai": openai_call,
    }

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


def run(url: str, rounds: int, calls: int) -> dict[str, dict[str, Measured]]:
    """mode -> contender -> its medians and paired ratios to raw httpx."""
    results = {"sync": interleaved(sync_contenders(url, calls), rounds, baseline="raw httpx")}
    loop = asyncio.new_event_loop()
    try:
        results["async"] = interleaved(async_contenders(url, calls, loop), rounds, baseline="raw httpx")
    finally:
        loop.close()
    return results
