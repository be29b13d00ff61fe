"""The clients' behaviour beyond errors: configuration, what is sent, concurrency, downloads, secrets."""

from __future__ import annotations

import asyncio
import errno
import io
import json
import logging
import os
import re
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import zhipu_images._async_client
import zhipu_images._client
from tests.drivers import DRIVERS, AsyncDriver, Driver, SyncDriver
from zhipu_images import (
    TIERS,
    AsyncImagesClient,
    ConfigurationError,
    ContentFilterError,
    DownloadError,
    GeneratedImage,
    ImagesClient,
    ImagesError,
    RateLimitError,
    RequestValidationError,
    validate_request,
)
from zhipu_images.fake import FakeImagesAPI, FakePlatform, FakeTransport, make_png, png_size

URL = "https://open.bigmodel.cn/api/paas/v4/images/generations"
KEY = "sk-SECRET-0123456789abcdef"


@pytest.fixture(params=DRIVERS, ids=lambda d: d.kind)
def driver(request: pytest.FixtureRequest) -> Driver:
    cls: type[Driver] = request.param
    return cls(max_retries=0)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    async def async_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(zhipu_images._client, "_sleep", lambda seconds: None)
    monkeypatch.setattr(zhipu_images._async_client, "_async_sleep", async_sleep)


# --- configuration ---------------------------------------------------------------


@pytest.mark.parametrize("client_class", [ImagesClient, AsyncImagesClient])
def test_missing_key_fails_at_construction_naming_the_variables(
    clean_env: pytest.MonkeyPatch, client_class: type[Any]
) -> None:
    with pytest.raises(ConfigurationError, match="ZHIPUAI_API_KEY or ZAI_API_KEY"):
        client_class()


