"""pytest plugin (registered through the ``pytest11`` entry point): the ``fake_images_api`` fixture.

    def test_cover_image(fake_images_api):
        fake_images_api.fail_next("rate_limit")
        result = ImagesClient(api_key="test").generate("a cat")
        assert fake_images_api.requests[-1].json["model"] == "glm-image"

Imports nothing heavy until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from . import FakeImagesAPI, FakeServerProcess


@pytest.fixture
def fake_images_api() -> Iterator[FakeImagesAPI]:
    """The fake platform, mocked into every httpx client for the test; ``.requests`` records what it received."""
    from . import FakeImagesAPI

    with FakeImagesAPI() as fake:
        yield fake


@pytest.fixture
def fake_images_server() -> Iterator[FakeServerProcess]:
    """The fake platform as a real HTTP server process on a free loopback port, for clients on any stack:
    ``.zhipu_base_url``, ``.openai_base_url``, ``.environment()``. For options, use
    ``zhipu_images.fake.fake_images_server(**options)`` in a fixture of your own."""
    from . import fake_images_server as start

    with start() as server:
        yield server
