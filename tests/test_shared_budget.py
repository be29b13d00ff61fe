"""A concurrency budget shared through a real redis-server, and the cap that adapts to 1302.

The fake platform counts what it served: the most requests in flight at once
for the key, and how many it refused with 1302.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.processes import child_env
from tests.redis_server import MISSING, running_redis
from zhipu_images import APITimeoutError, AsyncImagesClient, ConfigurationError, ImagesClient
from zhipu_images._shared_budget import SharedBudgetWarning, budget_key, shown_url
from zhipu_images.fake import FakePlatform, FakeServer, running_fake_server

KEY = "sk-shared-budget-key-2468"
CLI = [sys.executable, "-m", "zhipu_images"]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip(MISSING)
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def budget(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.close()


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform(api_key=KEY, concurrency_limit=5, latency=0.1)


@pytest.fixture
def server(platform: FakePlatform) -> Iterator[FakeServer]:
    with running_fake_server(platform) as running:
        yield running


def _env() -> dict[str, str]:
    return child_env(ZHIPUAI_API_KEY=KEY)


def _batches(server: FakeServer, tmp_path: Path, count: int, prompts: int, *extra: str) -> list[subprocess.Popen[str]]:
    processes = []
    for index in range(count):
        source = tmp_path / f"prompts-{index}.txt"
        source.write_text("".join(f"process {index} prompt {i}\n" for i in range(prompts)))
        command = [
            *CLI,
            "batch",
            str(source),
            "--base-url",
            f"{server.url}/api/paas/v4",
            "--out",
            str(tmp_path / f"out-{index}"),
        ]
        processes.append(
            subprocess.Popen([*command, "--tier", "V0", *extra], stderr=subprocess.PIPE, text=True, env=_env())
        )
    return processes


def test_three_processes_sharing_the_budget_never_exceed_the_account_limit(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, budget: redis.Redis, redis_url: str
) -> None:
    processes = _batches(server, tmp_path, 3, 20, "--shared-budget", redis_url)
    outcomes = [(process.wait(timeout=120), process.stderr.read() if process.stderr else "") for process in processes]
    assert all(code == 0 for code, _ in outcomes), outcomes
    assert platform.received == 60
    assert platform.rate_limited == 0  # no 1302: the three processes shared one limit of 5
    assert platform.max_in_flight <= 5
    assert budget.zcard(budget_key(KEY)) == 0  # every slot given back
    assert all(KEY.encode() not in name for name in budget.keys("*"))


def test_a_process_killed_with_9_gives_its_slots_back_within_the_lease(
    tmp_path: Path, server: FakeServer, platform: FakePlatform, budget: redis.Redis, redis_url: str
) -> None:
    holder = textwrap.dedent(
        f"""
        import time
        from zhipu_images._shared_budget import SharedBudget
        budget = SharedBudget({redis_url!r}, {KEY!r}, 5, lease=2)
        for _ in range(5):
            budget.acquire(None)
        print("holding", flush=True)
        time.sleep(600)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "holding"
    assert budget.zcard(budget_key(KEY)) == 5  # the whole budget, held and renewed
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    killed_at = time.monotonic()
    (survivor,) = _batches(server, tmp_path, 1, 5, "--shared-budget", redis_url)
    assert survivor.wait(timeout=120) == 0
    assert time.monotonic() - killed_at >= 1  # it had to wait for the dead process's leases to expire
    assert platform.received == 5
    assert budget.zcard(budget_key(KEY)) == 0


def test_waiting_for_a_slot_honours_the_attempt_s_deadline(
    server: FakeServer, platform: FakePlatform, budget: redis.Redis, redis_url: str
) -> None:
    far = int(time.time() * 1000) + 600_000
    budget.zadd(budget_key(KEY), {f"other-{i}": far for i in range(5)})  # another process holds every slot
    with (
        ImagesClient(
            api_key=KEY,
            base_url=f"{server.url}/api/paas/v4",
            max_concurrency="V0",
            shared_budget=redis_url,
            max_retries=0,
        ) as client,
        pytest.raises(APITimeoutError, match="nothing was sent"),
    ):
        client.generate("a cat", timeout=0.5)
    assert platform.received == 0


def test_an_unreachable_budget_is_a_configuration_error_naming_the_url_without_its_password(
    server: FakeServer, platform: FakePlatform
) -> None:
    url = "redis://:hunter2-secret@127.0.0.1:1/0"
    with ImagesClient(
        api_key=KEY, base_url=f"{server.url}/api/paas/v4", max_concurrency=5, shared_budget=url
    ) as client:
        with pytest.raises(ConfigurationError) as caught:
            client.generate("a cat")
        assert "127.0.0.1:1" in str(caught.value)
        assert "hunter2-secret" not in str(caught.value)
    with (
        ImagesClient(
            api_key=KEY,
            base_url=f"{server.url}/api/paas/v4",
            max_concurrency=5,
            shared_budget=url,
            shared_budget_fallback=True,
        ) as client,
        pytest.warns(SharedBudgetWarning, match="falling back"),
    ):
        assert client.generate("a cat").images
    assert platform.received == 1


