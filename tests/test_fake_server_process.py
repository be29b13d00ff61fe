"""``fake_images_server``: the fake as a real process on a free port, for a service's tests on any stack."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from zhipu_images import ImagesClient
from zhipu_images.fake import fake_images_server


def test_the_server_runs_in_a_process_of_its_own_and_stops_with_the_block(tmp_path: Path) -> None:
    with fake_images_server(api_key="svc-key.1") as server:
        assert server.process.pid != os.getpid()
        assert server.url.startswith("http://127.0.0.1:")
        with ImagesClient(api_key="svc-key.1", base_url=server.zhipu_base_url) as client:
            saved = client.download(client.generate("a cat", model="cogview-4").images[0], tmp_path)
        assert saved.read_bytes().startswith(b"\x89PNG")
        # a client on another stack (the standard library's) reaches it the same way
        request = urllib.request.Request(
            f"{server.openai_base_url}/images/generations",
            data=json.dumps({"model": "dall-e-2", "prompt": "a dog", "size": "256x256"}).encode(),
            headers={"Authorization": "Bearer svc-key.1", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert json.load(answer)["data"][0]["url"].startswith(server.url)
        assert server.environment() == {
            "ZHIPUAI_BASE_URL": f"{server.url}/api/paas/v4",
            "OPENAI_BASE_URL": f"{server.url}/v1",
        }
    assert server.process.poll() is not None


def test_options_are_checked_before_a_process_starts() -> None:
    with pytest.raises(ValueError, match="platform must be 'bigmodel' or 'zai'"), fake_images_server(platform="x"):
        pass


def test_the_pytest_fixture_serves_a_service_s_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from zhipu_images import ImagesClient

        def test_cover(fake_images_server, monkeypatch):
            for name, value in fake_images_server.environment().items():
                monkeypatch.setenv(name, value)
            with ImagesClient(api_key="k.1") as client:  # the base URL comes from ZHIPUAI_BASE_URL
                result = client.generate("a cat", model="cogview-3-flash")
            assert result.images[0].url.startswith(fake_images_server.url)
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
