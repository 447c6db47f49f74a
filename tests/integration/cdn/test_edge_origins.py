"""The edge's origin clients against real servers: an app under uvicorn, the local S3."""

from __future__ import annotations

import asyncio
import gzip
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest
from mypy_boto3_s3 import S3Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from overcast.local.auth.sigv4 import Credentials
from overcast.local.cdn.edge import Edge
from overcast.local.cdn.model import SOURCE_ARN_HEADER, FileBody, ViewerRequest
from overcast.local.cdn.origins import (
    BucketOriginClient,
    HttpOriginClient,
    OriginRequest,
    OriginResponse,
    OriginTimeout,
    OriginUnreachable,
)
from overcast.local.cdn.store import EdgeStore
from overcast.spec_cdn import Behavior, Distribution, HttpOrigin
from tests.fixtures.server_thread import ServerThread
from tests.integration.test_s3_fixtures import ROOT, LocalS3

BIG = os.urandom(2 * 1024 * 1024 + 17)
ARN = "arn:aws:cloudfront::000000000000:distribution/E1TEST"


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "path": request.url.path,
            "query": request.url.query,
            "headers": [[k.decode(), v.decode()] for k, v in request.headers.raw],
        }
    )


async def big(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(BIG), 100_000):
            yield BIG[start : start + 100_000]

    return StreamingResponse(chunks(), headers={"Content-Length": str(len(BIG))})


async def slow(request: Request) -> Response:
    await asyncio.sleep(3)
    return Response(b"late")


async def zipped(request: Request) -> Response:
    return Response(gzip.compress(b"x" * 5000), headers={"Content-Encoding": "gzip"})


APP = Starlette(
    routes=[
        Route("/v1/echo", echo),
        Route("/v1/big", big),
        Route("/v1/slow", slow),
        Route("/v1/zipped", zipped),
    ]
)


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    with ServerThread(APP, bound):
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


def refused_url() -> str:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{unused.getsockname()[1]}"


async def read(response: OriginResponse) -> bytes:
    try:
        return b"".join([chunk async for chunk in response.aiter_bytes()])
    finally:
        await response.aclose()


def fetch(
    client: HttpOriginClient | BucketOriginClient, request: OriginRequest
) -> tuple[int, bytes]:
    async def scenario() -> tuple[int, bytes]:
        try:
            response = await client.fetch(request)
            return response.status, await read(response)
        finally:
            await client.aclose()

    return asyncio.run(scenario())


def test_origin_path_is_prefixed_and_host_is_the_origins(app_url: str) -> None:
    client = HttpOriginClient(app_url + "/v1")
    headers = [("Host", "cdn.example"), ("X-Custom", "1"), ("Connection", "close, X-Custom")]
    request = OriginRequest("GET", "/echo", "a=1&b=%20", headers)

    status, body = fetch(client, request)

    seen = orjson.loads(body)
    assert status == 200
    assert (seen["path"], seen["query"]) == ("/v1/echo", "a=1&b=%20")
    received = dict(seen["headers"])
    assert received["host"] == app_url.removeprefix("http://")
    assert "x-custom" not in received  # named by Connection: hop-by-hop
    assert "accept-encoding" not in received  # nothing the edge did not ask for


def test_big_body_streams_byte_exact(app_url: str) -> None:
    assert fetch(HttpOriginClient(app_url + "/v1"), OriginRequest("GET", "/big", "", [])) == (
        200,
        BIG,
    )


def test_encoded_body_is_kept_as_the_origin_sent_it(app_url: str) -> None:
    status, body = fetch(HttpOriginClient(app_url + "/v1"), OriginRequest("GET", "/zipped", "", []))
    assert status == 200
    assert gzip.decompress(body) == b"x" * 5000


def test_slow_origin_is_a_timeout(app_url: str) -> None:
    client = HttpOriginClient(app_url + "/v1", response_timeout_seconds=0.3)
    with pytest.raises(OriginTimeout):
        fetch(client, OriginRequest("GET", "/slow", "", []))


def test_refused_connection_is_unreachable() -> None:
    with pytest.raises(OriginUnreachable):
        fetch(HttpOriginClient(refused_url()), OriginRequest("GET", "/", "", []))


def test_edge_answers_502_when_its_origin_refuses(tmp_path: Path) -> None:
    origin = HttpOrigin("app", url=refused_url())
    store = EdgeStore(tmp_path / "cache", max_bytes=1 << 20)
    edge = Edge(
        Distribution("site", Behavior("*", origin)),
        {origin: HttpOriginClient(refused_url())},
        store,
        distribution_id="E1TEST",
    )

    async def scenario() -> int:
        try:
            return (await edge(ViewerRequest("GET", "/x"))).status
        finally:
            await edge.close()

    assert asyncio.run(scenario()) == 502


