"""The fake platform: behaviour, simulations, and the same answers through all three ways of running it."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.processes import child_env
from zhipu_images import (
    APIConnectionError,
    AsyncImagesClient,
    ContentFilterError,
    ImagesClient,
    InsufficientBalanceError,
)
from zhipu_images.fake import (
    FakeImagesAPI,
    FakePlatform,
    FakeReply,
    FakeRequest,
    FakeTransport,
    make_png,
    png_size,
    running_fake_server,
)

ZHIPU = "/api/paas/v4/images/generations"
OPENAI = "/v1/images/generations"
AUTH = {"Authorization": "Bearer the-key"}

Send = Callable[..., httpx.Response]
BASE = "http://f.test/api/paas/v4"


def in_process(platform: FakePlatform) -> httpx.Client:
    return httpx.Client(transport=FakeTransport(platform))


@pytest.fixture(params=["respx", "transport", "server"])
def send(request: pytest.FixtureRequest) -> Iterator[tuple[FakePlatform, Send]]:
    """(platform, send): ``send(method, path, json=..., headers=...)`` reaches the platform one of three ways."""
    platform = FakePlatform(api_key="the-key")
    if request.param == "respx":
        with FakeImagesAPI(platform), httpx.Client(base_url="https://open.bigmodel.cn") as client:
            yield platform, client.request
    elif request.param == "transport":
        with httpx.Client(base_url="http://fake.test", transport=FakeTransport(platform)) as client:
            yield platform, client.request
    else:
        with running_fake_server(platform) as server, httpx.Client(base_url=server.url) as client:
            yield platform, client.request


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def test_auth_missing_and_wrong_zhipu(send: tuple[FakePlatform, Send]) -> None:
    _, request = send
    missing = request("POST", ZHIPU, json={"model": "glm-image", "prompt": "p"})
    wrong = request("POST", ZHIPU, json={"model": "glm-image", "prompt": "p"}, headers={"Authorization": "Bearer nope"})
    assert (missing.status_code, error_of(missing)["code"]) == (401, "1001")
    # As the platform was seen to answer (../shared/reference): code "401", not the documented 1002.
    assert (wrong.status_code, error_of(wrong)) == (401, {"code": "401", "message": "令牌已过期或验证不正确"})


def test_auth_openai_uses_openai_error_shape(send: tuple[FakePlatform, Send]) -> None:
    _, request = send
    missing = request("POST", OPENAI, json={"prompt": "p"})
    assert missing.status_code == 401
    assert set(error_of(missing)) == {"message", "type", "param", "code"}
    assert error_of(missing)["code"] == "invalid_api_key"


def test_unknown_path_is_404_and_wrong_method_405(send: tuple[FakePlatform, Send]) -> None:
    _, request = send
    if request.__self__.base_url.host == "open.bigmodel.cn":  # type: ignore[attr-defined]
        pytest.skip("the respx mock only intercepts the image API's paths; others pass through")
    unknown = request("GET", "/api/paas/v4/chat/completions", headers=AUTH)
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "1222")
    wrong_method = request("GET", ZHIPU, headers=AUTH)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"model": "glm-image"}, "1213", "prompt"),
        ({"prompt": "p"}, "1213", "model"),
        ({"model": "cogview-9", "prompt": "p"}, "1211", "model"),
        ({"model": "glm-image", "prompt": "p", "size": "1000x1000"}, "1214", "size"),
        ({"model": "cogview-4", "prompt": "p", "quality": "hd"}, "1214", "quality"),
        ({"model": "glm-image", "prompt": "p", "user_id": "abc"}, "1214", "user_id"),
        ({"model": "glm-image", "prompt": "   "}, "1214", "prompt"),
    ],
)
def test_zhipu_rules_are_enforced_with_platform_codes(
    send: tuple[FakePlatform, Send], body: dict[str, Any], code: str, field: str
) -> None:
    _, request = send
    response = request("POST", ZHIPU, json=body, headers=AUTH)
    assert response.status_code == 400
    assert error_of(response)["code"] == code
    assert field in error_of(response)["message"]


def test_unknown_fields_are_ignored_and_model_case_too(send: tuple[FakePlatform, Send]) -> None:
    _, request = send
    body = {"model": "cogView-4-250304", "prompt": "p", "size": "1024x1024", "future_option": {"x": 1}}
    assert request("POST", ZHIPU, json=body, headers=AUTH).status_code == 200


def test_zhipu_success_serves_a_png_of_exactly_the_requested_size(send: tuple[FakePlatform, Send]) -> None:
    _, request = send
    response = request("POST", ZHIPU, json={"model": "glm-image", "prompt": "猫", "size": "1728x960"}, headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"created", "data", "content_filter"}
    assert len(body["data"]) == 1
    image = request("GET", httpx.URL(body["data"][0]["url"]).path)
    assert image.headers["content-type"] == "image/png"
    assert png_size(image.content) == (1728, 960)


def test_expired_image_urls_answer_404_and_generation_still_works(send: tuple[FakePlatform, Send]) -> None:
    platform, request = send
    response = request("POST", ZHIPU, json={"model": "cogview-4", "prompt": "猫"}, headers=AUTH)
    path = httpx.URL(response.json()["data"][0]["url"]).path
    assert request("GET", path).status_code == 200
    platform.image_urls_expired = True
    assert request("GET", path).status_code == 404
    assert request("POST", ZHIPU, json={"model": "cogview-4", "prompt": "猫"}, headers=AUTH).status_code == 200


def test_openai_success_shapes(send: tuple[FakePlatform, Send]) -> None:
    _, request = send
    many = request("POST", OPENAI, json={"model": "dall-e-2", "prompt": "p", "n": 3, "size": "256x256"}, headers=AUTH)
    assert [sorted(item) for item in many.json()["data"]] == [["url"]] * 3
    inline = request(
        "POST",
        OPENAI,
        json={"model": "dall-e-3", "prompt": "p", "response_format": "b64_json", "size": "1792x1024"},
        headers=AUTH,
    )
    (item,) = inline.json()["data"]
    assert item["revised_prompt"] == "p"
    assert png_size(base64.b64decode(item["b64_json"])) == (1792, 1024)


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        (lambda p: setattr(p, "balance_exhausted", True), 429, "1113"),
        (lambda p: setattr(p, "overloaded", True), 429, "1305"),
        (lambda p: p.fail_next("rate_limit"), 429, "1302"),
        (lambda p: p.fail_next("no_balance"), 429, "1113"),
        (lambda p: p.fail_next("server_error"), 500, "500"),
        (lambda p: p.fail_next("content_filter"), 400, "1301"),
        (lambda p: setattr(p, "content_filter_words", ("banned",)), 400, "1301"),
    ],
)
def test_simulations(
    send: tuple[FakePlatform, Send], setup: Callable[[FakePlatform], None], status: int, code: str
) -> None:
    platform, request = send
    setup(platform)
    response = request("POST", ZHIPU, json={"model": "glm-image", "prompt": "a banned cat"}, headers=AUTH)
    assert (response.status_code, error_of(response)["code"]) == (status, code)
    assert "retry-after" not in response.headers  # the platform sends none (../shared/reference)
    assert re.fullmatch(r"[0-9]{14}[0-9a-f]{16}", response.json()["request_id"])  # timestamp + hex, as its own
    if code == "1301":  # the image model's published 1301 answer names the filtered side beside the error
        assert response.json()["contentFilter"] == [{"level": 2, "role": "user"}]


def test_published_platform_answers(send: tuple[FakePlatform, Send]) -> None:
    """The fake follows the real platform's answers users published (../shared/reference)."""
    platform, request = send
    platform.balance_exhausted = True
    bad_parameter = request("POST", ZHIPU, json={"model": "cogview-4", "prompt": "p", "size": "3x3"}, headers=AUTH)
    assert (bad_parameter.status_code, error_of(bad_parameter)["code"]) == (400, "1214")  # parameters first
    no_balance = request("POST", ZHIPU, json={"model": "glm-image", "prompt": "p"}, headers=AUTH)
    assert error_of(no_balance)["message"] == "余额不足或无可用资源包,请充值。"
    platform.balance_exhausted = False
    success = request("POST", ZHIPU, json={"model": "glm-image", "prompt": "p"}, headers=AUTH).json()
    assert set(success) == {"created", "data", "content_filter"}  # no `id`: the spec and the platform have none
    platform.retry_after = 2
    platform.fail_next("rate_limit")
    limited = request("POST", ZHIPU, json={"model": "glm-image", "prompt": "p"}, headers=AUTH)
    assert limited.headers["retry-after"] == "2"  # only when asked for


