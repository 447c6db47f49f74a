"""SigV2 presigned URLs: what boto3's generate_presigned_url makes by default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from overcast.local.auth.sigv4 import Credentials
from overcast.local.s3.auth import S3Request
from overcast.local.s3.errors import (
    AccessDenied,
    BadDigest,
    ExpiredToken,
    InvalidAccessKeyId,
    InvalidArgument,
    SignatureDoesNotMatch,
)
from tests.unit.test_s3_auth import (
    ALICE,
    HTTP,
    REGION,
    ROOT,
    ROOT_KEYS,
    TEMPORARY_KEYS,
    authenticate,
    authenticator,
    drain,
)


def default_presigned(
    keys: Credentials = ROOT_KEYS,
    method: str = "get_object",
    expires: int = 300,
    **params: Any,
) -> S3Request:
    """A presigned URL as boto3 makes it with no signature_version configured (SigV2)."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=HTTP,
        region_name=REGION,
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
        config=Config(s3={"addressing_style": "path"}),
    )
    url = client.generate_presigned_url(
        method,
        Params={"Bucket": "bucket", "Key": "us-east-1:abc/a cat.jpg", **params},
        ExpiresIn=expires,
    )
    parts = urlsplit(url)
    verb = "PUT" if method in ("put_object", "copy_object", "upload_part") else "GET"
    return S3Request(verb, parts.path, parts.query, [("host", parts.netloc)], secure=False)


def test_boto3s_default_presigned_url_is_sigv2_and_is_authenticated() -> None:
    request = default_presigned()

    assert "AWSAccessKeyId=" in request.raw_query
    assert authenticate(request).session == ROOT


def test_a_sigv2_url_with_temporary_credentials_needs_its_token() -> None:
    request = default_presigned(TEMPORARY_KEYS)
    tokenless = request.raw_query.replace("x-amz-security-token=the-session-token", "")

    assert authenticate(request).session == ALICE
    with pytest.raises(InvalidAccessKeyId):
        authenticate(S3Request("GET", request.raw_path, tokenless, request.headers, False))


def test_response_overrides_are_signed_in_a_sigv2_url() -> None:
    request = default_presigned(ResponseContentType="text/plain")
    tampered = request.raw_query.replace("text%2Fplain", "text%2Fhtml")

    assert authenticate(request).presigned is True
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(S3Request("GET", request.raw_path, tampered, request.headers, False))


def test_a_sigv2_put_url_signs_its_content_type() -> None:
    request = default_presigned(method="put_object", ContentType="image/jpeg")

    assert authenticate(request).session == ROOT


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r: S3Request(r.method, r.raw_path + "x", r.raw_query, r.headers, False),
                     id="another-key"),
        pytest.param(lambda r: S3Request("DELETE", r.raw_path, r.raw_query, r.headers, False),
                     id="another-method"),
    ],
)  # fmt: skip
def test_a_sigv2_url_used_for_anything_else_does_not_match(tamper: Any) -> None:
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(tamper(default_presigned()))


def test_an_expired_sigv2_url_is_denied() -> None:
    request = default_presigned(expires=60)
    later = authenticator(skew=timedelta(seconds=61))

    with pytest.raises(AccessDenied, match="Request has expired"):
        later.authenticate(request)


def test_a_sigv2_url_of_expired_credentials_is_refused() -> None:
    request = default_presigned(TEMPORARY_KEYS, expires=7200)
    assert ALICE.expires_at is not None
    after_expiry = ALICE.expires_at - datetime.now(UTC) + timedelta(seconds=1)

    with pytest.raises(ExpiredToken):
        authenticator(skew=after_expiry).authenticate(request)


def test_a_sigv2_copy_url_signs_the_copy_source_it_carries_in_its_query() -> None:
    request = default_presigned(method="copy_object", CopySource="bucket/source.jpg")
    other_source = request.raw_query.replace("source.jpg", "secret.jpg")

    assert "x-amz-copy-source=bucket%2Fsource.jpg" in request.raw_query
    assert authenticate(request).session == ROOT
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(S3Request("PUT", request.raw_path, other_source, request.headers, False))


def test_a_sigv2_url_refuses_a_header_that_contradicts_its_query() -> None:
    request = default_presigned(method="put_object", Metadata={"owner": "alice"})
    same = [*request.headers, ("x-amz-meta-owner", "alice")]
    contradicting = [*request.headers, ("x-amz-meta-owner", "mallory")]

    assert authenticate(S3Request("PUT", request.raw_path, request.raw_query, same, False))
    with pytest.raises(InvalidArgument, match="x-amz-meta-owner"):
        authenticate(S3Request("PUT", request.raw_path, request.raw_query, contradicting, False))


def test_a_sigv2_urls_query_borne_content_md5_checks_the_body() -> None:
    md5_of_hello = "XUFAKrxLKna5cZ2REBfFkg=="
    request = default_presigned(method="put_object", ContentMD5=md5_of_hello)
    payload = authenticate(request).payload

    assert drain(payload, b"hello") == b"hello"
    with pytest.raises(BadDigest):
        drain(authenticate(request).payload, b"jello")
