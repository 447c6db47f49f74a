"""The local S3 endpoint's object operations, driven by boto3 (and raw signed requests)
over HTTPS, as the account's root user."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from tests.integration.conftest import new_bucket_name
from tests.integration.test_s3_fixtures import LocalS3, error_code, send_signed


def test_an_object_comes_back_with_its_body_and_metadata(client: S3Client, bucket: str) -> None:
    # Given an object stored with system and user metadata
    body = b"hello, local cloud"
    put = client.put_object(
        Bucket=bucket,
        Key="docs/hello.txt",
        Body=body,
        ContentType="text/plain; charset=utf-8",
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="hello.txt"',
        ContentEncoding="identity",
        ContentLanguage="en",
        Expires=datetime(2031, 1, 1, tzinfo=UTC),
        Metadata={"Author": "Ada", "topic": "greetings"},
    )
    # When it is read back
    got = client.get_object(Bucket=bucket, Key="docs/hello.txt")
    # Then body, ETag (the MD5) and every piece of metadata are as stored
    assert got["Body"].read() == body
    assert put["ETag"] == got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert got["ContentType"] == "text/plain; charset=utf-8"
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == 'attachment; filename="hello.txt"'
    assert got["ContentEncoding"] == "identity"
    assert got["ContentLanguage"] == "en"
    assert got["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 01 Jan 2031 00:00:00 GMT"
    assert got["Metadata"] == {"author": "Ada", "topic": "greetings"}
    assert got["ContentLength"] == len(body)
    assert got["AcceptRanges"] == "bytes"
    assert abs(got["LastModified"] - datetime.now(UTC)) < timedelta(minutes=1)


def test_head_tells_the_same_headers_as_get_without_a_body(
    s3: LocalS3, client: S3Client, bucket: str
) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"12345", Metadata={"a": "b"})
    head = client.head_object(Bucket=bucket, Key="k")
    assert head["ContentLength"] == 5
    assert head["Metadata"] == {"a": "b"}
    assert head["ContentType"] == "binary/octet-stream"  # S3's default
    raw = send_signed(s3, "HEAD", f"/{bucket}/k")
    assert raw.status_code == 200
    assert raw.content == b""
    assert raw.headers["content-length"] == "5"


def test_every_answer_carries_request_ids(s3: LocalS3, client: S3Client, bucket: str) -> None:
    ok = client.list_objects_v2(Bucket=bucket)["ResponseMetadata"]
    assert len(ok["RequestId"]) == 16
    assert ok["HostId"]
    failed = send_signed(s3, "GET", f"/{bucket}/missing")
    assert failed.status_code == 404
    assert failed.headers["x-amz-request-id"]
    assert failed.headers["x-amz-id-2"]
    assert f"<RequestId>{failed.headers['x-amz-request-id']}</RequestId>" in failed.text


def test_a_missing_key_is_no_such_key_for_the_owner(
    s3: LocalS3, client: S3Client, bucket: str
) -> None:
    with pytest.raises(ClientError) as raised:
        client.get_object(Bucket=bucket, Key="nothing/here")
    assert error_code(raised) == "NoSuchKey"
    assert raised.value.response["Error"]["Key"] == "nothing/here"
    # HEAD errors have no body: status and headers only
    head = send_signed(s3, "HEAD", f"/{bucket}/nothing/here")
    assert head.status_code == 404
    assert head.content == b""


def test_a_missing_bucket_is_no_such_bucket_for_the_owner(client: S3Client) -> None:
    with pytest.raises(ClientError) as raised:
        client.get_object(Bucket="no-such-bucket-here", Key="k")
    assert error_code(raised) == "NoSuchBucket"
    assert raised.value.response["Error"]["BucketName"] == "no-such-bucket-here"


@pytest.mark.parametrize(
    ("range_header", "status", "body", "content_range"),
    [
        ("bytes=0-4", 206, b"01234", "bytes 0-4/10"),
        ("bytes=7-", 206, b"789", "bytes 7-9/10"),
        ("bytes=-3", 206, b"789", "bytes 7-9/10"),
        ("bytes=-30", 206, b"0123456789", "bytes 0-9/10"),
        ("bytes=8-1000", 206, b"89", "bytes 8-9/10"),
        ("bytes=0-1,4-5", 200, b"0123456789", None),  # several ranges: S3 serves it whole
        ("bytes=5-2", 200, b"0123456789", None),  # invalid: ignored
        ("items=0-1", 200, b"0123456789", None),
    ],
    ids=[
        "first-last",
        "open-end",
        "suffix",
        "suffix-past-start",
        "clipped",
        "multi",
        "backwards",
        "unit",
    ],
)
def test_a_range_gets_part_of_an_object(
    client: S3Client,
    bucket: str,
    range_header: str,
    status: int,
    body: bytes,
    content_range: str | None,
) -> None:
    client.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    got = client.get_object(Bucket=bucket, Key="digits", Range=range_header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == status
    assert got["Body"].read() == body
    assert got.get("ContentRange") == content_range
    assert got["ContentLength"] == len(body)


@pytest.mark.parametrize("range_header", ["bytes=10-", "bytes=20-30", "bytes=-0"])
def test_an_unsatisfiable_range_is_invalid_range_with_the_size(
    s3: LocalS3, client: S3Client, bucket: str, range_header: str
) -> None:
    client.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    answer = send_signed(s3, "GET", f"/{bucket}/digits", headers={"Range": range_header})
    assert answer.status_code == 416
    assert "<Code>InvalidRange</Code>" in answer.text
    assert answer.headers["content-range"] == "bytes */10"


def test_a_big_object_streams_out_whole_and_in_ranges(client: S3Client, bucket: str) -> None:
    body = bytes(range(256)) * (5 * 4096 + 7)  # 5 MiB and a bit: several chunks
    client.put_object(Bucket=bucket, Key="big", Body=body)
    assert client.get_object(Bucket=bucket, Key="big")["Body"].read() == body
    middle = client.get_object(Bucket=bucket, Key="big", Range="bytes=1048570-3145740")
    assert middle["Body"].read() == body[1048570:3145741]


def _conditional(client: S3Client, bucket: str, **conditions: object) -> int | str:
    try:
        got = client.get_object(Bucket=bucket, Key="k", **conditions)  # type: ignore[arg-type]
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return int(got["ResponseMetadata"]["HTTPStatusCode"])


def test_conditional_gets_follow_s3s_precedence(client: S3Client, bucket: str) -> None:
    etag = client.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    modified = client.head_object(Bucket=bucket, Key="k")["LastModified"]
    before, after = modified - timedelta(hours=1), modified + timedelta(hours=1)
    assert _conditional(client, bucket, IfMatch=etag) == 200
    assert _conditional(client, bucket, IfMatch='"0123"') == "PreconditionFailed"
    assert _conditional(client, bucket, IfMatch="*") == 200
    assert _conditional(client, bucket, IfNoneMatch=etag) == "304"
    assert _conditional(client, bucket, IfNoneMatch='"other"') == 200
    assert _conditional(client, bucket, IfModifiedSince=after) == "304"
    assert _conditional(client, bucket, IfModifiedSince=before) == 200
    assert _conditional(client, bucket, IfUnmodifiedSince=before) == "PreconditionFailed"
    assert _conditional(client, bucket, IfUnmodifiedSince=after) == 200
    # If-Match true wins over If-Unmodified-Since false: 200 (S3's documented rule)
    assert _conditional(client, bucket, IfMatch=etag, IfUnmodifiedSince=before) == 200
    # If-None-Match false and If-Modified-Since true: 304
    assert _conditional(client, bucket, IfNoneMatch=etag, IfModifiedSince=before) == "304"


def test_a_failed_precondition_tells_which_condition(
    s3: LocalS3, client: S3Client, bucket: str
) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"v1")
    answer = send_signed(s3, "GET", f"/{bucket}/k", headers={"If-Match": '"nope"'})
    assert answer.status_code == 412
    assert "<Condition>If-Match</Condition>" in answer.text
    head = send_signed(s3, "HEAD", f"/{bucket}/k", headers={"If-Match": '"nope"'})
    assert head.status_code == 412
    assert head.content == b""


def test_response_overrides_replace_headers_on_signed_gets(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"{}", ContentType="text/plain")
    got = client.get_object(
        Bucket=bucket,
        Key="k",
        ResponseContentType="application/json",
        ResponseContentDisposition="inline",
        ResponseCacheControl="no-store",
        ResponseContentLanguage="fr",
        ResponseContentEncoding="identity",
        ResponseExpires=datetime(2031, 1, 1, tzinfo=UTC),
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "no-store"
    assert got["ContentLanguage"] == "fr"
    assert got["ContentEncoding"] == "identity"
    assert got["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 01 Jan 2031 00:00:00 GMT"


def test_stored_checksums_are_told_when_asked(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"checked", ChecksumAlgorithm="SHA256")
    got = client.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    # botocore validates the body against the checksum it is told
    assert got["Body"].read() == b"checked"
    assert got["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"checked").digest()).decode()


def test_delete_answers_204_whether_or_not_the_key_exists(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert client.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_keys_are_opaque_and_decoded_once(s3: LocalS3, client: S3Client, bucket: str) -> None:
    keys = ["..etc/passwd", "a//b", "/leading", "sp ace+plus", "ünï/cødé ✓", "100%", "a%2Fb"]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    # %2F in a path is a plain "/" once decoded
    assert send_signed(s3, "GET", f"/{bucket}/a%2F%2Fb").content == b"a//b"
    assert not (s3.root / "etc").exists()


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/./b", "a/..", ".", "folder/../other/x"])
def test_a_key_with_a_dot_or_dot_dot_segment_is_refused(
    s3: LocalS3, client: S3Client, bucket: str, key: str
) -> None:
    with pytest.raises(ClientError) as raised:
        client.put_object(Bucket=bucket, Key=key, Body=b"no")
    assert error_code(raised) == "InvalidArgument"
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert not (s3.root / "etc").exists()


def test_a_key_over_1024_bytes_is_key_too_long(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k" * 1024, Body=b"ok")
    with pytest.raises(ClientError) as raised:
        client.put_object(Bucket=bucket, Key="k" * 1025, Body=b"no")
    assert error_code(raised) == "KeyTooLongError"


def test_a_key_with_control_characters_is_an_invalid_argument(
    client: S3Client, bucket: str
) -> None:
    with pytest.raises(ClientError) as raised:
        client.put_object(Bucket=bucket, Key="bad\x01key", Body=b"no")
    assert error_code(raised) == "InvalidArgument"


def test_user_metadata_over_2_kb_is_refused(client: S3Client, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        client.put_object(Bucket=bucket, Key="k", Body=b"v", Metadata={"big": "x" * 2046})
    assert error_code(raised) == "MetadataTooLarge"
    client.put_object(Bucket=bucket, Key="k", Body=b"v", Metadata={"big": "x" * 2045})


def test_acls_are_not_supported_but_private_is(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"v", ACL="private")
    with pytest.raises(ClientError) as raised:
        client.put_object(Bucket=bucket, Key="k", Body=b"v", ACL="public-read")
    assert error_code(raised) == "AccessControlListNotSupported"


def test_a_put_without_content_length_is_refused(s3: LocalS3, bucket: str) -> None:
    url = f"{s3.url}/{bucket}/streamed"
    with s3.http() as plain:
        answer = plain.put(url, content=iter([b"no ", b"length"]))
    assert answer.status_code in (403, 411)  # anonymous: refused either way
    signed = send_signed(s3, "PUT", f"/{bucket}/streamed", headers={"Transfer-Encoding": "chunked"})
    assert signed.status_code == 411
    assert "<Code>MissingContentLength</Code>" in signed.text


def test_a_body_that_fails_its_md5_is_not_stored(
    s3: LocalS3, client: S3Client, bucket: str
) -> None:
    answer = send_signed(
        s3,
        "PUT",
        f"/{bucket}/k",
        body=b"tampered",
        headers={"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="},  # the MD5 of b""
    )
    assert answer.status_code == 400
    assert "<Code>BadDigest</Code>" in answer.text
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_unserved_subresources_answer_not_implemented(client: S3Client, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        client.get_bucket_acl(Bucket=bucket)
    assert error_code(raised) == "NotImplemented"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_a_version_id_other_than_null_is_refused(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert client.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"v"
    with pytest.raises(ClientError) as raised:
        client.get_object(Bucket=bucket, Key="k", VersionId="3HL4kqtJlcpXroDTDmJ")
    assert error_code(raised) == "InvalidArgument"


def test_presigned_urls_get_and_put_with_a_plain_http_client(
    s3: LocalS3, client: S3Client, bucket: str
) -> None:
    put_url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "shared/file.bin"}, ExpiresIn=300
    )
    with s3.http() as plain:
        assert plain.put(put_url, content=b"uploaded by url").status_code == 200
        get_url = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "shared/file.bin"}, ExpiresIn=300
        )
        got = plain.get(get_url)
        assert got.status_code == 200
        assert got.content == b"uploaded by url"
        assert plain.get(get_url, headers={"Range": "bytes=0-7"}).content == b"uploaded"
        tampered = plain.get(get_url.replace("shared/file.bin", "shared/other.bin"))
        assert tampered.status_code == 403
        assert "<Code>SignatureDoesNotMatch</Code>" in tampered.text


def test_delete_objects_deletes_many_keys_at_once(client: S3Client, bucket: str) -> None:
    for key in ("a", "b", "c"):
        client.put_object(Bucket=bucket, Key=key, Body=b"v")
    answer = client.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "never-was"}]}
    )
    assert sorted(entry["Key"] for entry in answer["Deleted"]) == ["a", "b", "never-was"]
    assert "Errors" not in answer
    assert [entry["Key"] for entry in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]
    quiet = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert "Errors" not in quiet


def test_delete_objects_requires_an_integrity_header_and_good_xml(s3: LocalS3, bucket: str) -> None:
    body = b"<Delete><Object><Key>a</Key></Object></Delete>"
    missing = send_signed(s3, "POST", f"/{bucket}?delete", body=body)
    assert missing.status_code == 400
    assert "Missing required header for this request: Content-MD5" in missing.text
    md5 = "ZmYv2xX5R0u8ZHeXD8hzLA=="  # not the body's MD5
    bad_digest = send_signed(
        s3, "POST", f"/{bucket}?delete", body=body, headers={"Content-MD5": md5}
    )
    assert "<Code>BadDigest</Code>" in bad_digest.text
    malformed = b"<Delete><Object><Key>a</Key></Object>"
    answer = send_signed(
        s3, "POST", f"/{bucket}?delete", body=malformed, headers={"Content-MD5": _md5(malformed)}
    )
    assert answer.status_code == 400
    assert "<Code>MalformedXML</Code>" in answer.text
    too_many = b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>"
    answer = send_signed(
        s3, "POST", f"/{bucket}?delete", body=too_many, headers={"Content-MD5": _md5(too_many)}
    )
    assert "<Code>MalformedXML</Code>" in answer.text


def test_xml_with_entities_is_refused(s3: LocalS3, bucket: str) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>'
    )
    answer = send_signed(
        s3, "POST", f"/{bucket}?delete", body=bomb, headers={"Content-MD5": _md5(bomb)}
    )
    assert answer.status_code == 400
    assert "<Code>MalformedXML</Code>" in answer.text


def _md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def test_copy_keeps_or_replaces_metadata(client: S3Client, bucket: str) -> None:
    client.put_object(
        Bucket=bucket, Key="src key ü", Body=b"copied", ContentType="text/x", Metadata={"a": "1"}
    )
    source = {"Bucket": bucket, "Key": "src key ü"}
    copied = client.copy_object(Bucket=bucket, Key="kept", CopySource=source)
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copied").hexdigest()}"'
    kept = client.get_object(Bucket=bucket, Key="kept")
    assert kept["Body"].read() == b"copied"
    assert (kept["ContentType"], kept["Metadata"]) == ("text/x", {"a": "1"})
    client.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource=source,
        MetadataDirective="REPLACE",
        ContentType="text/y",
        Metadata={"b": "2"},
    )
    replaced = client.head_object(Bucket=bucket, Key="replaced")
    assert (replaced["ContentType"], replaced["Metadata"]) == ("text/y", {"b": "2"})


def test_copy_onto_itself_needs_replace(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"v", Metadata={"a": "1"})
    with pytest.raises(ClientError) as raised:
        client.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert error_code(raised) == "InvalidRequest"
    client.copy_object(
        Bucket=bucket,
        Key="k",
        CopySource={"Bucket": bucket, "Key": "k"},
        MetadataDirective="REPLACE",
        Metadata={"a": "2"},
    )
    assert client.head_object(Bucket=bucket, Key="k")["Metadata"] == {"a": "2"}


def test_copy_across_buckets_with_source_preconditions(client: S3Client, bucket: str) -> None:
    other = new_bucket_name()
    client.create_bucket(Bucket=other)
    etag = client.put_object(Bucket=other, Key="src", Body=b"v")["ETag"]
    source = {"Bucket": other, "Key": "src"}
    client.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceIfMatch=etag)
    assert client.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"v"
    with pytest.raises(ClientError) as raised:
        client.copy_object(Bucket=bucket, Key="dst2", CopySource=source, CopySourceIfNoneMatch=etag)
    assert error_code(raised) == "PreconditionFailed"
    with pytest.raises(ClientError) as raised:
        client.copy_object(Bucket=bucket, Key="dst3", CopySource={"Bucket": other, "Key": "gone"})
    assert error_code(raised) == "NoSuchKey"
    with pytest.raises(ClientError) as raised:
        client.copy_object(
            Bucket=bucket, Key="dst4", CopySource={"Bucket": "no-such-bucket", "Key": "k"}
        )
    assert error_code(raised) == "NoSuchBucket"
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_a_path_that_is_not_utf8_is_an_invalid_uri(s3: LocalS3, bucket: str) -> None:
    answer = send_signed(s3, "GET", f"/{bucket}/%FF%FE")
    assert answer.status_code == 400
    assert "<Code>InvalidURI</Code>" in answer.text


def test_a_method_s3_has_no_operation_for_is_not_allowed(s3: LocalS3, bucket: str) -> None:
    answer = send_signed(s3, "POST", f"/{bucket}/k")
    assert answer.status_code == 405
    assert "<Code>MethodNotAllowed</Code>" in answer.text


def test_objects_survive_a_restart(tmp_path: Path) -> None:
    local = LocalS3(tmp_path)
    with local.serve():
        first = local.client()
        first.create_bucket(Bucket="durable")
        first.put_object(Bucket="durable", Key="k", Body=b"kept")
    with local.serve(local.endpoint()):
        assert local.client().get_object(Bucket="durable", Key="k")["Body"].read() == b"kept"


@pytest.mark.parametrize(
    "extra",
    [
        {"ServerSideEncryption": "aws:kms"},
        {"StorageClass": "GLACIER"},
        {"Tagging": "team=blue"},
        {
            "ObjectLockMode": "GOVERNANCE",
            "ObjectLockRetainUntilDate": datetime(2031, 1, 1, tzinfo=UTC),
        },
    ],
    ids=["kms", "glacier", "tagging", "object-lock"],
)
def test_what_the_local_store_cannot_honour_is_refused_loudly(
    client: S3Client, bucket: str, extra: dict[str, object]
) -> None:
    with pytest.raises(ClientError) as raised:
        client.put_object(Bucket=bucket, Key="k", Body=b"v", **extra)  # type: ignore[arg-type]
    assert error_code(raised) == "NotImplemented"
    client.put_object(Bucket=bucket, Key="k", Body=b"v", ServerSideEncryption="AES256")


def test_a_request_expecting_another_bucket_owner_is_denied(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"v", ExpectedBucketOwner="000000000000")
    with pytest.raises(ClientError) as raised:
        client.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner="999999999999")
    assert error_code(raised) == "AccessDenied"


def test_head_with_a_range_tells_the_range(client: S3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    head = client.head_object(Bucket=bucket, Key="digits", Range="bytes=2-4")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert (head["ContentLength"], head["ContentRange"]) == (3, "bytes 2-4/10")