def test_scripted_faults_are_consumed_in_order(send: tuple[FakePlatform, Send]) -> None:
    platform, request = send
    platform.fail_next("overloaded")
    platform.fail_next("unavailable")
    statuses = [request("POST", ZHIPU, json={"model": "glm-image", "prompt": "p"}, headers=AUTH) for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 503, 200]
    assert statuses[1].headers["content-type"] == "text/html"


def statuses(platform: FakePlatform, count: int) -> list[int]:
    """The answers of ``count`` valid generation requests, straight to the platform (0: dropped)."""
    answers = []
    for _ in range(count):
        reply = platform.handle(
            FakeRequest(
                method="POST",
                path=ZHIPU,
                origin="http://fake.test",
                headers={"authorization": "Bearer k"},
                body=b'{"model": "cogview-4", "prompt": "a cat"}',
            )
        )
        platform.finish(reply)
        answers.append(reply.status)
    return answers


def test_fault_rates_inject_faults_at_random_repeatably_and_after_scripted_ones() -> None:
    rates = {"server_error": 0.25, "drop": 0.25}
    answers = statuses(FakePlatform(fault_rates=rates, seed=7), 400)
    assert statuses(FakePlatform(fault_rates=rates, seed=7), 400) == answers  # same seed, same run
    for status in (200, 500, 0):
        assert 0.15 < answers.count(status) / 400 < 0.65, (status, answers.count(status))
    assert set(statuses(FakePlatform(fault_rates={"unavailable": 1.0}), 20)) == {503}
    assert set(statuses(FakePlatform(fault_rates={"unavailable": 0.0}), 20)) == {200}
    scripted = FakePlatform(fault_rates={"unavailable": 1.0})
    scripted.fail_next("no_balance")
    assert statuses(scripted, 2) == [429, 503]


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ({"meteor": 0.1}, "unknown fault 'meteor'; choose from rate_limit, "),
        ({"drop": 1.5}, "the rate of drop must be between 0 and 1, got 1.5"),
        ({"drop": 0.6, "server_error": 0.6}, "fault rates add up to 1.2, more than 1"),
    ],
)
def test_bad_fault_rates_are_refused_with_the_reason(rates: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FakePlatform(fault_rates=rates)
    platform = FakePlatform()
    with pytest.raises(ValueError, match=re.escape(message)):
        platform.fault_rates = rates
    assert platform.fault_rates == {}


def test_scripting_an_unknown_fault_is_refused_with_the_known_ones() -> None:
    platform = FakePlatform()
    with pytest.raises(ValueError, match=re.escape("unknown fault 'meteor'; choose from rate_limit, overloaded")):
        platform.fail_next("meteor")  # type: ignore[arg-type]
    assert statuses(platform, 1) == [200]


def test_dropped_connection(send: tuple[FakePlatform, Send]) -> None:
    platform, request = send
    platform.fail_next("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        request("POST", ZHIPU, json={"model": "glm-image", "prompt": "p"}, headers=AUTH)
    assert request("POST", ZHIPU, json={"model": "glm-image", "prompt": "p"}, headers=AUTH).status_code == 200


def test_per_key_concurrency_limit_answers_1302_with_retry_after() -> None:
    platform = FakePlatform(concurrency_limit=1, retry_after=3)
    with running_fake_server(platform) as server:
        server.hold()  # every request is decided while the others are in flight, whatever the machine's load

        def call(key: str) -> httpx.Response:
            return httpx.post(
                f"{server.url}{ZHIPU}",
                json={"model": "glm-image", "prompt": "p"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=120,
            )

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            calls = [pool.submit(call, key) for key in ["a", "a", "b", "b"]]
            deadline = time.monotonic() + 60  # a bound for a broken server, not a measurement
            while platform.received < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.release()
            responses = [answer.result() for answer in calls]
    by_key = sorted(r.status_code for r in responses[:2]), sorted(r.status_code for r in responses[2:])
    assert by_key == ([200, 429], [200, 429])
    limited = [r for r in responses if r.status_code == 429]
    assert {error_of(r)["code"] for r in limited} == {"1302"}
    assert {r.headers["retry-after"] for r in limited} == {"3"}
    assert platform.max_in_flight == 2
    assert platform.in_flight == 0


def test_a_held_server_decides_and_counts_requests_but_answers_only_when_released() -> None:
    platform = FakePlatform(concurrency_limit=5)
    with running_fake_server(platform) as server, concurrent.futures.ThreadPoolExecutor(1) as pool:
        server.hold()
        try:
            body = {"model": "glm-image", "prompt": "p"}
            headers = {"Authorization": "Bearer k"}
            answer = pool.submit(httpx.post, f"{server.url}{ZHIPU}", json=body, headers=headers, timeout=120)
            deadline = time.monotonic() + 60  # a bound for a broken server, not a measurement
            while platform.received == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert platform.received == 1
            assert platform.in_flight == 1  # decided: it holds its key's slot
            assert not answer.done()
        finally:
            server.release()
        assert answer.result().status_code == 200
    assert platform.in_flight == 0


@pytest.mark.parametrize("size", ["1000x1000", "256x256"])
def test_a_dall_e_3_size_error_names_dall_e_3_s_sizes_only(size: str) -> None:
    """The schema lists every model's sizes at once; the model's own rule speaks first."""
    with running_fake_server(FakePlatform()) as server:
        answer = httpx.post(
            f"{server.url}/v1/images/generations",
            json={"model": "dall-e-3", "prompt": "a cat", "size": size},
            headers={"Authorization": "Bearer k"},
        )
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert "the model offers only 1024x1024, 1792x1024, 1024x1792" in message
    assert "512x512" not in message


def test_records_are_bounded_and_keep_no_key() -> None:
    platform = FakePlatform(record_limit=3)
    with ImagesClient(
        api_key="sk-private",
        base_url="http://f.test/api/paas/v4",
        http_client=httpx.Client(transport=FakeTransport(platform)),
    ) as client:
        for index in range(5):
            client.generate(f"cat {index}")
    assert [r.json["prompt"] for r in platform.requests] == ["cat 2", "cat 3", "cat 4"]
    assert "sk-private" not in repr(platform.requests)


def test_images_are_deterministic_from_the_prompt() -> None:
    assert make_png(64, 32, "a") == make_png(64, 32, "a")
    assert make_png(64, 32, "a") != make_png(64, 32, "b")
    assert png_size(make_png(2048, 2048, "big")) == (2048, 2048)


def test_client_over_a_dropped_connection_recovers_by_retrying() -> None:
    platform = FakePlatform()
    platform.fail_next("drop", times=2)
    client = ImagesClient(
        api_key="k",
        base_url="http://f.test/api/paas/v4",
        max_retries=1,
        http_client=httpx.Client(transport=FakeTransport(platform)),
    )
    with pytest.raises(APIConnectionError):
        client.generate("p")
    assert len(client.generate("p").images) == 1


def test_server_answers_another_sdk_style_client() -> None:
    """An OpenAI-style client: posts to base_url + /images/generations with only the documented fields."""
    with running_fake_server() as server:
        response = httpx.post(
            f"{server.url}/v1/images/generations",
            content=json.dumps({"model": "dall-e-3", "prompt": "一只猫", "size": "1024x1024"}),
            headers={"Authorization": "Bearer any", "Content-Type": "application/json"},
        )
    assert response.status_code == 200
    assert response.json()["data"][0]["url"].startswith(server.url)


def test_pytest_plugin_fixture_as_a_service_would_use_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from zhipu_images import ImagesClient, RateLimitError
        import pytest

        def test_service(fake_images_api):
            fake_images_api.fail_next("no_balance")
            client = ImagesClient(api_key="test")
            with pytest.raises(Exception) as info:
                client.generate("a cat")
            assert type(info.value).__name__ == "InsufficientBalanceError"
            result = client.generate("a cat", model="cogview-4")
            assert result.request.size == "1024x1024"
            assert [r.status for r in fake_images_api.requests] == [429, 200]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_settings_set_on_the_fixture_reach_the_platform(fake_images_api: FakeImagesAPI) -> None:
    fake_images_api.balance_exhausted = True
    with pytest.raises(InsufficientBalanceError):
        ImagesClient(api_key="k").generate("a cat")
    assert fake_images_api.platform.balance_exhausted is True
    fake_images_api.balance_exhausted = False
    fake_images_api.content_filter_words = ("tabby",)
    with pytest.raises(ContentFilterError):
        ImagesClient(api_key="k").generate("a tabby cat")
    assert fake_images_api.received == 2


def test_fake_server_reports_what_it_served_when_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "zhipu_images", "fake-server", "--port", "0", "--latency", "0.05"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    url = process.stderr.readline().strip().removeprefix("fake platform on ")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda i: _post_generation(url, f"cat {i}"), range(6)))
    process.send_signal(signal.SIGINT)
    report = process.communicate(timeout=10)[1]
    assert statuses == [200] * 6
    assert "served 6 generation requests" in report
    assert "6 generated (paid); 0 tasks submitted (paid), 0 polls; 0.300 s of simulated latency in all" in report
    in_flight = re.search(r"at most (\d+) in flight", report)
    assert in_flight is not None
    assert 1 <= int(in_flight[1]) <= 3  # never more than the three workers sending


def _post_generation(url: str, prompt: str) -> int:
    body = {"model": "glm-image", "prompt": prompt}
    return httpx.post(f"{url}{ZHIPU}", json=body, headers=AUTH, timeout=10).status_code


class _Clock:
    """A monotonic clock that moves only when told to, or by the time slept on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class _SlowToCheck(FakePlatform):
    """A platform that takes ``cost`` seconds of the clock to check each request."""

    def __init__(self, clock: _Clock, cost: float, **settings: Any) -> None:
        super().__init__(**settings)
        self.clock, self.cost = clock, cost

    def handle(self, request: FakeRequest) -> FakeReply:
        self.clock.now += self.cost
        return super().handle(request)


@pytest.mark.parametrize(("cost", "slept"), [(0.04, [0.06]), (0.25, [])])
def test_the_server_counts_its_latency_from_the_request_s_arrival(
    monkeypatch: pytest.MonkeyPatch, cost: float, slept: list[float]
) -> None:
    """The time the server spends reading and checking a request is part of the simulated latency, not added to it
    (a benchmark's ideal is the latency alone); a request that took longer than the latency is answered at once."""
    import zhipu_images.fake._server

    clock = _Clock()
    monkeypatch.setattr(zhipu_images.fake._server, "time", clock)
    platform = _SlowToCheck(clock, cost, latency=0.1)
    with running_fake_server(platform) as server:
        assert _post_generation(server.url, "a cat") == 200
    assert clock.slept == pytest.approx(slept)


def test_a_small_answer_leaves_the_server_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers and body together, as a real server sends a small answer: in two writes, every answer cost the
    client a second wake-up, and the benchmark's ideal time has none of that."""
    writes: list[tuple[int, int]] = []  # (local port, bytes) of every send on a socket
    send, sendall = socket.socket.send, socket.socket.sendall

    def recorded(method: Callable[..., Any]) -> Callable[..., Any]:
        def write(self: socket.socket, data: bytes, *args: Any) -> Any:
            writes.append((self.getsockname()[1], len(data)))
            return method(self, data, *args)

        return write

    monkeypatch.setattr(socket.socket, "send", recorded(send))
    monkeypatch.setattr(socket.socket, "sendall", recorded(sendall))
    with running_fake_server(FakePlatform()) as server, httpx.Client(headers=AUTH, timeout=10) as client:
        port = int(server.url.rsplit(":", 1)[1])
        answer = client.post(f"{server.url}{ZHIPU}", json={"model": "glm-image", "prompt": "a cat"})
        image = client.get(answer.json()["data"][0]["url"])
    answered = [size for local, size in writes if local == port]
    assert len(answered) == 2, answered  # one write for the answer, one for the image
    assert answered[0] >= len(answer.content) + 100
    assert answered[1] > len(image.content)


_FIRST_REQUESTS_PROBE = """
import json, sys
from zhipu_images._spec_schemas import schema_validator
from zhipu_images.fake import FakePlatform, FakeServer
from zhipu_images.fake._platform import FakeRequest

platform = FakePlatform()
server = FakeServer("127.0.0.1", 0, platform)
untouched = platform.received == 0 and platform.requests == []
modules, built = set(sys.modules), schema_validator.cache_info().misses
statuses = []
for path, body in (
    ("/api/paas/v4/images/generations", {"model": "cogview-4", "prompt": "a cat", "size": "1024x1024"}),
    ("/v1/images/generations", {"model": "dall-e-3", "prompt": "a cat"}),
):
    headers = {"authorization": "Bearer k"}
    reply = platform.handle(FakeRequest("POST", path, "http://x", headers, json.dumps(body).encode()))
    statuses.append(reply.status)
server.server_close()
print(json.dumps({"untouched": untouched, "imported": sorted(set(sys.modules) - modules),
                  "built": schema_validator.cache_info().misses - built, "statuses": statuses}))
"""


def test_a_made_server_is_set_up_for_its_first_requests_and_counts_none_of_it() -> None:
    """A made server has done what its first requests would otherwise do on their way (import jsonschema, build
    the validators: 54-85 ms, which a client started at once waited out), and counted none of it as a request.
    In a fresh interpreter: this one has long imported everything."""
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_REQUESTS_PROBE], capture_output=True, text=True, env=child_env(), check=True
    )
    seen = json.loads(done.stdout)
    assert seen == {"untouched": True, "imported": [], "built": 0, "statuses": [200, 200]}


