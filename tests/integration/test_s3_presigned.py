"""Presigned URLs over the local S3 endpoint, as boto3 makes them by default (SigV2 in
us-east-1) and with SigV4: what they carry in their query is what is signed and what is
served, and policies see how they were signed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from mypy_boto3_s3 import S3Client

from overcast.local.iam.policy import Policy
from tests.integration.test_s3_fixtures import ROOT, LocalS3

BUCKET = "presigned"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    with LocalS3(tmp_path_factory.mktemp("s3")).serve() as served:
        yield served


@pytest.fixture(scope="module")
def root(s3: LocalS3) -> S3Client:
    client = s3.client()
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def sigv2(s3: LocalS3, root: S3Client) -> S3Client:
    """A client with botocore's default presigning: SigV2 query strings in us-east-1."""
    session = boto3.session.Session(
        aws_access_key_id=ROOT.access_key_id,
        aws_secret_access_key=ROOT.secret_access_key,
        region_name=s3.region,
    )
    client = session.client(
        "s3", endpoint_url=s3.url, verify=s3.ca_path, config=Config(s3={"addressing_style": "path"})
    )
    s3.clients.append(client)
    return client


def url_of(client: S3Client, operation: str, **params: Any) -> str:
    return client.generate_presigned_url(
        operation, Params={"Bucket": BUCKET, **params}, ExpiresIn=300
    )


def test_a_sigv2_put_url_stores_the_metadata_it_signed(
    s3: LocalS3, root: S3Client, sigv2: S3Client
) -> None:
    url = url_of(sigv2, "put_object", Key="signed-meta", Metadata={"owner": "alice"})
    assert "x-amz-meta-owner=alice" in url
    assert "AWSAccessKeyId=" in url

    with s3.http() as http:
        assert http.put(url, content=b"data").status_code == 200

    assert root.head_object(Bucket=BUCKET, Key="signed-meta")["Metadata"] == {"owner": "alice"}


def test_a_sigv2_copy_url_copies_and_never_empties_the_target(
    s3: LocalS3, root: S3Client, sigv2: S3Client
) -> None:
    root.put_object(Bucket=BUCKET, Key="copy-source", Body=b"source-bytes")
    root.put_object(Bucket=BUCKET, Key="copy-target", Body=b"precious")
    url = url_of(sigv2, "copy_object", Key="copy-target", CopySource=f"{BUCKET}/copy-source")

    with s3.http() as http:
        answer = http.put(url)

    assert answer.status_code == 200
    assert "<CopyObjectResult" in answer.text
    assert root.get_object(Bucket=BUCKET, Key="copy-target")["Body"].read() == b"source-bytes"


def test_a_sigv2_url_sent_with_a_contradicting_header_changes_nothing(
    s3: LocalS3, root: S3Client, sigv2: S3Client
) -> None:
    url = url_of(sigv2, "put_object", Key="contradicted", Metadata={"owner": "alice"})

    with s3.http() as http:
        answer = http.put(url, content=b"data", headers={"x-amz-meta-owner": "mallory"})

    assert answer.status_code == 400
    assert "<Code>InvalidArgument</Code>" in answer.text
    assert "Contents" not in root.list_objects_v2(Bucket=BUCKET, Prefix="contradicted")


def test_a_part_url_cannot_be_redirected_to_another_upload(
    s3: LocalS3, root: S3Client, sigv2: S3Client
) -> None:
    signed_for = root.create_multipart_upload(Bucket=BUCKET, Key="big")["UploadId"]
    victim = root.create_multipart_upload(Bucket=BUCKET, Key="big")["UploadId"]
    url = url_of(sigv2, "upload_part", Key="big", UploadId=signed_for, PartNumber=1)
    base, query = url.split("?", 1)

    with s3.http() as http:
        answer = http.put(f"{base}?uploadId={victim}&{query}", content=b"A" * 10)

    assert answer.status_code == 400
    assert "more than once" in answer.text
    for upload_id in (signed_for, victim):
        assert "Parts" not in root.list_parts(Bucket=BUCKET, Key="big", UploadId=upload_id)


def test_a_plus_for_percent_2b_in_a_url_serves_what_was_signed(s3: LocalS3, root: S3Client) -> None:
    root.put_object(Bucket=BUCKET, Key="typed", Body=b"1")
    url = url_of(root, "get_object", Key="typed", ResponseContentType="application/x+y")
    assert "x%2By" in url

    with s3.http() as http:
        as_signed = http.get(url)
        respelled = http.get(url.replace("x%2By", "x+y"))

    assert as_signed.headers["content-type"] == "application/x+y"
    assert respelled.status_code == 200
    assert respelled.headers["content-type"] == "application/x+y"  # never "application/x y"


def test_a_bucket_policy_can_refuse_sigv2_and_query_string_authentication(
    s3: LocalS3, root: S3Client, sigv2: S3Client
) -> None:
    root.put_object(Bucket=BUCKET, Key="guarded/x", Body=b"hello")
    guarded = f"arn:aws:s3:::{BUCKET}/guarded/*"
    statements = [
        {"StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}},
        {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}},
    ]
    old_url = url_of(sigv2, "get_object", Key="guarded/x")
    new_url = url_of(root, "get_object", Key="guarded/x")
    try:
        with s3.http() as http:
            s3.policies[BUCKET] = [_deny(guarded, statements[0])]
            assert http.get(old_url).status_code == 403
            assert http.get(new_url).status_code == 200
            s3.policies[BUCKET] = [_deny(guarded, statements[1])]
            assert http.get(new_url).status_code == 403
        assert root.get_object(Bucket=BUCKET, Key="guarded/x")["Body"].read() == b"hello"
    finally:
        s3.policies.pop(BUCKET, None)


def _deny(resource: str, condition: dict[str, Any]) -> Policy:
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": resource,
        "Condition": condition,
    }
    return Policy.parse({"Version": "2012-10-17", "Statement": [statement]})
