"""The S3 endpoint as an ASGI app, over in-memory buckets: no sockets, no disk but the
uploads directory. Requests are signed by botocore, as SDKs sign them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from overcast.local.auth.sigv4 import Credentials
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.principals import Principal, Session
from overcast.local.s3.app import S3Endpoint
from overcast.local.s3.auth import S3Authenticator
from overcast.ports.objects import ObjectStore, ObjectStoreUnavailable
from overcast.ports.objects.base import BucketInfo
from overcast.ports.objects.exceptions import BucketAlreadyExists, NoSuchBucket
from overcast.ports.objects.memory import MemoryObjectStore

ROOT = Credentials("AKIAUNITROOT00000001", "unit-root-secret")
CREATED = datetime(2030, 1, 1, tzinfo=UTC)
BASE = "https://s3.unit"


class MemoryBuckets:
    """The buckets fake: one :class:`MemoryObjectStore` per name."""

    def __init__(self, *names: str) -> None:
        self.stores: dict[str, ObjectStore] = {name: MemoryObjectStore(name) for name in names}

    def create(self, name: str) -> None:
        if name in self.stores:
            raise BucketAlreadyExists(name)
        self.stores[name] = MemoryObjectStore(name)

    def exists(self, name: str) -> bool:
        return name in self.stores

    def delete(self, name: str) -> None:
        self.stores.pop(name)

    def list(self) -> Sequence[BucketInfo]:
        return [BucketInfo(name, CREATED) for name in sorted(self.stores)]

    def store(self, name: str) -> ObjectStore:
        try:
            return self.stores[name]
        except KeyError:
            raise NoSuchBucket(name) from None


class BrokenStore(MemoryObjectStore):
    def head(self, key: str) -> Any:
        raise ObjectStoreUnavailable("the disk is on fire")


def endpoint(tmp_path: Path, buckets: MemoryBuckets) -> S3Endpoint:
    root = Principal("arn:aws:iam::111122223333:root", "111122223333", "111122223333", is_root=True)
    sessions = {ROOT.access_key_id: Session(ROOT, root)}
    now = lambda: datetime.now(UTC)  # noqa: E731
    return S3Endpoint(
        buckets,
        S3Authenticator(sessions.get, region="us-east-1", clock=now),
        PolicyEvaluator(now),
        bucket_policies=lambda name: [],
        account_id="111122223333",
        region="us-east-1",
        clock=now,
        uploads_root=tmp_path / "uploads",
    )


def call(
    app: S3Endpoint,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    signed: bool = True,
) -> httpx.Response:
    request = AWSRequest(method=method, url=BASE + path, data=body, headers=headers or {})
    if signed:
        credentials = ReadOnlyCredentials(ROOT.access_key_id, ROOT.secret_access_key, None)
        S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.request(
                method, BASE + path, headers=dict(request.headers.items()), content=body
            )

    return asyncio.run(send())


def test_put_then_get_round_trips_through_the_app(tmp_path: Path) -> None:
    buckets = MemoryBuckets("b")
    app = endpoint(tmp_path, buckets)
    put = call(app, "PUT", "/b/k", body=b"body", headers={"Content-Type": "text/plain"})
    assert put.status_code == 200
    assert put.headers["etag"] == '"841a2d689ad86bd1611447453c22c6fc"'
    got = call(app, "GET", "/b/k")
    assert got.content == b"body"
    assert got.headers["content-type"] == "text/plain"
    assert got.headers["server"] == "AmazonS3"
    assert len(got.headers["x-amz-request-id"]) == 16


def test_a_head_error_has_headers_but_no_body(tmp_path: Path) -> None:
    app = endpoint(tmp_path, MemoryBuckets("b"))
    answer = call(app, "HEAD", "/b/missing")
    assert answer.status_code == 404
    assert answer.content == b""
    assert answer.headers["x-amz-id-2"]


def test_an_anonymous_put_is_denied_unread_and_ends_the_connection(tmp_path: Path) -> None:
    buckets = MemoryBuckets("b")
    app = endpoint(tmp_path, buckets)
    answer = call(app, "PUT", "/b/k", body=b"x" * 1000, signed=False)
    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text
    assert answer.headers["connection"] == "close"
    assert buckets.stores["b"].list().objects == ()


def test_a_body_that_fails_its_checksum_is_never_committed(tmp_path: Path) -> None:
    buckets = MemoryBuckets("b")
    app = endpoint(tmp_path, buckets)
    answer = call(app, "PUT", "/b/k", body=b"abc", headers={"x-amz-checksum-crc32": "AAAAAA=="})
    assert answer.status_code == 400
    assert "<Code>BadDigest</Code>" in answer.text
    assert buckets.stores["b"].list().objects == ()


def test_a_failing_store_is_a_500_internal_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    buckets = MemoryBuckets()
    buckets.stores["b"] = BrokenStore("b")
    app = endpoint(tmp_path, buckets)
    answer = call(app, "GET", "/b/k", headers={"Range": "bytes=-1"})
    assert answer.status_code == 500
    assert "<Code>InternalError</Code>" in answer.text
    assert "The local object store failed: the disk is on fire" in answer.text
    assert "the disk is on fire" in caplog.text


def test_an_unexpected_exception_is_a_logged_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    buckets = MemoryBuckets("b")
    app = endpoint(tmp_path, buckets)

    def explode(name: str) -> ObjectStore:
        raise RuntimeError("bug")

    buckets.store = explode  # type: ignore[method-assign]
    answer = call(app, "GET", "/b/k")
    assert answer.status_code == 500
    assert "<Code>InternalError</Code>" in answer.text
    assert "the local S3 endpoint failed" in caplog.text


def test_list_buckets_lists_every_bucket_with_its_owner(tmp_path: Path) -> None:
    app = endpoint(tmp_path, MemoryBuckets("alpha", "beta"))
    answer = call(app, "GET", "/")
    assert answer.status_code == 200
    assert "<Name>alpha</Name><CreationDate>2030-01-01T00:00:00.000Z</CreationDate>" in answer.text
    assert "<Name>beta</Name>" in answer.text
    assert "<Owner><ID>" in answer.text
