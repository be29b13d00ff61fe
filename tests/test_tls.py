"""``_tls``: the TLS context the CLI has made ahead, in a thread, is the one its client verifies with."""

from __future__ import annotations

import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_cli import KEY, against, run
from zhipu_images import AsyncImagesClient, ImagesClient, _tls
from zhipu_images.fake import FakePlatform, FakeServer, running_fake_server


@pytest.fixture
def server(clean_env: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    clean_env.setenv("ZHIPUAI_API_KEY", KEY)
    with running_fake_server(FakePlatform(api_key=KEY)) as running:
        yield running


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ssl.SSLContext, str]]:
    """Each TLS context httpx makes, with the name of the thread that made it."""
    contexts: list[tuple[ssl.SSLContext, str]] = []
    create = httpx.create_ssl_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = create(*args, **kwargs)
        contexts.append((context, threading.current_thread().name))
        return context

    monkeypatch.setattr(httpx, "create_ssl_context", counted)
    return contexts


@pytest.mark.parametrize("client_class", [ImagesClient, AsyncImagesClient])
def test_the_next_client_takes_the_prepared_context_and_later_ones_make_their_own(
    client_class: type[Any], made: list[tuple[ssl.SSLContext, str]]
) -> None:
    _tls.prepare()
    _tls.prepare()  # already under way: nothing more
    first = client_class(api_key=KEY)
    assert len(made) == 1
    assert first._tls is made[0][0]
    assert made[0][1] == "zhipu-images-tls"
    second = client_class(api_key=KEY)
    assert second._tls is made[1][0] is not first._tls
    assert made[1][1] == threading.current_thread().name


def test_a_context_that_cannot_be_made_fails_the_client_as_without_prepare(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        raise ssl.SSLError("no certificates in the bundle")

    monkeypatch.setattr(httpx, "create_ssl_context", broken)
    _tls.prepare()
    with pytest.raises(ssl.SSLError, match="no certificates"):
        ImagesClient(api_key=KEY)
    with pytest.raises(ssl.SSLError, match="no certificates"):  # nothing prepared is left behind
        ImagesClient(api_key=KEY)


@pytest.mark.parametrize("command", ["generate", "batch"])
def test_a_sending_command_prepares_the_context_and_the_fake_does_not(
    command: str,
    server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[None] = []
    monkeypatch.setattr(_tls, "prepare", lambda: calls.append(None))
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n")
    first = [prompts.as_posix()] if command == "batch" else ["a cat"]
    assert run(command, *first, *against(server, tmp_path / "out")).exit_code == 0
    assert len(calls) == 1
    assert run(command, *first, "--fake", "-o", str(tmp_path / "fake")).exit_code == 0
    assert len(calls) == 1


def test_a_process_that_exits_without_taking_the_context_waits_for_it_to_be_made() -> None:
    """A command refusing its input exits while the context is being made; the thread must not be cut off
    inside OpenSSL at exit (the interpreter crashed with SIGSEGV, instead of exiting 2)."""
    script = textwrap.dedent(
        """
        import sys, time
        from zhipu_images import _tls
        make = _tls._make
        def slow():
            time.sleep(0.3)
            context = make()
            print("made", flush=True)
            return context
        _tls._make = slow
        _tls.prepare()
        sys.exit(2)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "made\n"
