"""A fake of the Zhipu image API and of an OpenAI-compatible one, for tests and offline work.

One behaviour (``FakePlatform``), three ways to reach it:

- ``FakeImagesAPI``: a respx mock; also the ``fake_images_api`` pytest fixture;
- ``FakeTransport`` / ``fake_client()``: in process, through httpx;
- ``running_fake_server()`` / ``zhipu-images fake-server``: real HTTP on loopback.

It checks requests against the vendored schema and the per-model rules, answers
with the platform's error codes, serves real PNGs of the requested size, and
simulates content filtering, rate limits, lack of balance, overload, server
errors, latency and dropped connections, scripted one by one or at random rates.
"""

from typing import TYPE_CHECKING, Any

from .._extras import require

# Its request checks are the vendored schema's: the fake comes with the [testing] extra (or [cli], for --fake).
require("the fake platform", "testing", ("jsonschema",))

from ._platform import FakePlatform, FakeReply, FakeRequest, RecordedRequest  # noqa: E402
from ._png import make_png, png_size  # noqa: E402
from ._process import FakeServerProcess, fake_images_server  # noqa: E402
from ._server import FakeServer, running_fake_server  # noqa: E402
from ._settings import FAULTS, Fault, checked_fault_rates, checked_latency  # noqa: E402
from ._transport import FAKE_API_KEY, FAKE_ORIGIN, FakeTransport, fake_async_client, fake_client  # noqa: E402

if TYPE_CHECKING:
    from ._respx import FakeImagesAPI


def __getattr__(name: str) -> Any:
    if name == "FakeImagesAPI":  # the respx mock: respx is needed only by it
        require("FakeImagesAPI (the fake_images_api fixture)", "testing", ("respx",))
        from ._respx import FakeImagesAPI

        return FakeImagesAPI
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FAKE_API_KEY",
    "FAKE_ORIGIN",
    "FAULTS",
    "FakeImagesAPI",
    "FakePlatform",
    "FakeReply",
    "FakeRequest",
    "FakeServer",
    "FakeServerProcess",
    "FakeTransport",
    "Fault",
    "RecordedRequest",
    "checked_fault_rates",
    "checked_latency",
    "fake_async_client",
    "fake_client",
    "fake_images_server",
    "make_png",
    "png_size",
    "running_fake_server",
]
