"""Whatever a caller passes, only the library's errors come out.

Input reaches the library straight from JSON, forms and command lines; a
value of the wrong type or range must fail with an error that names the
argument, not with an ``OverflowError`` from inside httpx or a
``UnicodeEncodeError`` on the first request.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from zhipu_images import AsyncImagesClient, GeneratedImage, ImagesClient, ImagesError, validate_request
from zhipu_images.fake import FakePlatform, fake_client


class _Opaque:
    """An object of a class the library has never heard of."""


#: Values of every kind people pass by mistake: huge and negative numbers, NaN, lone surrogates,
#: NUL bytes, bytes, containers, objects; and some that are right.
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**400) | st.integers(min_value=-(10**400), max_value=-(10**18)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 5e-324, 0.0, -0.0, 10**5000, -(10**5000)]),
    st.tuples(st.just(10**5000), st.integers()),
    st.text(max_size=30),
    st.text(alphabet=st.characters(categories=["Cs", "Cc", "Zs", "Lo"]), max_size=10),
    st.sampled_from(
        ["", " ", "\x00", "http://[::1", "http://a\x00b/", "V0", "glm-image", "1024x1024", "hd", "a\u200bb"]
    ),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.integers(), st.integers()),
    st.dictionaries(st.text(max_size=5), st.integers() | st.floats() | st.binary(max_size=3), max_size=3),
    st.frozensets(st.integers(), max_size=3),
    st.builds(_Opaque),
    st.just(httpx.Timeout(-1.0)),
    st.just(httpx.Timeout(math.nan)),
)


def with_nasty_examples(test: Callable[..., None]) -> Callable[..., None]:
    """Always try the values that broke the library once, whatever Hypothesis draws besides."""
    for value in (10**5000, -(10**5000), math.nan, math.inf, "\ud800", "a\x00b", (10**5000, 1), b"\xff", {1, 2}):
        test = example(value=value)(test)
    return test


def outcome_is_the_librarys(call: Callable[[], Any], argument: str) -> None:
    """``call`` succeeds, raises an ``ImagesError``, or a ``TypeError`` that names ``argument``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except ImagesError as error:
        assert str(error)
    except TypeError as error:
        assert argument in str(error), f"TypeError without the argument's name: {error}"


VALIDATE_ARGUMENTS = [
    "model",
    "prompt",
    "size",
    "quality",
    "n",
    "style",
    "response_format",
    "user_id",
    "watermark_enabled",
]


# Property: any value in any argument of validate_request gives a request or an ImagesError naming the field.
@pytest.mark.parametrize("argument", VALIDATE_ARGUMENTS)
@given(value=ANYTHING)
@with_nasty_examples
def test_validate_request_takes_anything(argument: str, value: object) -> None:
    arguments: dict[str, Any] = {"model": "glm-image", "prompt": "a cat", argument: value}
    outcome_is_the_librarys(lambda: validate_request(**arguments), argument)


CONSTRUCTOR_ARGUMENTS = [
    "api_key",
    "base_url",
    "openai_base_url",
    "timeout",
    "max_retries",
    "max_concurrency",
    "http_client",
    "max_download_bytes",
    "max_response_bytes",
]


# Property: any value in any argument of either client's constructor gives a client or the library's error.
@pytest.mark.parametrize("client_class", [ImagesClient, AsyncImagesClient])
@pytest.mark.parametrize("argument", CONSTRUCTOR_ARGUMENTS)
@given(value=ANYTHING)
@with_nasty_examples
def test_the_client_constructors_take_anything(
    client_class: type[ImagesClient] | type[AsyncImagesClient], argument: str, value: object
) -> None:
    def construct() -> None:
        options: dict[str, Any] = {"api_key": "a-valid-key", argument: value}
        client = client_class(**options)
        http = client._http
        if isinstance(http, httpx.Client):
            http.close()

    outcome_is_the_librarys(construct, argument)


GENERATE_ARGUMENTS = [*VALIDATE_ARGUMENTS, "extra_body", "timeout"]


# Property: any value in any argument of generate gives a result or the library's error; nothing escapes
# from encoding the request or from httpx.
@pytest.mark.parametrize("argument", GENERATE_ARGUMENTS)
@given(value=ANYTHING)
@with_nasty_examples
def test_generate_takes_anything(argument: str, value: object) -> None:
    with fake_client(FakePlatform(content_filter_words=())) as client:
        arguments: dict[str, Any] = {"model": "cogview-3-flash", argument: value}
        prompt = arguments.pop("prompt", "a cat")
        outcome_is_the_librarys(lambda: client.generate(prompt, **arguments), argument)


DOWNLOAD_ARGUMENTS = ["image", "dest", "filename", "max_bytes"]


# Property: any value in any argument of download gives a saved file or the library's error.
@pytest.mark.parametrize("argument", DOWNLOAD_ARGUMENTS)
@given(value=ANYTHING)
@with_nasty_examples
def test_download_takes_anything(argument: str, value: object) -> None:
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder), fake_client() as client:
        image: GeneratedImage = client.generate("a cat", model="cogview-3-flash").images[0]
        arguments: dict[str, Any] = {"image": image, "dest": folder, argument: value}
        outcome_is_the_librarys(lambda: client.download(**arguments), argument)
