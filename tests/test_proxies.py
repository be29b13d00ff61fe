"""Proxies, as httpx honours them: ``proxy=`` and the proxy variables, through a real proxy on loopback
(``tests/proxy_server.py``), for the sync client, the async client and downloads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.processes import PROXY_VARIABLES
from tests.proxy_server import ProxyServer, running_proxy, tls_front
from zhipu_images import APIConnectionError, AsyncImagesClient, ConfigurationError, ImagesClient, ImagesError
from zhipu_images._transports.proxies import environment_proxies
from zhipu_images.fake import FakePlatform, FakeServer, running_fake_server

KEY = "proxy-test-key.secret1234"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def platform() -> Iterator[FakeServer]:
    with running_fake_server(FakePlatform(api_key=KEY)) as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[ProxyServer]:
    with running_proxy() as server:
        yield server


def generate_and_download(client_class: type, base_url: str, folder: Path, **options: object) -> Path:
    """One image generated and downloaded by a client of ``client_class``; the file's path."""
    if client_class is ImagesClient:
        with ImagesClient(api_key=KEY, base_url=base_url, max_retries=0, **options) as client:  # type: ignore[arg-type]
            return client.download(client.generate("a cat", model="cogview-3-flash").images[0], folder)

    async def run() -> Path:
        async with AsyncImagesClient(api_key=KEY, base_url=base_url, max_retries=0, **options) as client:  # type: ignore[arg-type]
            result = await client.generate("a cat", model="cogview-3-flash")
            return await client.download(result.images[0], folder)

    return asyncio.run(run())


CLIENTS = pytest.mark.parametrize("client_class", [ImagesClient, AsyncImagesClient], ids=["sync", "async"])


@CLIENTS
def test_http_proxy_carries_the_request_and_the_download(
    client_class: type, env: pytest.MonkeyPatch, platform: FakeServer, proxy: ProxyServer, tmp_path: Path
) -> None:
    env.setenv("HTTP_PROXY", proxy.url)
    saved = generate_and_download(client_class, f"{platform.url}/api/paas/v4", tmp_path)
    assert saved.read_bytes().startswith(b"\x89PNG")
    relayed = [(r.method, r.target.split("/", 3)[-1]) for r in proxy.relayed]
    assert relayed[0] == ("POST", "api/paas/v4/images/generations")
    assert relayed[1][0] == "GET"
    assert relayed[1][1].endswith(".png")
    assert platform.platform.generated == 1


@CLIENTS
def test_no_proxy_sends_directly(
    client_class: type, env: pytest.MonkeyPatch, platform: FakeServer, proxy: ProxyServer, tmp_path: Path
) -> None:
    env.setenv("HTTP_PROXY", proxy.url)
    env.setenv("NO_PROXY", "localhost,127.0.0.1")
    generate_and_download(client_class, f"{platform.url}/api/paas/v4", tmp_path)
    assert proxy.relayed == []
    assert platform.platform.generated == 1


@CLIENTS
def test_the_proxy_argument_wins_over_the_environment_and_sends_its_credentials(
    client_class: type, env: pytest.MonkeyPatch, platform: FakeServer, tmp_path: Path
) -> None:
    env.setenv("NO_PROXY", "*")  # the argument applies even where the environment says no proxy
    with running_proxy(credentials="user:pa55word") as guarded:
        authority = guarded.url.removeprefix("http://")
        generate_and_download(
            client_class, f"{platform.url}/api/paas/v4", tmp_path, proxy=f"http://user:pa55word@{authority}"
        )
    assert [r.method for r in guarded.relayed] == ["POST", "GET"]
    assert platform.platform.generated == 1


@CLIENTS
def test_a_proxy_that_refuses_the_credentials_fails_without_showing_them(
    client_class: type, env: pytest.MonkeyPatch, platform: FakeServer, tmp_path: Path
) -> None:
    with running_proxy(credentials="user:right") as guarded:
        authority = guarded.url.removeprefix("http://")
        with pytest.raises(ImagesError) as caught:
            generate_and_download(
                client_class, f"{platform.url}/api/paas/v4", tmp_path, proxy=f"http://u:wr0ng@{authority}"
            )
    assert "asks for credentials; give them in the proxy URL" in str(caught.value)
    assert "wr0ng" not in str(caught.value)
    assert platform.platform.generated == 0


