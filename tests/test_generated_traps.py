"""Pin the generated clients' known traps (generated/README.md).

If a generator upgrade changes one of these behaviours, the matching test fails
and both the README and the wrapper code that works around it need a look.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from openai_images_api import AuthenticatedClient as OpenAIClient
from openai_images_api.api.images import create_image as openai_create_image
from openai_images_api.models import CreateImageRequest as OpenAIRequest
from openai_images_api.models import ErrorResponse as OpenAIErrorResponse
from zhipu_images_api import AuthenticatedClient, Client
from zhipu_images_api.api.images import create_image
from zhipu_images_api.models import CreateImageRequest, ErrorResponse, ImageModel
from zhipu_images_api.types import Unset

Handler = Callable[[httpx.Request], httpx.Response]
BODY = CreateImageRequest(model=ImageModel.GLM_IMAGE, prompt="一只猫")


def client_answering(status: int, content: bytes, content_type: str = "application/json") -> Client:
    client = Client(base_url="https://example.test/api")
    transport = httpx.MockTransport(
        lambda request: httpx.Response(status, content=content, headers={"content-type": content_type})
    )
    client.set_httpx_client(httpx.Client(base_url="https://example.test/api", transport=transport))
    return client


def test_request_model_fills_glm_image_defaults_for_every_model() -> None:
    sent = CreateImageRequest(model=ImageModel.COGVIEW_4, prompt="x").to_dict()
    assert sent["quality"] == "hd"
    assert sent["size"] == "1280x1280"


def test_openai_request_model_sends_dall_e_3_only_defaults() -> None:
    sent = OpenAIRequest(prompt="x").to_dict()
    assert sent["quality"] == "standard"
    assert sent["style"] == "vivid"


def test_html_error_page_raises_json_decode_error() -> None:
    client = client_answering(503, b"<html><body>502 Bad Gateway</body></html>", "text/html")
    with pytest.raises(json.JSONDecodeError):
        create_image.sync_detailed(client=client, body=BODY)


def test_non_200_json_of_any_shape_becomes_error_model() -> None:
    client = client_answering(400, b'{"unexpected": true}')
    parsed = create_image.sync_detailed(client=client, body=BODY).parsed
    assert isinstance(parsed, ErrorResponse)
    assert isinstance(parsed.error, Unset)


def test_openai_non_200_parses_as_the_documented_error_model() -> None:
    """Only because of the openai_document_error_responses fix; upstream declares no error response."""
    client = OpenAIClient(base_url="https://example.test/v1", token="tok-123456")
    transport = httpx.MockTransport(lambda request: httpx.Response(400, json={"error": {"message": "bad"}}))
    client.set_httpx_client(httpx.Client(base_url="https://example.test/v1", transport=transport))
    parsed = openai_create_image.sync_detailed(client=client, body=OpenAIRequest(prompt="x")).parsed
    assert isinstance(parsed, OpenAIErrorResponse)
    assert parsed.error.message == "bad"


def test_unknown_http_status_raises_value_error() -> None:
    client = client_answering(434, b'{"error": {"code": "1220", "message": "no access"}}')
    with pytest.raises(ValueError, match="434"):
        create_image.sync_detailed(client=client, body=BODY)


def test_unknown_enum_value_in_response_raises_value_error() -> None:
    body = {"created": 1, "data": [{"url": "u"}], "content_filter": [{"role": "system", "level": 1}]}
    client = client_answering(200, json.dumps(body).encode())
    with pytest.raises(ValueError, match="system"):
        create_image.sync_detailed(client=client, body=BODY)


def test_data_item_without_url_raises_key_error() -> None:
    client = client_answering(200, b'{"created": 1, "data": [{"b64_json": "aGk="}]}')
    with pytest.raises(KeyError, match="url"):
        create_image.sync_detailed(client=client, body=BODY)


def test_set_httpx_client_drops_the_token() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"created": 1, "data": [{"url": "u"}]})

    own = AuthenticatedClient(
        base_url="https://e.test", token="tok-123456", httpx_args={"transport": httpx.MockTransport(handler)}
    )
    create_image.sync_detailed(client=own, body=BODY)
    replaced = AuthenticatedClient(base_url="https://e.test", token="tok-123456")
    replaced.set_httpx_client(httpx.Client(base_url="https://e.test", transport=httpx.MockTransport(handler)))
    create_image.sync_detailed(client=replaced, body=BODY)
    assert seen == ["Bearer tok-123456", None]


def test_authenticated_client_repr_contains_the_token() -> None:
    assert "tok-123456" in repr(AuthenticatedClient(base_url="https://e.test", token="tok-123456"))