def test_a_budget_needs_the_limit_it_shares() -> None:
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        ImagesClient(api_key=KEY, shared_budget="redis://127.0.0.1:6379/0")


def test_the_cap_adapts_to_1302_and_grows_back(caplog: pytest.LogCaptureFixture) -> None:
    """A process that thinks it may send 10 meets a limit of 2 it shares with nobody it knows of: after the first
    1302s its cap halves (logged at INFO), so most of its requests are not refused."""
    caplog.set_level(logging.INFO, logger="zhipu_images")
    platform = FakePlatform(concurrency_limit=2, latency=0.05)

    async def main(url: str) -> None:
        async with AsyncImagesClient(
            api_key="k", base_url=f"{url}/api/paas/v4", max_concurrency=10, max_retries=8
        ) as client:
            await asyncio.gather(*(client.generate(f"cat {i}", model="cogview-3-flash") for i in range(60)))

    with running_fake_server(platform) as server:
        asyncio.run(main(server.url))
    decreases = [record.getMessage() for record in caplog.records if "rate limited (1302)" in record.getMessage()]
    assert decreases
    assert decreases[0].startswith("rate limited (1302): in-flight cap 10 -> 5")
    assert platform.received - platform.rate_limited == 60
    assert platform.rate_limited < 40  # without adapting, about (10 - 2) / 10 of the first attempts are refused


def test_a_forked_child_renews_the_leases_it_takes(budget: redis.Redis, redis_url: str) -> None:
    """gunicorn --preload: the budget was used before the fork, and the renewal thread stayed in the parent."""
    child = textwrap.dedent(
        f"""
        import os, sys, time
        import redis
        from zhipu_images._shared_budget import SharedBudget
        budget = SharedBudget({redis_url!r}, {KEY!r}, 5, lease=1)
        budget.release(budget.acquire(None))  # first use: renewals start, in this process
        pid = os.fork()
        if pid == 0:
            token = budget.acquire(None)
            time.sleep(2.5)  # more than twice the lease: only renewals keep it
            connection = redis.Redis.from_url({redis_url!r})
            seconds, micros = connection.time()
            alive = (connection.zscore(budget.key, token) or 0) > seconds * 1000 + micros / 1000
            os._exit(0 if alive else 3)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("redis://user:s3cret-pw@host:6379/0", "s3cret-pw"),
        ("redis://:s3cret-pw@host:6379/0", "s3cret-pw"),
        ("unix:///run/redis.sock?db=0&password=s3cret-pw", "s3cret-pw"),
        ("redis://host:6379/0?username=admin-user&password=s3cret-pw", "admin-user"),
        ("redis://admin-user:s3cret-pw@host:99999/0", "s3cret-pw"),
    ],
)
def test_every_credential_form_redis_takes_is_kept_out_of_messages(url: str, secret: str) -> None:
    assert secret not in shown_url(url)
    assert "s3cret-pw" not in shown_url(url)


@pytest.mark.parametrize("port", ["99999", "${PORT}"])
def test_a_bad_port_is_a_usage_error_that_names_no_password(tmp_path: Path, port: str) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n")
    command = [*CLI, "batch", str(prompts), "--out", str(tmp_path / "out"), "--base-url", "http://127.0.0.1:9/v4"]
    command += ["--shared-budget", f"redis://:s3cret-pw@localhost:{port}/0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=child_env(ZHIPUAI_API_KEY=KEY))
    assert done.returncode == 2, done.stderr
    assert "not a Redis URL" in done.stderr
    assert "s3cret-pw" not in done.stderr
    assert "Traceback" not in done.stderr


def test_with_fallback_redis_going_away_mid_run_falls_back_instead_of_failing(tmp_path: Path) -> None:
    """Redis answered at the first request, then stopped: the next requests go on the process's own cap."""
    if shutil.which("redis-server") is None:
        pytest.skip(MISSING)
    platform = FakePlatform()
    with running_fake_server(platform) as server:
        with running_redis(tmp_path) as url:
            client = ImagesClient(
                api_key=KEY,
                base_url=f"{server.url}/api/paas/v4",
                max_concurrency=2,
                shared_budget=url,
                shared_budget_fallback=True,
            )
            client.generate("a cat", model="cogview-4")  # Redis answers
        with pytest.warns(SharedBudgetWarning, match="until it answers"):  # Redis is gone now
            client.generate("a dog", model="cogview-4")
        for index in range(2):
            client.generate(f"a bird {index}", model="cogview-4")
        client.close()
    assert platform.generated == 4
