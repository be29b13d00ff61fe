"""The task API (submit, task, wait) on both clients, against the fake platform; its answers read tolerantly.

Money is counted on the fake: ``tasks_submitted`` (paid tasks) and ``generated`` (paid sync generations).
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from tests.answers import answer
from tests.drivers import DRIVERS, Driver
from zhipu_images import (
    ImagesClient,
    ImagesError,
    ImageTask,
    RateLimitError,
    RequestValidationError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
    UnexpectedResponseError,
)
from zhipu_images import _tasks as tasks_module
from zhipu_images._tasks import Poller, TaskDurations, task_from_result, task_from_submission, validate_task_request
from zhipu_images.fake import FakeImagesAPI, FakePlatform, fake_async_client, fake_client, png_size, running_fake_server

KEY = "sk-task-api-key-0123456789"
QUICK = 0.02  # a poll interval for tests that are not about when polls come


@pytest.fixture(params=DRIVERS, ids=lambda d: d.kind)
def driver(request: pytest.FixtureRequest) -> Driver:
    cls: type[Driver] = request.param
    return cls(api_key=KEY, max_retries=0)


def test_a_submitted_task_is_waited_for_and_its_image_downloads(driver: Driver, tmp_path: Path) -> None:
    platform = FakePlatform(latency=0.05)
    fake = driver.with_fake(platform)
    task = fake.submit("一只猫", size="1568x1056")
    assert task.status == "PROCESSING"
    assert task.model == "glm-image"
    assert task.request is not None
    assert task.request.size == "1568x1056"
    result = fake.wait(task, poll_interval=QUICK)
    assert result.request == task.request
    assert result.request_ids == (task.request_id,)
    (image,) = result.images
    path = fake.download(image, tmp_path)
    assert png_size(path.read_bytes()) == (1568, 1056)
    assert (platform.tasks_submitted, platform.generated) == (1, 0)  # one paid task, no sync generation
    assert platform.requests[-1].path == "/api/paas/v4/async/images/generations"


def test_task_fetches_the_state_once_and_a_finished_task_has_its_images(driver: Driver) -> None:
    platform = FakePlatform(latency=30.0)
    fake = driver.with_fake(platform)
    task = fake.submit("a cat")
    before = platform.polls
    state = fake.task(task.id)
    assert platform.polls == before + 1
    assert (state.id, state.status, state.images, state.done) == (task.id, "PROCESSING", (), False)
    platform.latency = 0.0
    done = fake.task(fake.submit("a dog"))
    assert done.status == "SUCCESS"
    assert done.done
    assert len(done.images) == 1


@pytest.mark.parametrize("model", ["cogview-4", "cogview-3-flash", "cogview-4-250304"])
def test_a_model_without_the_task_api_is_refused_before_sending_naming_those_with_it(
    driver: Driver, model: str
) -> None:
    platform = FakePlatform()
    with pytest.raises(RequestValidationError) as refused:
        driver.with_fake(platform).submit("a cat", model=model)
    assert refused.value.field == "model"
    assert refused.value.rule == "task_api"
    assert "glm-image" in str(refused.value)
    assert model in str(refused.value)
    assert platform.received == 0


def test_the_task_request_is_checked_as_generate_checks_it(driver: Driver) -> None:
    platform = FakePlatform()
    fake = driver.with_fake(platform)
    with pytest.raises(RequestValidationError, match="multiple"):
        fake.submit("a cat", size="1000x1000")
    with pytest.raises(RequestValidationError) as quality:
        fake.submit("a cat", quality="standard")
    assert quality.value.field == "quality"
    with pytest.raises(RequestValidationError):
        fake.submit("a cat", user_id="abc")  # 6-128 characters
    with pytest.raises(TypeError, match="request_id"):
        fake.submit("a cat", request_id=5)
    assert platform.received == 0


def test_an_unknown_task_id_is_a_typed_error_carrying_it(driver: Driver) -> None:
    fake = driver.with_fake(FakePlatform())
    with pytest.raises(TaskNotFoundError) as missing:
        fake.wait("20991231000000deadbeef", poll_interval=QUICK)
    assert missing.value.task_id == "20991231000000deadbeef"
    assert missing.value.status_code == 400
    assert "not known to the platform" in str(missing.value)
    with pytest.raises(RequestValidationError, match="task_id"):
        fake.task("has a space")


def test_another_keys_task_is_not_found(driver: Driver) -> None:
    platform = FakePlatform()
    task = driver.with_fake(platform).submit("a cat")
    other = type(driver)(api_key="sk-another-key-987654321", max_retries=0).with_fake(platform)
    with pytest.raises(TaskNotFoundError):
        other.task(task.id)


def test_a_failed_task_raises_with_its_id_and_body(driver: Driver) -> None:
    platform = FakePlatform()
    platform.fail_next("task_fail")
    fake = driver.with_fake(platform)
    task = fake.submit("a cat")
    with pytest.raises(TaskFailedError) as failed:
        fake.wait(task, poll_interval=QUICK)
    assert failed.value.task_id == task.id
    assert failed.value.body["task_status"] == "FAIL"
    assert fake.task(task).status == "FAIL"  # task() reports the state; only wait raises
    assert platform.generated == 0


def test_a_sync_generation_passes_a_scripted_task_failure_by(driver: Driver) -> None:
    platform = FakePlatform()
    platform.fail_next("task_fail")
    fake = driver.with_fake(platform)
    fake.generate("a cat", model="cogview-4")
    with pytest.raises(TaskFailedError):
        fake.wait(fake.submit("a cat"), poll_interval=QUICK)


def test_a_wait_that_runs_out_carries_the_id_and_says_the_task_goes_on(driver: Driver) -> None:
    platform = FakePlatform(latency=30.0)
    fake = driver.with_fake(platform)
    task = fake.submit("a cat")
    with pytest.raises(TaskTimeoutError) as late:
        fake.wait(task, timeout=0.05, poll_interval=QUICK)
    assert late.value.task_id == task.id
    assert late.value.status == "PROCESSING"
    assert late.value.may_be_billed  # the task goes on, paid for
    assert "wait for it again" in str(late.value)
    assert platform.tasks_submitted == 1


def test_waiting_again_by_id_after_a_timeout_gets_the_image_and_pays_nothing_twice(driver: Driver) -> None:
    platform = FakePlatform(latency=0.4)
    fake = driver.with_fake(platform)
    task = fake.submit("a cat")
    with pytest.raises(TaskTimeoutError) as late:
        fake.wait(task, timeout=0.0)  # one poll, at once: still processing
    result = fake.wait(late.value.task_id or "", poll_interval=QUICK)
    assert result.request is None  # fetched by id alone: the request is not known here
    assert len(result.images) == 1
    assert platform.tasks_submitted == 1


@pytest.mark.parametrize("fault", ["drop", "server_error", "rate_limit", "unavailable"])
def test_a_poll_that_fails_is_simply_made_again(driver: Driver, fault: str) -> None:
    platform = FakePlatform(retry_after=0.01)
    fake = driver.with_fake(platform)
    task = fake.submit("a cat")
    platform.fail_next(fault, 2, on="poll")  # type: ignore[arg-type]
    result = fake.wait(task, poll_interval=QUICK)
    assert len(result.images) == 1
    assert platform.polls == 3
    assert platform.tasks_submitted == 1


def test_a_processing_task_holds_its_keys_concurrency_slot() -> None:
    platform = FakePlatform(concurrency_limit=1, latency=0.3)
    with fake_client(platform, max_retries=0) as client:
        first = client.submit("a cat")
        with pytest.raises(RateLimitError):
            client.submit("a dog")  # the first task still holds the key's one slot
        client.wait(first, poll_interval=QUICK)
        client.wait(client.submit("a dog"), poll_interval=QUICK)
    assert platform.rate_limited == 1
    assert platform.tasks_submitted == 2


def test_a_request_id_chosen_by_the_caller_finds_the_task_and_a_second_submission_pays_nothing() -> None:
    platform = FakePlatform()
    with fake_client(platform) as client:
        task = client.submit("a cat", request_id="batch-item-0001")
        assert task.id == "batch-item-0001"
        again = client.submit("a cat", request_id="batch-item-0001")  # 1231: that task exists
        assert again.id == "batch-item-0001"
        assert len(client.wait("batch-item-0001", poll_interval=QUICK).images) == 1
    assert platform.tasks_submitted == 1


def test_the_async_client_has_the_same_task_surface() -> None:
    async def main() -> tuple[ImageTask, int]:
        platform = FakePlatform(latency=0.05)
        async with fake_async_client(platform) as client:
            tasks = await asyncio.gather(*(client.submit(f"cat {i}") for i in range(4)))
            results = await asyncio.gather(*(client.wait(t, poll_interval=QUICK) for t in tasks))
            assert all(len(r.images) == 1 for r in results)
            return tasks[0], platform.tasks_submitted

    task, submitted = asyncio.run(main())
    assert submitted == 4
    assert task.status == "PROCESSING"


def test_the_respx_fixture_and_the_http_server_serve_the_task_api_too() -> None:
    with FakeImagesAPI() as fake, httpx.Client() as http:
        headers = {"Authorization": f"Bearer {KEY}"}
        submitted = http.post(
            "https://open.bigmodel.cn/api/paas/v4/async/images/generations",
            json={"model": "glm-image", "prompt": "a cat"},
            headers=headers,
        ).json()
        state = http.get(f"https://open.bigmodel.cn/api/paas/v4/async-result/{submitted['id']}", headers=headers)
        assert state.json()["task_status"] == "SUCCESS"
        assert fake.platform.tasks_submitted == 1
    platform = FakePlatform()
    with running_fake_server(platform) as server, httpx.Client() as http:
        base = f"{server.url}/api/paas/v4"
        refused = http.post(
            f"{base}/async/images/generations", json={"model": "cogview-4", "prompt": "a cat"}, headers=headers
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "1212"
        assert http.get(f"{base}/async-result/nope", headers=headers).json()["error"]["code"] == "1214"
        assert http.get(f"{base}/async-result/nope").json()["error"]["code"] == "1001"
    assert platform.tasks_submitted == 0


# --- reading answers, without a network ---------------------------------------------------------------------


REQUEST = validate_task_request("glm-image", "a cat")


def test_a_result_keeps_the_entries_with_a_url_and_the_fields_it_does_not_know() -> None:
    body = {
        "id": "t1",
        "task_status": "success",
        "model": "GLM-Image",
        "usage": {"total_tokens": 0},
        "image_result": [{"url": "https://x/a.png"}, {"cover_image_url": "https://x/c.png"}, {"url": ""}],
    }
    state = task_from_result(answer(200, body), "t1", None)
    assert state.status == "SUCCESS"
    assert [image.url for image in state.images] == ["https://x/a.png"]
    assert state.extra == {"usage": {"total_tokens": 0}}
    assert state.model == "GLM-Image"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"id": "t1", "image_result": []}, "no `task_status`"),
        ({"task_status": "SUCCESS", "image_result": [{"url": None}]}, "no image URL"),
        ({"task_status": "SUCCESS", "video_result": [{"url": "https://x/v.mp4"}]}, "no image URL"),
        (b"<html>", "not JSON"),
        ([1, 2], "not an object"),
    ],
)
def test_a_result_that_breaks_the_contract_is_an_unexpected_response(body: Any, why: str) -> None:
    with pytest.raises(UnexpectedResponseError, match=why):
        task_from_result(answer(200, body), "t1", None)


def test_a_submission_answered_without_a_task_id_may_have_been_billed() -> None:
    with pytest.raises(UnexpectedResponseError) as broken:
        task_from_submission(answer(200, {"task_status": "PROCESSING"}), REQUEST, 0.0)
    assert broken.value.may_be_billed


@pytest.mark.parametrize(("status", "code"), [(404, None), (400, "1214"), (400, "1210"), (404, "1222")])
def test_a_refused_task_query_is_task_not_found(status: int, code: str | None) -> None:
    body: dict[str, Any] = {"error": {"code": code, "message": "x"}} if code else {"error": {"message": "x"}}
    with pytest.raises(TaskNotFoundError) as missing:
        task_from_result(answer(status, body), "t9", None)
    assert missing.value.task_id == "t9"
    assert missing.value.code == code


def test_a_key_echoed_in_a_task_answer_never_reaches_the_error() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__regex=r"/async-result/").respond(
            400, json={"error": {"code": "1214", "message": f"bad id for {KEY}"}}, headers={"x-request-id": KEY}
        )
        with ImagesClient(api_key=KEY) as client, pytest.raises(TaskNotFoundError) as missing:
            client.wait("t-123456", poll_interval=QUICK)
    assert "bad id for" in str(missing.value)
    assert KEY not in str(missing.value)
    assert KEY not in repr(missing.value.__dict__)


def test_task_errors_survive_pickling() -> None:
    late = TaskTimeoutError("still processing", task_id="t1", status="PROCESSING")
    back = pickle.loads(pickle.dumps(late))
    assert (type(back), back.task_id, back.status, str(back)) == (TaskTimeoutError, "t1", "PROCESSING", str(late))


# --- when polls come ----------------------------------------------------------------------------------------


def polls_until_done(durations: TaskDurations, duration: float, rtt: float = 0.003) -> tuple[int, float]:
    """Simulate one task of ``duration`` seconds: the polls made and when it was seen done (from submission)."""
    task = ImageTask(id="t", request_id=None, model="glm-image", status="PROCESSING", submitted_at=0.0)
    poller = Poller(task, durations, now=0.0, timeout=None, poll_interval=None)
    now = 0.0
    while True:
        now += poller.delay(now) + rtt
        status = "SUCCESS" if now >= duration else "PROCESSING"
        state = ImageTask(id="t", request_id=None, model="glm-image", status=status)
        if poller.answered(state, now) is not None:
            return poller.polls, now


# Whatever the durations of the tasks before it, a task is seen done no later than the learned first poll or
# one longest gap after it finished, and no delay is ever negative.
@given(st.lists(st.floats(min_value=0.01, max_value=120), min_size=1, max_size=30))
def test_a_task_is_seen_done_within_one_gap_of_finishing_or_at_its_first_poll(durations: list[float]) -> None:
    learned = TaskDurations()
    for duration in durations:
        first = learned.first_poll("glm-image")
        _, seen = polls_until_done(learned, duration)
        assert seen <= max(first, duration + tasks_module.MAX_GAP) + 0.01


@pytest.mark.parametrize("duration", [2.0, 20.0])
def test_steady_tasks_are_polled_at_most_three_times_on_average_and_seen_done_promptly(duration: float) -> None:
    learned = TaskDurations()
    outcomes = [polls_until_done(learned, duration) for _ in range(100)]
    assert sum(polls for polls, _ in outcomes) / len(outcomes) <= 3
    assert sum(seen - duration for _, seen in outcomes) / len(outcomes) <= 0.1 * duration


def test_a_fixed_poll_interval_is_kept() -> None:
    task = ImageTask(id="t", request_id=None, model="glm-image", status="PROCESSING", submitted_at=10.0)
    poller = Poller(task, TaskDurations(), now=10.0, timeout=None, poll_interval=0.5)
    assert poller.delay(10.0) == pytest.approx(0.5)
    poller.answered(task, 10.5)
    assert poller.delay(10.5) == pytest.approx(0.5)


def test_a_task_fetched_by_id_alone_is_polled_at_once() -> None:
    assert Poller("t", TaskDurations(), now=5.0, timeout=None, poll_interval=None).delay(5.0) == 0.0


def test_bad_wait_arguments_name_themselves() -> None:
    with fake_client() as client:
        for name, value in (("timeout", -1), ("poll_interval", 0), ("poll_interval", float("nan"))):
            with pytest.raises(ImagesError, match=name):
                client.wait("t-123456", **{name: value})
        with pytest.raises(TypeError, match="task"):
            client.wait(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_closed_client_says_so_and_sends_nothing(kind: str, tmp_path: Path) -> None:
    platform = FakePlatform()
    if kind == "sync":
        client = fake_client(platform)
        client.close()
        calls: list[Callable[[], object]] = [
            lambda: client.generate("a cat"),
            lambda: client.submit("a cat"),
            lambda: client.task("t-123456"),
            lambda: client.download("http://x/a.png", tmp_path),
        ]
        for call in calls:
            with pytest.raises(ImagesError, match="is closed"):
                call()
    else:

        async def main() -> None:
            client = fake_async_client(platform)
            await client.aclose()
            for call in (client.generate("a cat"), client.submit("a cat"), client.task("t-123456")):
                with pytest.raises(ImagesError, match="is closed"):
                    await call

        asyncio.run(main())
    assert platform.received == 0


@pytest.mark.parametrize("field", ["url", "b64_json"])
def test_an_image_made_by_hand_with_a_wrong_type_is_a_type_error_naming_the_field(field: str, tmp_path: Path) -> None:
    from zhipu_images import GeneratedImage

    wrong = GeneratedImage(url=5) if field == "url" else GeneratedImage(b64_json=5)  # type: ignore[arg-type]
    with fake_client() as client, pytest.raises(TypeError, match=f"image.{field}: expected a string"):
        client.download(wrong, tmp_path)