def test_edge_caches_a_real_origins_object(tmp_path: Path, app_url: str) -> None:
    origin = HttpOrigin("app", url=app_url)
    store = EdgeStore(tmp_path / "cache", max_bytes=1 << 30)
    edge = Edge(
        Distribution("site", Behavior("*", origin)),
        {origin: HttpOriginClient(app_url + "/v1")},
        store,
        distribution_id="E1TEST",
    )

    async def scenario() -> None:
        try:
            for outcome in ("Miss", "Hit"):
                response = await edge(ViewerRequest("GET", "/big"))
                assert dict(response.headers)["X-Cache"] == f"{outcome} from overcast"
                body = response.body
                assert isinstance(body, FileBody)
                while body.progress is not None and not body.progress.complete:
                    await body.progress.wait_beyond(body.progress.written)
                assert body.path.read_bytes() == BIG
        finally:
            await edge.close()

    asyncio.run(scenario())
    assert edge.stats.origin_requests == 1


# --- a bucket through origin access control ----------------------------------------


def bucket_client(s3: LocalS3, bucket: str, credentials: Credentials = ROOT) -> BucketOriginClient:
    return BucketOriginClient(
        s3.url, bucket, credentials, distribution_arn=ARN, region="us-east-1", ca_bundle=s3.ca_path
    )


def test_signed_bucket_request_reads_the_object(s3: LocalS3, client: S3Client, bucket: str) -> None:
    # (the signer is the root user here: the OAC bucket policy is wired by the cloud)
    client.put_object(Bucket=bucket, Key="img/a b.png", Body=BIG[:5000])
    request = OriginRequest("GET", "/img/a%20b.png", "", [("Accept-Encoding", "gzip")])

    assert fetch(bucket_client(s3, bucket), request) == (200, BIG[:5000])


def test_viewer_credentials_and_source_arn_never_reach_the_signed_bucket_request(
    s3: LocalS3, client: S3Client, bucket: str
) -> None:
    # A viewer's own Authorization, x-amz-* headers and a SourceArn of its choosing are
    # dropped: the request S3 gets carries only the edge's signature, and it reads.
    client.put_object(Bucket=bucket, Key="page", Body=b"hello")
    viewer = [
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAVIEWER/x, Signature=00"),
        ("X-Amz-Security-Token", "viewer-token"),
        ("x-amz-date", "19990101T000000Z"),
        (SOURCE_ARN_HEADER, "arn:aws:cloudfront::000000000000:distribution/EOTHER"),
    ]

    assert fetch(bucket_client(s3, bucket), OriginRequest("GET", "/page", "", viewer)) == (
        200,
        b"hello",
    )


def test_missing_key_status_is_passed_through(s3: LocalS3, bucket: str) -> None:
    status, body = fetch(bucket_client(s3, bucket), OriginRequest("GET", "/nope", "", []))
    assert status == 404
    assert b"NoSuchKey" in body


def test_wrong_secret_is_refused_by_s3(s3: LocalS3, bucket: str) -> None:
    forged = Credentials(ROOT.access_key_id, "not-the-secret")
    status, body = fetch(bucket_client(s3, bucket, forged), OriginRequest("GET", "/x", "", []))
    assert status == 403
    assert b"SignatureDoesNotMatch" in body


ESCAPES = [
    "/../{other}/secret.txt",
    "/%2e%2e/{other}/secret.txt",
    "/a/%2E%2E/../{other}/secret.txt",
    "/..%2F{other}/secret.txt",
    "/a/..%2f..%2f{other}/secret.txt",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_dot_segments_never_reach_another_bucket(
    tmp_path: Path, s3: LocalS3, client: S3Client, bucket: str, escape: str
) -> None:
    # Given another bucket the edge's signer could read, holding a secret
    other = f"{bucket}-other"
    client.create_bucket(Bucket=other)
    client.put_object(Bucket=other, Key="secret.txt", Body=b"top secret")
    origin = HttpOrigin("site", url=s3.url)
    edge = Edge(
        Distribution("site", Behavior("*", origin)),
        {origin: bucket_client(s3, bucket)},
        EdgeStore(tmp_path / "cache", max_bytes=1 << 20),
        distribution_id="E1TEST",
    )

    async def scenario() -> tuple[int, bytes]:
        try:
            response = await edge(ViewerRequest("GET", escape.format(other=other)))
            body = response.body
            if isinstance(body, FileBody):
                while body.progress is not None and not body.progress.settled:
                    await body.progress.wait_beyond(body.progress.written)
                return response.status, body.path.read_bytes()
            return response.status, body if isinstance(body, bytes) else b""
        finally:
            await edge.close()

    # When a viewer asks for a path climbing out of the site's bucket
    status, body = asyncio.run(scenario())
    # Then it never gets the other bucket's object
    assert b"top secret" not in body
    assert status != 200


def test_the_bucket_client_never_sends_a_path_out_of_its_bucket(s3: LocalS3, bucket: str) -> None:
    with pytest.raises(ValueError, match="dot segment"):
        fetch(bucket_client(s3, bucket), OriginRequest("GET", "/../other/secret.txt", "", []))
