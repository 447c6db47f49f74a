"""One endpoint, every AWS API: each request reaches the API its protocol names."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from overcast.local.aws_endpoint import AwsEndpoint


def recorder(name: str, seen: list[str]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(name)

    return app


@pytest.mark.parametrize(
    ("method", "path", "headers", "api"),
    [
        ("POST", "/", {"x-amz-target": "AWSCognitoIdentityProviderService.SignUp"}, "idp"),
        ("POST", "/", {"x-amz-target": "AWSCognitoIdentityService.GetId"}, "identity"),
        ("POST", "/", {"content-type": "application/x-www-form-urlencoded"}, "sts"),
        ("OPTIONS", "/", {}, "idp"),
        ("GET", "/us-east-1_AbCdEfGhI/.well-known/jwks.json", {}, "idp"),
        ("GET", "/_overcast/stats", {}, "admin"),
        ("GET", "/", {}, "s3"),
        ("PUT", "/todo-files/us-east-1:abc/file.txt", {}, "s3"),
        ("POST", "/todo-files?delete", {"content-type": "application/xml"}, "s3"),
    ],
    ids=["user-pools", "identity-pools", "sts", "preflight", "jwks", "admin", "list-buckets",
         "put-object", "delete-objects"],
)  # fmt: skip
def test_each_request_reaches_the_api_of_its_protocol(
    method: str, path: str, headers: dict[str, str], api: str
) -> None:
    seen: list[str] = []
    endpoint = AwsEndpoint(
        cognito_idp=recorder("idp", seen),
        cognito_identity=recorder("identity", seen),
        sts=recorder("sts", seen),
        s3=recorder("s3", seen),
        admin=recorder("admin", seen),
    )
    scope = {
        "type": "http",
        "method": method,
        "path": path.partition("?")[0],
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(message: object) -> None:
        return None

    asyncio.run(endpoint(scope, receive, send))

    assert seen == [api]