def test_key_comes_from_zhipuai_then_zai(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ZAI_API_KEY", "zai-key")
    assert ImagesClient()._headers["Authorization"] == "Bearer zai-key"
    clean_env.setenv("ZHIPUAI_API_KEY", "zhipuai-key")
    assert ImagesClient()._headers["Authorization"] == "Bearer zhipuai-key"
    assert ImagesClient(api_key="explicit")._headers["Authorization"] == "Bearer explicit"


def test_openai_key_only_counts_for_an_openai_compatible_endpoint(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OPENAI_API_KEY", "openai-key")
    with pytest.raises(ConfigurationError):
        ImagesClient()
    client = ImagesClient(base_url="https://gateway.test/v1")
    assert client._headers["Authorization"] == "Bearer openai-key"


def test_base_url_convention_and_environment(clean_env: pytest.MonkeyPatch) -> None:
    with respx.mock() as mock:
        route = mock.post("https://proxy.test/zhipu/api/paas/v4/images/generations").respond(
            200, json={"created": 1, "data": [{"url": "https://cdn.test/a.png"}]}
        )
        clean_env.setenv("ZAI_BASE_URL", "https://proxy.test/zhipu/api/paas/v4/")
        ImagesClient(api_key="k").generate("a cat")
        assert route.call_count == 1


def test_openai_models_need_an_openai_endpoint_and_nothing_is_sent(clean_env: pytest.MonkeyPatch) -> None:
    with respx.mock() as mock:
        with pytest.raises(ConfigurationError, match="openai_base_url"):
            ImagesClient(api_key="k").generate("a cat", model="dall-e-3")
        assert mock.calls.call_count == 0


def test_endpoint_for_says_where_a_request_goes_before_sending(clean_env: pytest.MonkeyPatch) -> None:
    dall_e, glm = validate_request("dall-e-3", "a cat"), validate_request("glm-image", "a cat")
    zhipu_only = ImagesClient(api_key="k", base_url="https://zhipu.test/api/paas/v4")
    assert zhipu_only.endpoint_for(glm) == "https://zhipu.test/api/paas/v4/images/generations"
    with pytest.raises(ConfigurationError, match="dall-e-3 is served by OpenAI-compatible endpoints"):
        zhipu_only.endpoint_for(dall_e)
    both = AsyncImagesClient(api_key="k", openai_base_url="https://gateway.test/v1/")
    assert both.endpoint_for(dall_e) == "https://gateway.test/v1/images/generations"


@pytest.mark.parametrize(
    "bad",
    [
        {"max_concurrency": 0},
        {"max_concurrency": "V9"},
        {"max_concurrency": 2.5},
        {"max_retries": -1},
        {"max_retries": True},
        {"base_url": "ftp://x"},
        {"timeout": 0},
        {"timeout": "60"},
        {"max_download_bytes": 0},
        {"max_download_bytes": "1MB"},
    ],
)
@pytest.mark.parametrize("client_class", [ImagesClient, AsyncImagesClient])
def test_bad_options_are_configuration_errors_naming_the_option(
    client_class: type[ImagesClient | AsyncImagesClient], bad: dict[str, Any]
) -> None:
    [(option, value)] = bad.items()
    with pytest.raises(ConfigurationError, match=f"^{option}: .*{re.escape(repr(value))}"):
        client_class(api_key="k", **bad)


def test_timeout_is_seconds_none_or_an_httpx_timeout() -> None:
    assert ImagesClient(api_key="k", timeout=5)._http.timeout == httpx.Timeout(5.0, connect=5.0)
    assert ImagesClient(api_key="k", timeout=None)._http.timeout.read is None
    custom = httpx.Timeout(3.0, read=90.0)
    assert ImagesClient(api_key="k", timeout=custom)._http.timeout == custom


@pytest.mark.parametrize(
    ("client_timeout", "call_timeout", "read"),
    [
        (42.0, 5, 5.0),
        (42.0, None, None),
        (42.0, httpx.Timeout(1.0, read=300.0), 300.0),
        (42.0, "left out", 42.0),
    ],
)
def test_a_per_call_timeout_applies_to_every_request_of_that_call(
    driver: Driver, client_timeout: float, call_timeout: Any, read: float | None
) -> None:
    with respx.mock() as mock:
        route = mock.post(url__regex=r"/images/generations$").respond(
            200, json={"created": 1, "data": [{"url": "https://cdn.test/a.png"}]}
        )
        options = {} if call_timeout == "left out" else {"timeout": call_timeout}
        type(driver)(timeout=client_timeout).generate("a cat", model="cogview-4", n=2, **options)
    assert [call.request.extensions["timeout"]["read"] for call in route.calls] == [read, read]


def test_a_bad_per_call_timeout_is_refused_before_sending(driver: Driver) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(url__regex=r"/images/generations$").respond(200, json={})
        with pytest.raises(ConfigurationError, match=r"^timeout: must be seconds > 0"):
            driver.generate("a cat", timeout=-1)
    assert not route.called


def test_a_bad_download_cap_is_refused_before_anything_is_fetched(driver: Driver, tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get("https://cdn.test/x.png").respond(200, content=make_png(8, 8, "x"))
        with pytest.raises(ConfigurationError, match="max_bytes: must be an integer >= 1, got 0"):
            driver.download(GeneratedImage(url="https://cdn.test/x.png"), tmp_path, max_bytes=0)
    assert not route.called
    assert list(tmp_path.iterdir()) == []


def test_tiers_are_presets() -> None:
    assert dict(TIERS) == {"V0": 5, "V1": 10, "V2": 15, "V3": 20}
    assert ImagesClient(api_key="k", max_concurrency="v2").max_concurrency == 15


def test_invalid_request_is_rejected_before_sending(driver: Driver) -> None:
    with respx.mock() as mock:
        with pytest.raises(RequestValidationError, match="nearest valid size"):
            driver.generate("a cat", model="cogview-4", size="1000x1000")
        assert mock.calls.call_count == 0


# --- what is sent and what comes back ----------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected_body"),
    [
        ({"model": "cogview-4"}, {"model": "cogview-4", "prompt": "p", "quality": "standard", "size": "1024x1024"}),
        (
            {"model": "glm-image", "size": "1568×1056"},
            {"model": "glm-image", "prompt": "p", "quality": "hd", "size": "1568x1056"},
        ),
        (
            {"model": "cogview-4-250304", "quality": "hd", "user_id": "user-42", "watermark_enabled": False},
            {
                "model": "cogview-4-250304",
                "prompt": "p",
                "quality": "hd",
                "size": "1024x1024",
                "user_id": "user-42",
                "watermark_enabled": False,
            },
        ),
    ],
)
def test_zhipu_body_carries_the_models_own_defaults(
    driver: Driver, params: dict[str, Any], expected_body: dict[str, Any]
) -> None:
    with FakeImagesAPI() as fake:
        result = driver.generate("p", **params)
    assert fake.requests[-1].json == expected_body
    assert result.request is not None
    assert result.request.size == expected_body["size"]


def test_dall_e_2_body_has_no_dall_e_3_fields(driver: Driver) -> None:
    openai = type(driver)(max_retries=0, openai_base_url="https://gateway.test/v1")
    with FakeImagesAPI() as fake:
        result = openai.generate("p", model="dall-e-2", n=3)
    body = fake.requests[-1].json
    assert body == {"model": "dall-e-2", "prompt": "p", "n": 3, "size": "1024x1024", "response_format": "url"}
    assert len(result.images) == 3
    assert fake.requests[-1].path == "/v1/images/generations"


def test_extra_body_fields_are_sent_beside_the_checked_ones(driver: Driver) -> None:
    with FakeImagesAPI() as fake:
        driver.generate("a cat", model="cogview-4", extra_body={"new_parameter": True, "seed": 7})
    sent = fake.requests[-1].json
    assert sent["new_parameter"] is True
    assert sent["seed"] == 7
    assert sent["size"] == "1024x1024"


@pytest.mark.parametrize(
    ("model", "extra_body", "rule", "hint"),
    [
        ("cogview-4", {"size": "1x1"}, "checked_field", "pass size=... to generate()"),
        ("dall-e-3", {"user": "someone", "quality": "hd"}, "checked_field", "pass quality=... to generate()"),
        ("dall-e-3", {"user": "someone"}, "checked_field", "pass user_id=... to generate()"),
        ("cogview-4", ["new_parameter"], "type", "must be a mapping"),
        ("cogview-4", {1: True}, "type", "must be a mapping"),
    ],
)
def test_extra_body_cannot_bypass_the_rules_and_nothing_is_sent(
    driver: Driver, model: str, extra_body: Any, rule: str, hint: str
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(url__regex=r"/images/generations$").respond(200, json={})
        with pytest.raises(RequestValidationError) as raised:
            type(driver)(openai_base_url="https://gateway.test/v1").generate(
                "a cat", model=model, extra_body=extra_body
            )
    assert (raised.value.field, raised.value.rule) == ("extra_body", rule)
    assert hint in str(raised.value)
    assert not route.called


def test_responses_are_read_tolerantly(driver: Driver) -> None:
    body = {
        "created": 1700000000,
        "data": [{"b64_json": "aGVsbG8=", "seed": 7}],
        "content_filter": [{"role": "moderator", "level": 2}, {"role": "user"}],
        "new_top_level_field": True,
    }
    with respx.mock() as mock:
        mock.post(URL).respond(200, json=body)
        result = driver.generate("a cat")
    (image,) = result.images
    assert (image.url, image.b64_json, dict(image.extra)) == (None, "aGVsbG8=", {"seed": 7})
    assert [tuple(note) for note in result.content_filter] == [("moderator", 2), ("user", None)]
    role, level = result.content_filter[0]
    assert (role, level) == ("moderator", 2)
    assert result.created == 1700000000
    assert dict(result.extra) == {"new_top_level_field": True}


def test_n_zhipu_images_are_n_requests_merged(driver: Driver) -> None:
    with FakeImagesAPI() as fake:
        result = driver.generate("a cat", model="cogview-3-flash", n=4)
    assert len(fake.requests) == 4
    assert len({image.url for image in result.images}) == 4  # four generations, four files, as on the platform
    assert len(set(result.request_ids)) == 4
    assert result.request is not None
    assert result.request.n == 4


def test_partial_failure_keeps_the_images_already_paid_for(driver: Driver) -> None:
    with FakeImagesAPI() as fake:
        fake.fail_next("content_filter")
        with pytest.raises(ContentFilterError) as info:
            driver.generate("a cat", n=3)
    partial = info.value.partial_result
    assert partial is not None
    assert len(partial.images) == 2


# --- concurrency -------------------------------------------------------------------


def test_sync_cap_holds_across_threads_and_every_slot_is_used() -> None:
    platform = FakePlatform(latency=0.05)
    client = ImagesClient(
        api_key="k",
        max_concurrency=3,
        base_url="http://f.test/api/paas/v4",
        http_client=httpx.Client(transport=FakeTransport(platform)),
    )
    threads = [threading.Thread(target=client.generate, args=(f"cat {i}",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(platform.requests) == 12
    assert platform.max_in_flight == 3


def test_async_cap_holds_across_tasks_and_every_slot_is_used() -> None:
    platform = FakePlatform(latency=0.05)

    async def main() -> None:
        async with AsyncImagesClient(
            api_key="k",
            max_concurrency="V0",
            base_url="http://f.test/api/paas/v4",
            http_client=httpx.AsyncClient(transport=FakeTransport(platform)),
        ) as client:
            await asyncio.gather(*(client.generate(f"cat {i}") for i in range(20)))

    asyncio.run(main())
    assert len(platform.requests) == 20
    assert platform.max_in_flight == 5


def test_n_requests_respect_the_cap(driver: Driver) -> None:
    platform = FakePlatform(latency=0.03)
    capped = type(driver)(max_retries=0, max_concurrency=2).with_fake(platform)
    assert len(capped.generate("a cat", n=6).images) == 6
    assert platform.max_in_flight == 2


def test_platform_concurrency_limit_is_retried_until_it_passes(driver: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zhipu_images._client, "_sleep", time.sleep)  # real waits: the platform must free a slot
    monkeypatch.setattr(zhipu_images._async_client, "_async_sleep", asyncio.sleep)
    platform = FakePlatform(latency=0.03, concurrency_limit=1, retry_after=0.02)
    retrying = type(driver)(max_retries=10).with_fake(platform)
    assert len(retrying.generate("a cat", n=3).images) == 3
    assert {r.status for r in platform.requests} == {200, 429}


# --- downloads -----------------------------------------------------------------------


def test_download_saves_the_image_under_a_hashed_name(driver: Driver, tmp_path: Path) -> None:
    with FakeImagesAPI():
        result = driver.generate("a cat", size="1568x1056")
        path = driver.download(result.images[0], tmp_path / "out")
    assert path.parent == tmp_path / "out"
    assert path.suffix == ".png"
    assert png_size(path.read_bytes()) == (1568, 1056)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_download_does_not_send_the_api_key_to_the_image_host(driver: Driver, tmp_path: Path) -> None:
    with respx.mock() as mock:
        route = mock.get("https://cdn.test/x.png").respond(200, content=make_png(8, 8, "x"))
        driver.download(GeneratedImage(url="https://cdn.test/x.png"), tmp_path)
    assert "authorization" not in route.calls.last.request.headers


def test_a_kept_url_string_downloads_like_the_image_it_came_from(driver: Driver, tmp_path: Path) -> None:
    with FakeImagesAPI():
        image = driver.generate("a cat", model="cogview-4").images[0]
        assert image.url is not None
        from_url = driver.download(image.url, tmp_path / "by-url")
        from_image = driver.download(image, tmp_path / "by-image")
    assert from_url.name == from_image.name
    assert from_url.read_bytes() == from_image.read_bytes()


@pytest.mark.parametrize("wrong", [None, {"url": "https://cdn.test/x.png"}, 42])
def test_downloading_something_that_is_not_an_image_says_what_it_expects(
    driver: Driver, tmp_path: Path, wrong: Any
) -> None:
    with pytest.raises(
        DownloadError, match=f"expected one of result.images or an image URL, got {type(wrong).__name__}"
    ):
        driver.download(wrong, tmp_path)
    assert _dir_is_empty(tmp_path)


def test_b64_images_are_saved_too(driver: Driver, tmp_path: Path) -> None:
    import base64

    image = GeneratedImage(b64_json=base64.b64encode(make_png(16, 9, "b")).decode())
    path = driver.download(image, tmp_path, filename="cover")
    assert path == tmp_path / "cover.png"
    assert png_size(path.read_bytes()) == (16, 9)


def _dir_is_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(404, text="gone"), "HTTP 404"),
        (httpx.Response(200, text="<html>an error page</html>"), "not an image"),
        (httpx.Response(200, content=make_png(2048, 2048, "big")), "byte cap"),  # ~23 KB
    ],
)
def test_failed_downloads_leave_nothing(driver: Driver, tmp_path: Path, response: httpx.Response, message: str) -> None:
    with respx.mock() as mock:
        mock.get("https://cdn.test/x.png").mock(return_value=response)
        with pytest.raises(DownloadError, match=message):
            driver.download(GeneratedImage(url="https://cdn.test/x.png"), tmp_path, max_bytes=10_000)
    assert _dir_is_empty(tmp_path)


class _BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Yields the start of a PNG, then fails the way a dropped connection or Ctrl-C would."""

    def __init__(self, failure: BaseException) -> None:
        self.failure = failure

    def __iter__(self) -> Iterator[bytes]:
        yield make_png(64, 64, "partial")[:40]
        raise self.failure

    async def __aiter__(self) -> Any:
        yield make_png(64, 64, "partial")[:40]
        raise self.failure


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadError("connection reset"), DownloadError),
        (httpx.DecodingError("corrupt gzip body"), DownloadError),
        (KeyboardInterrupt(), KeyboardInterrupt),
    ],
)
def test_interrupted_download_leaves_no_partial_file(
    driver: Driver, tmp_path: Path, failure: BaseException, expected: type[BaseException]
) -> None:
    with respx.mock() as mock:
        mock.get("https://cdn.test/x.png").mock(return_value=httpx.Response(200, stream=_BrokenStream(failure)))
        with pytest.raises(expected):
            driver.download(GeneratedImage(url="https://cdn.test/x.png"), tmp_path)
    assert _dir_is_empty(tmp_path)


class _FullDisk(io.BytesIO):
    """A file on a full disk: every write fails the way the OS reports it."""

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_a_download_error_and_leaves_no_file(
    driver: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def open_on_full_disk(fd: int, mode: str) -> _FullDisk:
        os.close(fd)
        return _FullDisk()

    monkeypatch.setattr(os, "fdopen", open_on_full_disk)  # how AtomicImageFile opens its temporary file
    with FakeImagesAPI():
        image = driver.generate("a cat", model="cogview-4").images[0]
        with pytest.raises(DownloadError, match=f"cannot write into {re.escape(str(tmp_path))}: No space left"):
            driver.download(image, tmp_path)
    assert _dir_is_empty(tmp_path)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://cdn.test/x.png", "javascript:alert(1)", "/relative.png"])
def test_only_http_urls_are_downloaded(driver: Driver, tmp_path: Path, url: str) -> None:
    with respx.mock() as mock:
        with pytest.raises(DownloadError, match="only http and https"):
            driver.download(GeneratedImage(url=url), tmp_path)
        assert mock.calls.call_count == 0
    assert _dir_is_empty(tmp_path)


def test_url_path_never_names_the_file(driver: Driver, tmp_path: Path) -> None:
    url = "https://cdn.test/a/../../../../etc/cron.d/evil.png"
    with respx.mock() as mock:
        mock.get(url__regex=r".*").respond(200, content=make_png(4, 4, "e"))
        path = driver.download(GeneratedImage(url=url), tmp_path / "dest")
    assert path.parent == tmp_path / "dest"
    assert "evil" not in path.name


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "..", "c:\\x"])
def test_unsafe_filenames_are_refused(driver: Driver, tmp_path: Path, name: str) -> None:
    with pytest.raises(DownloadError, match="plain file name"):
        driver.download(GeneratedImage(url="https://cdn.test/x.png"), tmp_path, filename=name)


def test_invalid_base64_is_a_download_error(driver: Driver, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="base64"):
        driver.download(GeneratedImage(b64_json="not base64!!"), tmp_path)
    assert _dir_is_empty(tmp_path)


# --- lifecycle and secrets ------------------------------------------------------------


def test_a_passed_http_client_is_not_closed_but_our_own_is() -> None:
    mine = httpx.Client()
    with ImagesClient(api_key="k", http_client=mine):
        pass
    assert not mine.is_closed
    own = ImagesClient(api_key="k")
    images = own._image_http
    own.close()
    assert own._http.is_closed
    assert images.is_closed


def test_async_client_closes_what_it_opened() -> None:
    async def main() -> tuple[bool, bool]:
        mine = httpx.AsyncClient()
        async with AsyncImagesClient(api_key="k", http_client=mine):
            pass
        async with AsyncImagesClient(api_key="k") as own:
            images = own._image_http
        return mine.is_closed, own._http.is_closed and images.is_closed

    assert asyncio.run(main()) == (False, True)


@pytest.mark.parametrize("client_class", [ImagesClient, AsyncImagesClient])
def test_downloads_have_a_pool_of_their_own_unless_an_http_client_is_passed(
    client_class: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpx scans every connection of a pool on each request: image connections slowed every generation.
    made: list[ssl.SSLContext] = []  # each distinct TLS context made
    create = httpx.create_ssl_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = create(*args, **kwargs)
        if all(context is not seen for seen in made):
            made.append(context)
        return context

    monkeypatch.setattr(httpx, "create_ssl_context", counted)
    monkeypatch.setattr(httpx._transports.default, "create_ssl_context", counted)  # what a default client calls
    own = client_class(api_key="k")
    assert own._image_http is not own._http
    assert own._image_http is own._image_http  # made once
    assert len(made) == 1  # and no second TLS context (~50 ms)
    mine = (httpx.Client if client_class is ImagesClient else httpx.AsyncClient)()
    assert client_class(api_key="k", http_client=mine)._image_http is mine
    assert len(made) == 2  # mine's own, none more


def _texts(error: BaseException | None) -> Iterator[str]:
    while error is not None:
        yield str(error)
        yield repr(error)
        error = error.__cause__ or error.__context__


def test_the_key_never_appears_in_reprs_errors_or_logs(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    seen: list[str] = [
        repr(ImagesClient(api_key=KEY)),
        str(ImagesClient(api_key=KEY)),
        repr(AsyncImagesClient(api_key=KEY)),
    ]
    echoing = {"error": {"code": "1002", "message": f"Authorization Token非法: {KEY}"}}
    with caplog.at_level(logging.DEBUG):
        for cls in (SyncDriver, AsyncDriver):
            client = cls(api_key=KEY, max_retries=1)
            with respx.mock() as mock:
                route = mock.post(URL)
                for response in (
                    httpx.Response(401, json=echoing),
                    httpx.Response(429, json={"error": {"code": "1302", "message": "busy"}}),
                    httpx.Response(503, text="<html>down</html>"),
                    httpx.ConnectError("connection refused"),
                ):
                    route.side_effect = [response, response] if not isinstance(response, Exception) else response
                    with pytest.raises(ImagesError) as info:
                        client.generate("a cat")
                    seen.extend(_texts(info.value))
            with pytest.raises(RequestValidationError) as invalid:
                client.generate("a cat", size="1x1")
            seen.extend(_texts(invalid.value))
    seen.extend(record.getMessage() for record in caplog.records)
    assert any("Authorization Token非法: ***" in text for text in seen)
    assert caplog.records, "expected log records from the retries"
    assert not [text for text in seen if KEY in text]


def test_an_error_inside_a_200_is_redacted_too(driver: Driver) -> None:
    echoing = {"error": {"code": "1002", "message": f"Authorization Token非法: {KEY}"}}
    keyed = type(driver)(api_key=KEY, max_retries=0)
    with respx.mock() as mock:
        mock.post(URL).respond(200, json=echoing)
        with pytest.raises(ImagesError) as info:
            keyed.generate("a cat")
    assert "Authorization Token非法: ***" in str(info.value)
    assert not [text for text in _texts(info.value) if KEY in text]


def test_a_placeholder_key_too_short_to_be_a_secret_leaves_the_answer_whole(driver: Driver, tmp_path: Path) -> None:
    # The key "k" occurs in "fake-1", the fake's request ids and image URLs: scrubbing it broke every download.
    short = type(driver)(api_key="k", max_retries=0)
    with FakeImagesAPI() as fake:
        result = short.generate("a kitten")
        saved = short.download(result.images[0], tmp_path)
    url = result.images[0].url or ""
    assert "fake-" in url
    assert "***" not in url
    assert result.request_ids[0].startswith("fake-")
    assert png_size(saved.read_bytes()) == (1280, 1280)
    assert fake.generated == 1


def test_recorded_requests_never_keep_the_authorization_header() -> None:
    with FakeImagesAPI() as fake:
        ImagesClient(api_key=KEY).generate("a cat")
    assert KEY not in json.dumps([repr(r) for r in fake.requests])
    assert fake.requests[-1].api_key_given


def test_rate_limit_error_is_raised_after_retries_are_spent(driver: Driver) -> None:
    platform = FakePlatform()
    platform.fail_next("rate_limit", times=5)
    with pytest.raises(RateLimitError):
        type(driver)(max_retries=2).with_fake(platform).generate("a cat")
    assert len(platform.requests) == 3
