"""The AWS endpoint sends Lambda's calls to Lambda, and S3's to S3, even for a bucket
named like Lambda's API version (``2015-03-31``)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from overcast.local.aws_endpoint import AwsEndpoint

LAMBDA = "AWS4-HMAC-SHA256 Credential=AKIAX/20250101/us-east-1/lambda/aws4_request, x"
S3 = "AWS4-HMAC-SHA256 Credential=AKIAX/20250101/us-east-1/s3/aws4_request, x"


def recorder(name: str, seen: list[str]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(name)

    return app


@pytest.mark.parametrize(
    ("method", "path", "query", "authorization", "api"),
    [
        ("GET", "/2015-03-31/functions/", "", LAMBDA, "lambda"),
        ("POST", "/2015-03-31/functions/blog-welcome/invocations", "", LAMBDA, "lambda"),
        ("POST", "/2015-03-31/functions/blog-welcome/invocations", "", None, "lambda"),
        ("GET", "/2015-03-31/functions/key.txt", "", S3, "s3"),
        ("GET", "/2015-03-31/functions/key.txt", "X-Amz-Credential=AKIAX%2F", None, "s3"),
        ("GET", "/2015-03-31/functionsx/key.txt", "", None, "s3"),
    ],
    ids=["list", "invoke", "unsigned", "s3-signed", "s3-presigned", "other-key"],
)
def test_lambda_calls_reach_lambda_and_s3_calls_reach_s3(
    method: str, path: str, query: str, authorization: str | None, api: str
) -> None:
    seen: list[str] = []
    endpoint = AwsEndpoint(s3=recorder("s3", seen), lambda_=recorder("lambda", seen))
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(message: object) -> None:
        return None

    asyncio.run(endpoint(scope, receive, send))

    assert seen == [api]
