"""The proxy event has exactly AWS's shape (compared with a real captured event)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from overcast import spec
from overcast.local.gateway.events import (
    EventBuilder,
    GatewayRequest,
    format_request_time,
    parse_headers,
)
from overcast.local.gateway.routes import RouteTable

# A REST API event behind a Cognito authorizer, as captured from AWS (published in a
# public repository's tests; "None" values restored to null).
SAMPLE = json.loads(
    (Path(__file__).parents[1] / "events" / "api_gateway_rest_proxy.json").read_text()
)
FN = spec.Function(name="fn", handler="tests.fixtures.handlers:echo")
API = spec.Api(
    name="things",
    stage="v1",
    routes=(spec.Route("GET", "/things/{id}", FN), spec.Route("GET", "/things", FN)),
    binary_media_types=("image/*",),
)
CLAIMS = {"sub": "user-1", "token_use": "id"}
APRIL_9_2015 = 1428582896.25


def request(
    path: str = "/things/42",
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    query: bytes = b"",
    body: bytes = b"",
) -> GatewayRequest:
    raw = (
        headers if headers is not None else [(b"host", b"127.0.0.1:8443"), (b"user-agent", b"ua/1")]
    )
    single, multi = parse_headers(raw)
    return GatewayRequest(
        method="GET",
        path=path,
        query_string=query,
        headers=single,
        multi_headers=multi,
        body=body,
        source_ip="10.1.2.3",
        protocol="HTTP/1.1",
        scheme="https",
        server_port=8443,
        request_id="req-1",
        extended_request_id="ext-1",
        trace_id="Root=1-abc",
        time=APRIL_9_2015,
    )


def build(req: GatewayRequest, claims: dict[str, str] | None = None) -> dict[str, Any]:
    found = RouteTable(API.routes).match(req.method, req.path)
    assert found is not None
    return EventBuilder(API, account_id="123456789012", api_id="abcdef1234").build(
        req, found, claims
    )


def keys_at_every_level(document: Any, prefix: str = "") -> set[str]:
    """Dotted key paths of nested objects, not descending into header/claim/param maps."""
    leaves = {
        "headers",
        "multiValueHeaders",
        "claims",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
    }
    found: set[str] = set()
    for key, value in document.items():
        found.add(prefix + key)
        if isinstance(value, dict) and key not in leaves:
            found |= keys_at_every_level(value, f"{prefix}{key}.")
    return found


def test_authorized_event_has_exactly_the_keys_aws_sends() -> None:
    event = build(request(), CLAIMS)

    assert keys_at_every_level(event) == keys_at_every_level(SAMPLE)


def test_unauthorized_route_event_has_no_authorizer_key() -> None:
    event = build(request())

    expected = {key for key in keys_at_every_level(SAMPLE) if "authorizer" not in key}
    assert keys_at_every_level(event) == expected


def test_absent_maps_are_null_not_empty() -> None:
    event = build(request("/things"))

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_request_context_describes_stage_resource_and_caller() -> None:
    context = build(request(), CLAIMS)["requestContext"]

    assert context["path"] == "/v1/things/42"
    assert context["resourcePath"] == "/things/{id}"
    assert context["stage"] == "v1"
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "abcdef1234"
    assert context["requestId"] == "req-1"
    assert context["extendedRequestId"] == "ext-1"
    assert context["requestTime"] == "09/Apr/2015:12:34:56 +0000"
    assert context["requestTimeEpoch"] == 1428582896250
    assert context["domainName"] == "127.0.0.1"
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["identity"]["userAgent"] == "ua/1"
    assert context["identity"]["caller"] is None
    assert context["authorizer"] == {"claims": CLAIMS}


def test_path_parameters_and_path_after_stage() -> None:
    event = build(request("/things/a%20b"))

    assert event["path"] == "/things/a%20b"
    assert event["resource"] == "/things/{id}"
    assert event["pathParameters"] == {"id": "a b"}


def test_repeated_query_parameters_keep_all_values_and_the_last_single() -> None:
    event = build(request(query=b"tag=a&tag=b%20c&empty=&flag"))

    assert event["multiValueQueryStringParameters"] == {
        "tag": ["a", "b c"],
        "empty": [""],
        "flag": [""],
    }
    assert event["queryStringParameters"] == {"tag": "b c", "empty": "", "flag": ""}


def test_repeated_headers_keep_all_values_and_the_last_single() -> None:
    event = build(request(headers=[(b"x-tag", b"one"), (b"x-tag", b"two"), (b"host", b"h")]))

    assert event["multiValueHeaders"]["x-tag"] == ["one", "two"]
    assert event["headers"]["x-tag"] == "two"


def test_gateway_adds_forwarding_and_trace_headers() -> None:
    raw = [(b"host", b"h"), (b"x-forwarded-for", b"1.1.1.1"), (b"x-forwarded-proto", b"http")]
    headers = build(request(headers=raw))["headers"]

    assert headers["X-Forwarded-For"] == "1.1.1.1, 10.1.2.3"
    assert headers["X-Forwarded-Proto"] == "https"
    assert headers["X-Forwarded-Port"] == "8443"
    assert headers["X-Amzn-Trace-Id"] == "Root=1-abc"
    assert "x-forwarded-for" not in headers


def test_text_body_is_passed_as_is() -> None:
    raw = [(b"content-type", b"application/json; charset=utf-8")]
    event = build(request(headers=raw, body='{"title": "café"}'.encode()))

    assert event["body"] == '{"title": "café"}'
    assert event["isBase64Encoded"] is False


def test_binary_media_type_body_is_base64_encoded() -> None:
    payload = bytes(range(256))
    event = build(request(headers=[(b"content-type", b"image/png")], body=payload))

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_request_time_is_locale_independent_clf() -> None:
    assert format_request_time(0) == "01/Jan/1970:00:00:00 +0000"
    assert format_request_time(1733011200) == "01/Dec/2024:00:00:00 +0000"
