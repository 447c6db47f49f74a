"""The AWS endpoint sends CloudFront's calls to CloudFront, and S3's to S3, even for a
bucket named like CloudFront's API version."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from overcast.local.aws_endpoint import AwsEndpoint

CLOUDFRONT = "AWS4-HMAC-SHA256 Credential=AKIAX/20250101/us-east-1/cloudfront/aws4_request, x"
S3 = "AWS4-HMAC-SHA256 Credential=AKIAX/20250101/us-east-1/s3/aws4_request, x"


def recorder(name: str, seen: list[str]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(name)

    return app


@pytest.mark.parametrize(
    ("path", "query", "authorization", "api"),
    [
        ("/2020-05-31/distribution", "", CLOUDFRONT, "cloudfront"),
        ("/2020-05-31/distribution/E1/invalidation", "", CLOUDFRONT, "cloudfront"),
        ("/2020-05-31/distribution/E1/invalidation", "", None, "cloudfront"),
        ("/2020-05-31/distribution/key.txt", "", S3, "s3"),
        ("/2020-05-31/distribution/key.txt", "X-Amz-Credential=AKIAX%2F", None, "s3"),
        ("/2020-05-31/other/key.txt", "", None, "s3"),
    ],
    ids=["list", "invalidations", "unsigned", "s3-signed", "s3-presigned", "other-key"],
)
def test_cloudfront_calls_reach_cloudfront_and_s3_calls_reach_s3(
    path: str, query: str, authorization: str | None, api: str
) -> None:
    seen: list[str] = []
    endpoint = AwsEndpoint(s3=recorder("s3", seen), cloudfront=recorder("cloudfront", seen))
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    scope = {
        "type": "http",
        "method": "GET",
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
