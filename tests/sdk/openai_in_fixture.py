"""The official openai SDK (3.x, on httpx2), unchanged, inside the fake's respx mock (what the
``fake_images_api`` fixture yields): it reaches the fake as an httpx client does, sync and async.

python openai_in_fixture.py
"""

from __future__ import annotations

import asyncio
import json

import httpx2
import openai

from zhipu_images.fake import FakeImagesAPI, png_size


def main() -> None:
    seen: dict[str, object] = {"httpx2": httpx2.__version__, "openai": openai.__version__}
    with FakeImagesAPI() as fake:
        client = openai.OpenAI(api_key="sk-fixture-test", max_retries=0)
        image = client.images.generate(model="dall-e-3", prompt="a cat", size="1792x1024")
        url = (image.data or [])[0].url or ""
        seen["size"] = png_size(httpx2.get(url).content)
        try:
            client.images.generate(model="dall-e-3", prompt="a cat", size="512x512")
        except openai.BadRequestError as refused:
            seen["refused"] = str(refused)

        async def run() -> int:
            async with openai.AsyncOpenAI(api_key="sk-fixture-test", max_retries=0) as async_client:
                answer = await async_client.images.generate(model="dall-e-2", prompt="a dog", n=2, size="256x256")
                return len(answer.data or [])

        seen["async_images"] = asyncio.run(run())
        seen["paths"] = [request.path for request in fake.requests]
        seen["generated"] = fake.platform.generated
    # the block is over: httpx2 is itself again
    seen["restored"] = httpx2.HTTPTransport.handle_request.__qualname__
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
