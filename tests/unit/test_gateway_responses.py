"""A function's proxy response becomes HTTP, or the gateway error AWS would answer."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from overcast.local.gateway.media import BinaryMediaTypes
from overcast.local.gateway.responses import (
    BadGateway,
    ConfigurationError,
    HttpResponse,
    IntegrationTimeout,
    MissingAuthenticationToken,
    RequestTooLarge,
    Unauthorized,
    error_response,
    proxy_response,
)

IDS = [(b"x-amzn-requestid", b"req-1")]
NO_BINARY = BinaryMediaTypes(())


def respond(
    result: Any, accept: str | None = None, binary: BinaryMediaTypes = NO_BINARY
) -> HttpResponse:
    return proxy_response(result, binary, accept, IDS)


def header_values(response: HttpResponse, name: bytes) -> list[bytes]:
    return [value for key, value in response.headers if key.lower() == name]


def test_simple_response_defaults_to_json_and_carries_request_headers() -> None:
    response = respond({"statusCode": 201, "body": '{"ok":true}'})

    assert response.status == 201
    assert response.body == b'{"ok":true}'
    assert header_values(response, b"content-type") == [b"application/json"]
    assert header_values(response, b"content-length") == [b"11"]
    assert header_values(response, b"x-amzn-requestid") == [b"req-1"]


def test_status_code_may_be_a_string_of_digits_and_defaults_to_200() -> None:
    assert respond({"statusCode": "404", "body": ""}).status == 404
    assert respond({"body": "x"}).status == 200


def test_headers_and_multi_value_headers_are_merged_without_duplicates() -> None:
    response = respond(
        {
            "statusCode": 200,
            "headers": {"Set-Cookie": "a=1", "X-One": "1", "Content-Type": "text/plain"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Many": ["x", "y"]},
            "body": "hi",
        }
    )

    assert header_values(response, b"set-cookie") == [b"a=1", b"b=2"]
    assert header_values(response, b"x-many") == [b"x", b"y"]
    assert header_values(response, b"x-one") == [b"1"]
    assert header_values(response, b"content-type") == [b"text/plain"]


def test_scalar_header_values_are_rendered_as_text() -> None:
    response = respond({"statusCode": 200, "headers": {"X-Count": 3, "X-Flag": True}})

    assert header_values(response, b"x-count") == [b"3"]
    assert header_values(response, b"x-flag") == [b"true"]


def test_framing_headers_from_the_function_are_remapped() -> None:
    response = respond(
        {
            "statusCode": 200,
            "headers": {"Content-Length": "999", "Connection": "close"},
            "body": "x",
        }
    )

    assert header_values(response, b"content-length") == [b"1"]
    assert header_values(response, b"x-amzn-remapped-content-length") == [b"999"]
    assert header_values(response, b"connection") == []


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(None, id="null"),
        pytest.param("just a string", id="string"),
        pytest.param([{"statusCode": 200}], id="list"),
        pytest.param({"statusCode": 200, "extra": 1}, id="unknown-key"),
        pytest.param({"statusCode": "OK"}, id="status-text"),
        pytest.param({"statusCode": 99}, id="status-out-of-range"),
        pytest.param({"statusCode": True}, id="status-bool"),
        pytest.param({"statusCode": 200, "body": {"a": 1}}, id="body-object"),
        pytest.param({"statusCode": 200, "body": 7}, id="body-number"),
        pytest.param({"statusCode": 200, "headers": ["a"]}, id="headers-list"),
        pytest.param({"statusCode": 200, "headers": {"X": None}}, id="header-null"),
        pytest.param({"statusCode": 200, "headers": {"X": {"a": 1}}}, id="header-object"),
        pytest.param({"statusCode": 200, "multiValueHeaders": {"X": "a"}}, id="multi-not-list"),
        pytest.param({"statusCode": 200, "headers": {"Bad Name": "x"}}, id="header-name"),
        pytest.param({"statusCode": 200, "headers": {"X-Split\n": "x"}}, id="header-name-newline"),
        pytest.param({"statusCode": 200, "headers": {"X": "a\r\nInjected: 1"}}, id="crlf"),
        pytest.param({"statusCode": 200, "isBase64Encoded": "maybe"}, id="b64-flag"),
    ],
)
def test_malformed_proxy_responses_are_502(result: Any) -> None:
    with pytest.raises(BadGateway):
        respond(result)


def test_base64_body_is_decoded_when_the_client_accepts_a_binary_type() -> None:
    png = bytes(range(256))
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }
    binary = BinaryMediaTypes(["image/png"])

    assert respond(result, "image/png, */*", binary).body == png
    assert respond(result, "*/*", binary).body == base64.b64encode(png)
    assert respond(result, None, BinaryMediaTypes(["*/*"])).body == png


def test_undecodable_base64_for_a_binary_type_is_a_500() -> None:
    result = {"statusCode": 200, "body": "@@not base64@@", "isBase64Encoded": True}

    with pytest.raises(ConfigurationError):
        respond(result, "image/png", BinaryMediaTypes(["image/*"]))


@pytest.mark.parametrize(
    ("error", "status", "body", "error_type"),
    [
        (
            MissingAuthenticationToken(),
            403,
            b'{"message":"Missing Authentication Token"}',
            b"MissingAuthenticationTokenException",
        ),
        (Unauthorized(), 401, b'{"message":"Unauthorized"}', b"UnauthorizedException"),
        (RequestTooLarge(), 413, b'{"message":"Request Too Long"}', b"RequestTooLargeException"),
        (
            BadGateway(),
            502,
            b'{"message": "Internal server error"}',
            b"InternalServerErrorException",
        ),
        (
            IntegrationTimeout(),
            504,
            b'{"message": "Endpoint request timed out"}',
            b"InternalServerErrorException",
        ),
    ],
)
def test_gateway_errors_render_byte_for_byte_as_aws(
    error: Any, status: int, body: bytes, error_type: bytes
) -> None:
    response = error_response(error, IDS)

    assert response.status == status
    assert response.body == body
    assert header_values(response, b"x-amzn-errortype") == [error_type]
    assert header_values(response, b"content-length") == [str(len(body)).encode()]
    assert header_values(response, b"x-amzn-requestid") == [b"req-1"]
