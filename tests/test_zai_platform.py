"""Z.AI, the international platform: its URL, the models it serves, what it is sent, how its fake answers."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.processes import child_env
from zhipu_images import AuthenticationError, ConfigurationError, ImagesClient, RequestValidationError
from zhipu_images.fake import FakePlatform, fake_async_client, fake_client, running_fake_server

KEY = "zai-test-key-0123456789"


def test_platform_zai_selects_its_url_and_a_zai_url_tells_the_platform(clean_env: pytest.MonkeyPatch) -> None:
    with ImagesClient(api_key=KEY, platform="zai") as client:
        assert (client.base_url, client.platform) == ("https://api.z.ai/api/paas/v4", "zai")
    with ImagesClient(api_key=KEY) as client:
        assert (client.base_url, client.platform) == ("https://open.bigmodel.cn/api/paas/v4", "bigmodel")
    clean_env.setenv("ZAI_BASE_URL", "https://api.z.ai/api/paas/v4/")
    with ImagesClient(api_key=KEY) as client:
        assert client.platform == "zai"
    with pytest.raises(ConfigurationError, match="platform: expected one of 'bigmodel', 'zai'"):
        ImagesClient(api_key=KEY, platform="z.ai")


@pytest.mark.parametrize("model", ["cogview-4", "cogview-3-flash"])
def test_a_model_zai_does_not_serve_is_refused_before_sending_naming_the_platform(model: str) -> None:
    platform = FakePlatform(platform="zai")
    with fake_client(platform, platform="zai") as client:
        with pytest.raises(RequestValidationError) as refused:
            client.generate("a cat", model=model)
        assert refused.value.rule == "platform"
        assert "Z.AI" in str(refused.value)
        assert "cogview-4-250304, glm-image" in str(refused.value)
        client.generate("a cat", model="cogview-4-250304")
    assert platform.received == 1  # only the served model was sent


def test_watermark_enabled_is_not_sent_to_zai_unless_given() -> None:
    platform = FakePlatform(platform="zai")
    with fake_client(platform, platform="zai") as client:
        client.generate("a cat")
        assert "watermark_enabled" not in platform.requests[-1].json
        client.generate("a cat", watermark_enabled=False)
        assert platform.requests[-1].json["watermark_enabled"] is False


def test_the_task_api_on_zai() -> None:
    import asyncio

    async def main() -> int:
        platform = FakePlatform(platform="zai")
        async with fake_async_client(platform, platform="zai") as client:
            task = await client.submit("a cat")
            result = await client.wait(task, poll_interval=0.01)
            return len(result.images) + platform.tasks_submitted

    assert asyncio.run(main()) == 2


def test_a_rejected_key_says_keys_are_per_platform() -> None:
    platform = FakePlatform(platform="zai", api_key=KEY)
    with (
        fake_client(platform, platform="zai", api_key="a-bigmodel-key-000000") as client,
        pytest.raises(AuthenticationError) as rejected,
    ):
        client.generate("a cat")
    assert rejected.value.code == "1002"
    assert "keys are per platform" in str(rejected.value)
    assert "Z.AI" in str(rejected.value)
    assert "a-bigmodel-key-000000" not in str(rejected.value)


def test_fake_server_answers_as_zai_does_in_english() -> None:
    platform = FakePlatform(platform="zai", api_key=KEY)
    with running_fake_server(platform) as server, httpx.Client(base_url=f"{server.url}/api/paas/v4") as http:
        headers = {"Authorization": f"Bearer {KEY}"}
        unserved = http.post("/images/generations", json={"model": "cogview-4", "prompt": "a cat"}, headers=headers)
        assert unserved.status_code == 400
        assert unserved.json()["error"] == {"code": "1211", "message": "Unknown Model, please check the model code."}
        bad = http.post("/images/generations", json={"model": "glm-image", "prompt": "a cat", "size": "10x10"},
                        headers=headers)  # fmt: skip
        assert bad.json()["error"]["code"] == "1214"
        assert bad.json()["error"]["message"].isascii()
        wrong = http.post("/images/generations", json={"model": "glm-image", "prompt": "a cat"},
                          headers={"Authorization": "Bearer another"})  # fmt: skip
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "1002")


def test_the_cli_takes_platform_zai() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zhipu_images", "generate", "a cat", "--fake", "--platform", "zai", "-m", "cogview-4"],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert "not served by Z.AI" in done.stderr
    assert "Traceback" not in done.stderr
