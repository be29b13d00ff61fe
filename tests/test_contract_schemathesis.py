"""Schemathesis against the fake platform: positive and negative data, both documents, all default checks.

The fake runs as its real HTTP server on a loopback thread of this process, so
the checks see exactly the bytes a client would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from zhipu_images.fake import FakePlatform, FakeServer, running_fake_server

KEY = "contract-test-key"
# The only default check left out: the schema accepts bodies the platform's prose rules reject
# (glm-image with quality "standard", an empty prompt, a 4096x4096 size), and the fake enforces
# those rules on purpose. test_fake_properties.py checks instead that every such body gets
# exactly validate_request's verdict and a documented error code.
EXCLUDED = [positive_data_acceptance]


def fixed_document(package: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(resources.files(package).joinpath("openapi.json").read_text(encoding="utf-8"))
    return doc


ZHIPU = schemathesis.openapi.from_dict(fixed_document("zhipu_images_api"))
OPENAI = schemathesis.openapi.from_dict(fixed_document("openai_images_api"))


@schemathesis.auth()
class BearerToken:
    """The valid key, applied by Schemathesis itself: it then knows the credentials are
    explicit, probes the fake without them and with wrong ones (ignored_auth), and leaves
    them off the cases that test a missing Authorization header."""

    def get(self, case: Any, context: Any) -> str:
        return KEY

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with running_fake_server(FakePlatform(api_key=KEY)) as running:
        yield running


@ZHIPU.parametrize()
def test_zhipu_document(case: Any, server: FakeServer) -> None:
    case.call_and_validate(base_url=f"{server.url}/api", excluded_checks=EXCLUDED)


@OPENAI.parametrize()
def test_openai_compatible_document(case: Any, server: FakeServer) -> None:
    case.call_and_validate(base_url=server.url, excluded_checks=EXCLUDED)
