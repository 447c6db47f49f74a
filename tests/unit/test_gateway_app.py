"""The gateway app, driven over ASGI with httpx, answers as API Gateway would."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from overcast import spec
from overcast.local.gateway import CognitoAuthorizer, Gateway
from tests.fixtures.handlers import PNG
from tests.fixtures.invoker import InProcessInvoker

pytestmark = pytest.mark.anyio

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"
CLIENT = "web-client-id"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
USERS = spec.UserPool(name="users")
SIGNED_IN = spec.CognitoAuthorizer(USERS)
MB = 1024 * 1024


def fn(name: str, handler: str, timeout: int = 29) -> spec.Function:
    return spec.Function(name, f"tests.fixtures.handlers:{handler}", timeout_seconds=timeout)


ECHO = fn("echo", "echo")
ROUTES = (
    spec.Route("GET", "/echo", ECHO),
    spec.Route("POST", "/echo", ECHO),
    spec.Route("GET", "/echo/{id}", ECHO),
    spec.Route("ANY", "/files/{path+}", ECHO),
    spec.Route("GET", "/private", ECHO, SIGNED_IN),
    spec.Route("GET", "/scribble", fn("scribble", "scribble_claims"), SIGNED_IN),
    spec.Route("GET", "/stateful", fn("stateful", "module_state"), SIGNED_IN),
    spec.Route("GET", "/things/{thing_id}", fn("things", "powertools"), SIGNED_IN),
    spec.Route("GET", "/fail", fn("fail", "fail")),
    spec.Route("POST", "/shaped", fn("shaped", "shaped")),
    spec.Route("GET", "/slow", fn("slow", "sleep", timeout=1)),
    spec.Route("GET", "/image", fn("image", "png")),
)
API = spec.Api(
    name="test",
    stage="v1",
    routes=ROUTES,
    cors=spec.Cors(allow_origins=("https://app.example", "https://admin.example")),
    binary_media_types=("image/png",),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def invoker() -> InProcessInvoker:
    return InProcessInvoker(route.function for route in ROUTES)


@pytest.fixture
def log() -> list[str]:
    return []


def gateway(invoker: InProcessInvoker, log: list[str] | None, api: spec.Api = API) -> Gateway:
    authorizer = CognitoAuthorizer(ISSUER, [CLIENT], KeySet([KEY]).as_dict(private=False))
    access_log = None if log is None else log.append
    return Gateway(api, invoker, {"users": authorizer}, api_id="abc123", access_log=access_log)


@pytest.fixture
async def client(invoker: InProcessInvoker, log: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway(invoker, log), client=("10.0.0.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8443") as c:
        yield c


def token(**overrides: Any) -> str:
    claims = {
        "sub": "user-1",
        "aud": CLIENT,
        "iss": ISSUER,
        "token_use": "id",
        "exp": 4_000_000_000,
    }
    claims.update(overrides)
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, KEY)


def event_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()
    return event


def assert_gateway_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.json() == {"message": message}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-amzn-errortype"]


async def test_unknown_path_method_or_stage_is_missing_authentication_token(
    client: httpx.AsyncClient,
) -> None:
    for method, url in (("GET", "/v1/nowhere"), ("DELETE", "/v1/echo"), ("GET", "/v2/echo")):
        response = await client.request(method, url)

        assert_gateway_error(response, 403, "Missing Authentication Token")
        assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


async def test_every_response_carries_request_ids(client: httpx.AsyncClient) -> None:
    ok = await client.get("/v1/echo")
    error = await client.get("/v1/nowhere")
    traced = await client.get("/v1/echo", headers={"X-Amzn-Trace-Id": "Root=1-5f84c7a1-abc"})

    for response in (ok, error):
        assert uuid.UUID(response.headers["x-amzn-requestid"]).version == 4
        assert len(response.headers["x-amz-apigw-id"]) == 16
        assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", response.headers["x-amzn-trace-id"])
    assert ok.headers["x-amzn-requestid"] != error.headers["x-amzn-requestid"]
    assert ok.headers["x-amzn-requestid"] == event_of(ok)["requestContext"]["requestId"]
    assert traced.headers["x-amzn-trace-id"] == "Root=1-5f84c7a1-abc"
    assert event_of(traced)["headers"]["X-Amzn-Trace-Id"] == "Root=1-5f84c7a1-abc"


async def test_path_parameters_and_greedy_proxy_reach_the_function(
    client: httpx.AsyncClient,
) -> None:
    one = event_of(await client.get("/v1/echo/hello%20world"))
    greedy = event_of(await client.delete("/v1/files/a/b/c.txt"))

    assert one["pathParameters"] == {"id": "hello world"}
    assert one["resource"] == "/echo/{id}"
    assert one["path"] == "/echo/hello%20world"
    assert one["requestContext"]["path"] == "/v1/echo/hello%20world"
    assert greedy["pathParameters"] == {"path": "a/b/c.txt"}
    assert greedy["httpMethod"] == "DELETE"
    assert greedy["requestContext"]["resourcePath"] == "/files/{path+}"


async def test_query_strings_and_headers_keep_every_value(client: httpx.AsyncClient) -> None:
    event = event_of(
        await client.get(
            "/v1/echo?tag=a&tag=b&q=x%26y",
            headers=[("X-Tag", "one"), ("X-Tag", "two")],
        )
    )

    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x&y"]}
    assert event["queryStringParameters"] == {"tag": "b", "q": "x&y"}
    assert event["multiValueHeaders"]["x-tag"] == ["one", "two"]
    assert event["headers"]["x-tag"] == "two"
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.7"


async def test_routes_behind_the_authorizer_need_a_valid_id_token(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/private")
    forged = await client.get("/v1/private", headers={"Authorization": "Bearer x.y.z"})
    expired = await client.get("/v1/private", headers={"Authorization": token(exp=1000)})

    assert_gateway_error(missing, 401, "Unauthorized")
    assert missing.headers["x-amzn-errortype"] == "UnauthorizedException"
    assert_gateway_error(forged, 401, "Unauthorized")
    assert_gateway_error(expired, 401, "The incoming token has expired")


async def test_valid_token_reaches_the_function_as_string_claims(
    client: httpx.AsyncClient,
) -> None:
    event = event_of(await client.get("/v1/private", headers={"Authorization": token()}))

    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["sub"] == "user-1"
    assert claims["exp"] == "Tue Oct 02 07:06:40 UTC 2096"


async def test_handler_scribbling_on_claims_does_not_change_the_next_callers(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Authorization": token()}
    first = await client.get("/v1/scribble", headers=headers)
    second = await client.get("/v1/scribble", headers=headers)

    assert first.json() == {"received": "user-1"}
    assert second.json() == {"received": "user-1"}


async def test_powertools_handler_routes_with_path_parameters_and_claims(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/things/t-42", headers={"Authorization": f"Bearer {token()}"})

    assert response.status_code == 200
    assert response.json() == {"id": "t-42", "owner": "user-1"}


async def test_body_over_10_mb_is_refused_with_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/echo", content=b"x" * (20 * MB))

    assert_gateway_error(response, 413, "Request Too Long")


async def test_body_without_content_length_is_cut_off_at_the_limit(
    invoker: InProcessInvoker, log: list[str]
) -> None:
    app = gateway(invoker, log)
    chunks_read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal chunks_read
        chunks_read += 1
        return {"type": "http.request", "body": b"x" * MB, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    lying = [(b"content-length", b"10"), (b"host", b"127.0.0.1")]
    scope = http_scope("POST", "/v1/echo", lying)
    await app(scope, receive, send)

    assert sent[0]["status"] == 413
    assert chunks_read == 11


async def test_request_without_content_length_or_chunks_has_no_body_to_read(
    invoker: InProcessInvoker, log: list[str]
) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("HTTP/1.1: no Content-Length and no Transfer-Encoding, no body")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await gateway(invoker, log)(http_scope("GET", "/v1/echo", []), receive, send)

    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"])["body"] is None


async def test_chunked_body_without_content_length_is_read(
    invoker: InProcessInvoker, log: list[str]
) -> None:
    chunks = [b'{"a":', b"1}"]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    chunked = [(b"transfer-encoding", b"chunked")]
    await gateway(invoker, log)(http_scope("POST", "/v1/echo", chunked), receive, send)

    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"])["body"] == '{"a":1}'


async def test_unexpected_failure_in_the_gateway_is_a_500_not_a_crash(
    invoker: InProcessInvoker, log: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise RuntimeError("the server broke")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = http_scope("POST", "/v1/echo", [(b"content-length", b"2")])
    await gateway(invoker, log)(scope, receive, send)

    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b'{"message": "Internal server error"}'
    assert "the server broke" in caplog.text
    assert len(log) == 1


async def test_function_error_is_502(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/fail")

    assert_gateway_error(response, 502, "Internal server error")
    assert response.content == b'{"message": "Internal server error"}'


@pytest.mark.parametrize(
    "answer",
    [
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "unexpected": True},
        ["not", "an", "object"],
        {"statusCode": "two hundred"},
    ],
)
async def test_malformed_proxy_response_is_502(client: httpx.AsyncClient, answer: Any) -> None:
    response = await client.post("/v1/shaped", content=json.dumps(answer))

    assert_gateway_error(response, 502, "Internal server error")


async def test_valid_proxy_response_is_mapped_to_http(client: httpx.AsyncClient) -> None:
    answer = {
        "statusCode": 418,
        "headers": {"X-One": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "short and stout",
    }
    response = await client.post("/v1/shaped", content=json.dumps(answer))

    assert response.status_code == 418
    assert response.text == "short and stout"
    assert response.headers["x-one"] == "1"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["content-type"] == "application/json"


async def test_function_past_its_own_timeout_is_502(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/slow?seconds=1.3")

    assert_gateway_error(response, 502, "Internal server error")


async def test_function_past_the_integration_timeout_is_504(
    invoker: InProcessInvoker, log: list[str]
) -> None:
    impatient = spec.Api(name="impatient", routes=ROUTES, integration_timeout_seconds=0.05)
    transport = httpx.ASGITransport(app=gateway(invoker, log, impatient))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as c:
        response = await c.get("/v1/slow?seconds=0.3")

    assert_gateway_error(response, 504, "Endpoint request timed out")
    assert response.content == b'{"message": "Endpoint request timed out"}'


async def test_function_timeout_equal_to_the_integration_timeout_is_504(
    invoker: InProcessInvoker, log: list[str]
) -> None:
    tight = spec.Api(name="tight", routes=ROUTES, integration_timeout_seconds=1)
    transport = httpx.ASGITransport(app=gateway(invoker, log, tight))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as c:
        response = await c.get("/v1/slow?seconds=1.3")

    assert_gateway_error(response, 504, "Endpoint request timed out")


async def test_binary_request_and_response_bodies(client: httpx.AsyncClient) -> None:
    upload = event_of(
        await client.post("/v1/echo", content=PNG, headers={"Content-Type": "image/png"})
    )
    image = await client.get("/v1/image", headers={"Accept": "image/png"})
    as_text = await client.get("/v1/image", headers={"Accept": "text/html"})

    assert upload["isBase64Encoded"] is True
    assert base64.b64decode(upload["body"]) == PNG
    assert image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert as_text.content == base64.b64encode(PNG)


async def test_cors_preflight_is_answered_by_the_gateway(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/v1/echo/1",
        headers={"Origin": "https://admin.example", "Access-Control-Request-Method": "GET"},
    )

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "https://admin.example"
    assert response.headers["vary"] == "Origin"
    assert "GET" in response.headers["access-control-allow-methods"].split(",")
    assert "Authorization" in response.headers["access-control-allow-headers"].split(",")
    assert response.headers["access-control-max-age"] == "600"


async def test_cors_preflight_from_unknown_origin_names_the_first_allowed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/v1/private", headers={"Origin": "https://evil.example"})

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example"


async def test_gateway_errors_carry_cors_origin(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/private", headers={"Origin": "https://app.example"})

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "https://app.example"


async def test_one_access_log_line_per_request(client: httpx.AsyncClient, log: list[str]) -> None:
    ok = await client.get("/v1/echo/7")
    await client.get("/v1/nowhere")

    assert len(log) == 2
    first, second = log
    assert first.startswith("10.0.0.7 - - [")
    assert '"GET /echo/{id} HTTP/1.1" 200 ' in first
    assert ok.headers["x-amzn-requestid"] in first
    assert first.endswith("ms")
    assert '"GET /v1/nowhere HTTP/1.1" 403 42 ' in second


async def test_without_an_access_log_requests_are_still_answered(
    invoker: InProcessInvoker,
) -> None:
    transport = httpx.ASGITransport(app=gateway(invoker, log=None))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as quiet:
        response = await quiet.get("/v1/echo")

    assert response.status_code == 200


async def test_lifespan_startup_and_shutdown_are_acknowledged(
    invoker: InProcessInvoker, log: list[str]
) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await gateway(invoker, log)({"type": "lifespan"}, receive, send)

    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


def test_route_without_its_authorizer_is_refused(invoker: InProcessInvoker) -> None:
    with pytest.raises(spec.DeclarationError, match="users"):
        Gateway(API, invoker, {}, api_id="abc", access_log=print)


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8443),
    }