def test_a_tunnel_refused_for_its_credentials_says_so(env: pytest.MonkeyPatch) -> None:
    """For an https:// platform the proxy refuses the CONNECT: nothing reached the platform."""
    with running_proxy(credentials="user:right") as guarded:
        env.setenv("HTTPS_PROXY", guarded.url.replace("http://", "http://u:wr0ng@"))
        client = ImagesClient(api_key=KEY, base_url="https://platform.invalid/api/paas/v4", max_retries=0)
        with client, pytest.raises(APIConnectionError, match=r"proxy refused the connection: .* asks for credentials"):
            client.generate("a cat", model="cogview-3-flash")
        assert [r.method for r in guarded.relayed] == ["CONNECT"]


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@CLIENTS
def test_https_goes_through_a_tunnel_and_the_key_never_crosses_the_proxy_in_the_clear(
    client_class: type,
    env: pytest.MonkeyPatch,
    platform: FakeServer,
    proxy: ProxyServer,
    authority: trustme.CA,
    tmp_path: Path,
) -> None:
    import ssl

    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_tls)
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    env.setenv("SSL_CERT_FILE", str(ca))
    env.setenv("HTTPS_PROXY", proxy.url)
    with tls_front(server_tls, int(platform.url.rsplit(":", 1)[1])) as port:
        base_url = f"https://localhost:{port}/api/paas/v4"
        if client_class is ImagesClient:
            with ImagesClient(api_key=KEY, base_url=base_url, max_retries=0) as client:
                client.generate("a cat", model="cogview-3-flash")
        else:

            async def run() -> None:
                async with AsyncImagesClient(api_key=KEY, base_url=base_url, max_retries=0) as client:
                    await client.generate("a cat", model="cogview-3-flash")

            asyncio.run(run())
    assert [(r.method, r.target) for r in proxy.relayed] == [("CONNECT", f"localhost:{port}")]
    assert "authorization" not in proxy.relayed[0].headers
    assert proxy.tunnelled  # the exchange went through the tunnel, encrypted
    assert KEY.encode() not in proxy.tunnelled
    assert b"Bearer" not in proxy.tunnelled
    assert platform.platform.generated == 1


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        ("ftp://proxy.internal:21", ConfigurationError, "proxy: not a proxy URL (ftp://proxy.internal:21); expected"),
        ("http://user:hunter2@", ConfigurationError, "not a proxy URL (http://***@)"),
        (3128, TypeError, "proxy: expected a proxy URL (str) or an httpx.Proxy, got int"),
    ],
)
def test_a_bad_proxy_is_refused_when_the_client_is_made(value: object, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as caught:
        ImagesClient(api_key=KEY, proxy=value)  # type: ignore[arg-type]
    assert words in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_bad_proxy_variable_is_named_without_its_password(env: pytest.MonkeyPatch) -> None:
    env.setenv("HTTPS_PROXY", "gopher://user:hunter2@proxy.internal")
    with pytest.raises(ConfigurationError, match="HTTPS_PROXY") as caught:
        ImagesClient(api_key=KEY)
    assert "hunter2" not in str(caught.value)


def test_a_proxy_and_an_http_client_are_not_both_taken() -> None:
    import httpx

    with httpx.Client() as http, pytest.raises(ConfigurationError, match="set the proxy on the http_client"):
        ImagesClient(api_key=KEY, http_client=http, proxy="http://proxy.internal:3128")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"HTTP_PROXY": "proxy:3128"}, {"http://": "http://proxy:3128"}),
        (
            {"HTTPS_PROXY": "http://p:1", "ALL_PROXY": "socks5://s:2"},
            {"https://": "http://p:1", "all://": "socks5://s:2"},
        ),
        (
            {"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1, ::1, localhost, .corp.example, http://direct"},
            {
                "http://": "http://p:1",
                "all://127.0.0.1": None,
                "all://[::1]": None,
                "all://localhost": None,
                "all://*.corp.example": None,
                "http://direct": None,
            },
        ),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "*"}, {}),
    ],
)
def test_the_proxy_variables_are_read_as_httpx_reads_them(
    env: pytest.MonkeyPatch, variables: dict[str, str], expected: dict[str, str | None]
) -> None:
    for name, value in variables.items():
        env.setenv(name, value)
    assert environment_proxies() == expected