class _SlowToFinish(FakePlatform):
    """A platform whose handler threads are slow to release their slot (as a loaded machine deschedules them)."""

    def finish(self, reply: FakeReply) -> None:
        time.sleep(0.1)
        super().finish(reply)


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_a_client_exactly_at_the_concurrency_limit_is_never_refused(driver: str) -> None:
    """The fake frees a request's slot before its answer leaves, as the platform counts requests in flight:
    a client that sends its next request only after reading an answer must never see 1302."""
    platform = _SlowToFinish(concurrency_limit=1)
    with running_fake_server(platform) as server:
        options: dict[str, Any] = {"api_key": "k", "base_url": f"{server.url}/api/paas/v4", "max_retries": 0}
        for i in range(3):  # a client per request: a new connection, served by another handler thread
            if driver == "sync":
                with ImagesClient(**options) as client:
                    client.generate(f"cat {i}", model="cogview-3-flash")
            else:

                async def main(prompt: str) -> None:
                    async with AsyncImagesClient(**options) as client:
                        await client.generate(prompt, model="cogview-3-flash")

                asyncio.run(main(f"cat {i}"))
    assert [request.status for request in platform.requests] == [200, 200, 200]


def test_fake_server_stops_at_once_with_an_idle_client_connection_open() -> None:
    """Ctrl-C must not wait for a client to hang up: a killed client never does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "zhipu_images", "fake-server", "--port", "0"], stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        host, port = process.stderr.readline().strip().removeprefix("fake platform on http://").split(":")
        with socket.create_connection((host, int(port))) as idle:
            idle.sendall(b"GET /nothing HTTP/1.1\r\nHost: fake\r\n\r\n")
            assert idle.recv(1000).startswith(b"HTTP/1.1 404")
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0  # while the connection is still open
    finally:
        process.kill()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_fake_server_stops_on_sigint_and_sigterm_even_started_in_the_background(stop: signal.Signals) -> None:
    """A shell starts background jobs with SIGINT ignored; the server must still stop when told to."""

    def like_a_background_job() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = subprocess.Popen(
        [sys.executable, "-m", "zhipu_images", "fake-server", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=like_a_background_job,
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline().startswith("fake platform on http://")
        process.send_signal(stop)
        assert process.wait(timeout=10) == 0
        assert "served 0 generation requests" in process.stderr.read()
    finally:
        process.kill()


def _raw_exchange(url: str, request: bytes) -> bytes:
    """Send ``request`` as written to the server at ``url``; its whole answer, within 30 s."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        (b"Content-Length: -1\r\n", b"", b"400"),
        (b"Content-Length: 12abc\r\n", b"", b"400"),
        (b"Content-Length: 104857600\r\n", b"{", b"413"),  # 100 MB announced: refused unread
    ],
)
def test_the_fake_server_refuses_bodies_it_cannot_or_will_not_read(headers: bytes, body: bytes, status: bytes) -> None:
    with running_fake_server() as server:
        answer = _raw_exchange(
            server.url,
            b"POST /api/paas/v4/images/generations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
            + headers
            + b"Connection: close\r\n\r\n"
            + body,
        )
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    assert b'"code": "1210"' in answer


def test_a_body_nested_100000_deep_is_a_400_not_a_crash() -> None:
    with running_fake_server() as server, httpx.Client() as http:
        body = b"[" * 100_000 + b"]" * 100_000
        answer = http.post(
            f"{server.url}/api/paas/v4/images/generations", content=body, headers={"Authorization": "Bearer k"}
        )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "1210"
