"""The condition keys the S3 endpoint gives a request, enforced through bucket policies:
the signature's (s3:signatureAge, s3:signatureversion, s3:authType,
s3:x-amz-content-sha256), the connection's (s3:TlsVersion) and the writes' headers
(s3:x-amz-server-side-encryption, s3:x-amz-metadata-directive, s3:x-amz-copy-source).
The app runs over in-memory buckets; its clock is injected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from starlette.types import Receive, Scope, Send

from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.principals import Principal, Session
from overcast.local.s3.app import S3Endpoint
from overcast.local.s3.auth import S3Authenticator
from tests.unit.test_s3_app import BASE, ROOT, MemoryBuckets, call

ASGIApp = Callable[[Scope, Receive, Send], Any]


def deny(action: str, condition: Mapping[str, Any], resource: str = "arn:aws:s3:::b/*") -> Policy:
    statement = {"Effect": "Deny", "Principal": "*", "Action": action, "Resource": resource}
    return Policy.parse({"Version": "2012-10-17", "Statement": [{**statement, **condition}]})


def endpoint(
    tmp_path: Path, buckets: MemoryBuckets, policy: Policy, *, later: timedelta = timedelta(0)
) -> S3Endpoint:
    root = Principal("arn:aws:iam::111122223333:root", "111122223333", "111122223333", is_root=True)
    sessions = {ROOT.access_key_id: Session(ROOT, root)}

    def clock() -> datetime:
        return datetime.now(UTC) + later

    return S3Endpoint(
        buckets,
        S3Authenticator(sessions.get, region="us-east-1", clock=clock),
        PolicyEvaluator(clock),
        bucket_policies=lambda name: [policy],
        account_id="111122223333",
        region="us-east-1",
        clock=clock,
        uploads_root=tmp_path / "uploads",
    )


def presigned_get(app: ASGIApp, path: str) -> httpx.Response:
    request = AWSRequest(method="GET", url=BASE + path)
    credentials = ReadOnlyCredentials(ROOT.access_key_id, ROOT.secret_access_key, None)
    S3SigV4QueryAuth(credentials, "s3", "us-east-1", expires=3600).add_auth(request)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(str(request.url))

    return asyncio.run(send())


def over_tls(app: S3Endpoint, version: int) -> ASGIApp:
    """``app`` behind a server that reports the connection's TLS version (ASGI TLS extension)."""

    async def reporting(scope: Scope, receive: Receive, send: Send) -> None:
        extensions = {**scope.get("extensions", {}), "tls": {"tls_version": version}}
        await app({**scope, "extensions": extensions}, receive, send)

    return reporting


def stocked(*keys: str) -> MemoryBuckets:
    buckets = MemoryBuckets("b")
    for key in keys:
        buckets.stores["b"].put(key, key.encode())
    return buckets


def test_a_deny_on_signature_age_refuses_a_presigned_url_older_than_it_allows(
    tmp_path: Path,
) -> None:
    # AWS's example: deny presigned requests whose signature is more than 10 minutes old.
    policy = deny("s3:*", {"Condition": {"NumericGreaterThan": {"s3:signatureAge": "600000"}}})
    buckets = stocked("k")

    fresh = presigned_get(endpoint(tmp_path, buckets, policy), "/b/k")
    stale = presigned_get(endpoint(tmp_path, buckets, policy, later=timedelta(minutes=11)), "/b/k")

    assert fresh.status_code == 200
    assert stale.status_code == 403
    assert "<Code>AccessDenied</Code>" in stale.text


def test_a_deny_on_tls_version_refuses_connections_below_it(tmp_path: Path) -> None:
    policy = deny("s3:*", {"Condition": {"NumericLessThan": {"s3:TlsVersion": "1.3"}}})
    app = endpoint(tmp_path, stocked("k"), policy)

    assert presigned_get(over_tls(app, 0x0303), "/b/k").status_code == 403
    assert presigned_get(over_tls(app, 0x0304), "/b/k").status_code == 200


def test_a_deny_on_unsigned_payloads_refuses_a_presigned_put_only(tmp_path: Path) -> None:
    policy = deny(
        "s3:PutObject",
        {"Condition": {"StringEquals": {"s3:x-amz-content-sha256": "UNSIGNED-PAYLOAD"}}},
    )
    buckets = stocked()
    app = endpoint(tmp_path, buckets, policy)

    assert call(app, "PUT", "/b/signed", body=b"body").status_code == 200
    request = AWSRequest(method="PUT", url=BASE + "/b/unsigned")
    credentials = ReadOnlyCredentials(ROOT.access_key_id, ROOT.secret_access_key, None)
    S3SigV4QueryAuth(credentials, "s3", "us-east-1", expires=60).add_auth(request)
    answer = asyncio.run(_put(app, str(request.url), b"body"))

    assert answer.status_code == 403
    assert [info.key for info in buckets.stores["b"].list().objects] == ["signed"]


async def _put(app: ASGIApp, url: str, body: bytes) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.put(url, content=body)


def test_a_policy_can_require_server_side_encryption_on_uploads(tmp_path: Path) -> None:
    policy = deny(
        "s3:PutObject", {"Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}
    )
    app = endpoint(tmp_path, stocked(), policy)
    encrypted = {"x-amz-server-side-encryption": "AES256"}

    assert call(app, "PUT", "/b/plain", body=b"x").status_code == 403
    assert call(app, "PUT", "/b/sealed", body=b"x", headers=encrypted).status_code == 200


def test_a_policy_can_refuse_copies_that_replace_metadata_or_read_a_source(
    tmp_path: Path,
) -> None:
    policy = Policy.parse(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"StringEquals": {"s3:x-amz-metadata-directive": "REPLACE"}},
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"StringLike": {"s3:x-amz-copy-source": "b/secret*"}},
                },
            ],
        }
    )
    app = endpoint(tmp_path, stocked("public", "secret"), policy)

    def copy(source: str, **headers: str) -> int:
        sent = {"x-amz-copy-source": source, **headers}
        return call(app, "PUT", "/b/copy", headers=sent).status_code

    assert copy("b/public") == 200
    assert copy("b/public", **{"x-amz-metadata-directive": "REPLACE"}) == 403
    assert copy("b/secret") == 403
