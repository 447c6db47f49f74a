"""Conditional writes through the local S3 endpoint, with boto3's IfNoneMatch / IfMatch:
PutObject, CompleteMultipartUpload and CopyObject write only when the condition holds,
atomically; conditional deletes are refused rather than served unconditionally."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from tests.integration.test_s3_fixtures import LocalS3, error_code, send_signed


def body(client: S3Client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_if_none_match_creates_a_new_key_and_never_overwrites(
    client: S3Client, bucket: str
) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")

    with pytest.raises(ClientError) as refused:
        client.put_object(Bucket=bucket, Key="k", Body=b"overwritten", IfNoneMatch="*")

    assert error_code(refused) == "PreconditionFailed"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert body(client, bucket, "k") == b"first"


def test_if_match_replaces_only_the_version_it_read(client: S3Client, bucket: str) -> None:
    etag = client.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    client.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)

    with pytest.raises(ClientError) as stale:
        client.put_object(Bucket=bucket, Key="k", Body=b"v3", IfMatch=etag)
    with pytest.raises(ClientError) as missing:
        client.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=etag)

    assert error_code(stale) == "PreconditionFailed"
    assert error_code(missing) == "NoSuchKey"
    assert body(client, bucket, "k") == b"v2"
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"If-None-Match": '"0123"'}, "NotImplemented"),
        ({"If-None-Match": "*", "If-Match": "*"}, "NotImplemented"),
    ],
)
def test_conditions_s3_does_not_take_on_writes_are_refused(
    s3: LocalS3, bucket: str, client: S3Client, headers: dict[str, str], code: str
) -> None:
    answer = send_signed(s3, "PUT", f"/{bucket}/k", body=b"x", headers=headers)

    assert f"<Code>{code}</Code>" in answer.text
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)


def test_racing_create_only_puts_leave_exactly_one_winner(client: S3Client, bucket: str) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def create(n: int) -> None:
        start.wait()
        try:
            client.put_object(Bucket=bucket, Key="lock", Body=b"%d" % n, IfNoneMatch="*")
            outcomes.append("created")
        except ClientError as error:
            outcomes.append(str(error.response["Error"]["Code"]))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["PreconditionFailed"] * 3 + ["created"]


def test_a_conditional_completion_that_fails_leaves_the_upload_in_progress(
    client: S3Client, bucket: str
) -> None:
    client.put_object(Bucket=bucket, Key="movie", Body=b"existing")
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="movie")["UploadId"]
    etag = client.upload_part(
        Bucket=bucket, Key="movie", UploadId=upload_id, PartNumber=1, Body=b"new movie"
    )["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}

    with pytest.raises(ClientError) as refused:
        client.complete_multipart_upload(
            Bucket=bucket, Key="movie", UploadId=upload_id, MultipartUpload=parts, IfNoneMatch="*"
        )
    assert error_code(refused) == "PreconditionFailed"
    assert body(client, bucket, "movie") == b"existing"

    current = client.head_object(Bucket=bucket, Key="movie")["ETag"]
    client.complete_multipart_upload(
        Bucket=bucket, Key="movie", UploadId=upload_id, MultipartUpload=parts, IfMatch=current
    )
    assert body(client, bucket, "movie") == b"new movie"


def test_a_conditional_copy_checks_its_destination(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="source", Body=b"source")
    client.put_object(Bucket=bucket, Key="target", Body=b"target")
    source = {"Bucket": bucket, "Key": "source"}

    with pytest.raises(ClientError) as refused:
        client.copy_object(Bucket=bucket, Key="target", CopySource=source, IfNoneMatch="*")
    client.copy_object(Bucket=bucket, Key="fresh", CopySource=source, IfNoneMatch="*")

    assert error_code(refused) == "PreconditionFailed"
    assert body(client, bucket, "target") == b"target"
    assert body(client, bucket, "fresh") == b"source"


def test_a_conditional_delete_is_refused_not_served_unconditionally(
    client: S3Client, bucket: str
) -> None:
    client.put_object(Bucket=bucket, Key="kept", Body=b"kept")
    conditional = {"Objects": [{"Key": "kept", "ETag": '"another-etag"'}]}

    with pytest.raises(ClientError) as one:
        client.delete_object(Bucket=bucket, Key="kept", IfMatch='"another-etag"')
    with pytest.raises(ClientError) as batch:
        client.delete_objects(Bucket=bucket, Delete=conditional)

    assert error_code(one) == error_code(batch) == "NotImplemented"
    assert body(client, bucket, "kept") == b"kept"
