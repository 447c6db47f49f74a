"""The edge's SigV4 signature on bucket requests, checked by the verifier S3 uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from overcast.local.auth.sigv4 import (
    Credentials,
    InvalidSignature,
    SignedRequest,
    SigV4Verifier,
)
from overcast.local.cdn.model import SOURCE_ARN_HEADER
from overcast.local.cdn.signing import sign_headers

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EDGE = Credentials("AKIDCLOUDFRONT000001", "cloudfront-secret", "session-token-1")
ARN = "arn:aws:cloudfront::000000000000:distribution/E1TEST"


def verifier() -> SigV4Verifier:
    return SigV4Verifier(
        {EDGE.access_key_id: EDGE}.get,
        service="s3",
        region="us-east-1",
        clock=lambda: NOW + timedelta(seconds=30),
        double_encode_path=False,
        allow_unsigned_payload=True,
    )


def signed(path: str, query: str = "") -> list[tuple[str, str]]:
    headers = [("Host", "127.0.0.1:4566"), ("Accept-Encoding", "gzip"), (SOURCE_ARN_HEADER, ARN)]
    added = sign_headers(
        "GET",
        path,
        query,
        headers,
        EDGE,
        region="us-east-1",
        now=NOW,
        also_sign=(SOURCE_ARN_HEADER,),
    )
    return [*headers, *added]


def test_signed_bucket_request_verifies_with_s3_rules() -> None:
    headers = signed("/site/img/a%20b.png", "versionId=1")
    verified = verifier().verify(
        SignedRequest("GET", "/site/img/a%20b.png", "versionId=1", headers, b"")
    )
    assert verified.credentials == EDGE
    assert verified.payload_hash == "UNSIGNED-PAYLOAD"
    authorization = dict(headers)["Authorization"]
    expected = "host;x-amz-content-sha256;x-amz-date;x-amz-security-token;" + SOURCE_ARN_HEADER
    assert f"SignedHeaders={expected}," in authorization


def test_source_arn_cannot_be_changed_after_signing() -> None:
    headers = [
        (n, "arn:aws:cloudfront::000000000000:distribution/OTHER")
        if n == SOURCE_ARN_HEADER
        else (n, v)
        for n, v in signed("/site/a")
    ]
    with pytest.raises(InvalidSignature):
        verifier().verify(SignedRequest("GET", "/site/a", "", headers, b""))


def test_another_path_does_not_verify() -> None:
    with pytest.raises(InvalidSignature):
        verifier().verify(SignedRequest("GET", "/site/b", "", signed("/site/a"), b""))
