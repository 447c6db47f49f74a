"""Authorization at the local S3 endpoint: identity pool users confined to their folder
by ``user_folder_policy``, bucket policies, anonymous callers, and denied requests that
change nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from overcast.local.iam.policy import Policy
from tests.integration.test_s3_fixtures import LocalS3, error_code, keys_of, send_signed

BUCKET = "user-files"
ALICE = "us-east-1:aaaaaaaa-0000-4000-8000-000000000001"
BOB = "us-east-1:bbbbbbbb-0000-4000-8000-000000000002"


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
def alice(s3: LocalS3, root: S3Client) -> S3Client:
    return s3.client(s3.user(ALICE, BUCKET))


@pytest.fixture
def bobs_file(root: S3Client) -> str:
    key = f"{BOB}/secret.txt"
    root.put_object(Bucket=BUCKET, Key=key, Body=b"bob's")
    return key


def _denied(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)  # type: ignore[operator]
    return error_code(raised)


def test_a_user_reads_and_writes_their_own_folder(alice: S3Client) -> None:
    key = f"{ALICE}/notes/today.txt"
    alice.put_object(Bucket=BUCKET, Key=key, Body=b"mine")
    assert alice.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"mine"
    assert alice.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == 4
    listed = alice.list_objects_v2(Bucket=BUCKET, Prefix=f"{ALICE}/")
    assert keys_of(listed) == [key]
    alice.copy_object(
        Bucket=BUCKET, Key=f"{ALICE}/copy.txt", CopySource={"Bucket": BUCKET, "Key": key}
    )
    alice.delete_object(Bucket=BUCKET, Key=key)
    alice.delete_object(Bucket=BUCKET, Key=f"{ALICE}/copy.txt")


def test_a_user_cannot_read_or_overwrite_another_users_file(
    alice: S3Client, root: S3Client, bobs_file: str
) -> None:
    assert _denied(alice.get_object, Bucket=BUCKET, Key=bobs_file) == "AccessDenied"
    assert _denied(alice.head_object, Bucket=BUCKET, Key=bobs_file) == "403"
    assert (
        _denied(alice.put_object, Bucket=BUCKET, Key=bobs_file, Body=b"mine now") == "AccessDenied"
    )
    assert _denied(alice.delete_object, Bucket=BUCKET, Key=bobs_file) == "AccessDenied"
    # Nothing changed
    assert root.get_object(Bucket=BUCKET, Key=bobs_file)["Body"].read() == b"bob's"


def test_a_user_cannot_write_outside_their_folder(alice: S3Client, root: S3Client) -> None:
    for key in ("at-the-root.txt", f"{ALICE}-not-my-folder/x", f"{BOB}/planted.txt"):
        assert _denied(alice.put_object, Bucket=BUCKET, Key=key, Body=b"x") == "AccessDenied"
    assert "Contents" not in root.list_objects_v2(Bucket=BUCKET, Prefix=f"{BOB}/planted")
    assert "Contents" not in root.list_objects_v2(Bucket=BUCKET, Prefix="at-the-root")


def test_a_user_lists_only_with_their_own_prefix(alice: S3Client, bobs_file: str) -> None:
    assert _denied(alice.list_objects_v2, Bucket=BUCKET) == "AccessDenied"
    assert _denied(alice.list_objects_v2, Bucket=BUCKET, Prefix=f"{BOB}/") == "AccessDenied"
    assert _denied(alice.list_objects, Bucket=BUCKET, Prefix="") == "AccessDenied"
    assert alice.list_objects_v2(Bucket=BUCKET, Prefix=f"{ALICE}/", Delimiter="/")["KeyCount"] >= 0
    assert _denied(alice.list_buckets) == "AccessDenied"


def test_a_missing_key_is_access_denied_without_list_permission(
    alice: S3Client, root: S3Client
) -> None:
    # S3: 404 only for callers with s3:ListBucket; alice may list only with a prefix
    assert _denied(alice.get_object, Bucket=BUCKET, Key=f"{ALICE}/missing") == "AccessDenied"
    assert _denied(root.get_object, Bucket=BUCKET, Key=f"{ALICE}/missing") == "NoSuchKey"


def test_a_missing_bucket_is_access_denied_to_a_stranger(alice: S3Client) -> None:
    assert _denied(alice.get_object, Bucket="no-such-bucket", Key=f"{ALICE}/x") == "AccessDenied"


def test_delete_objects_authorizes_each_key(
    alice: S3Client, root: S3Client, bobs_file: str
) -> None:
    mine = f"{ALICE}/delete-me.txt"
    alice.put_object(Bucket=BUCKET, Key=mine, Body=b"x")
    answer = alice.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": mine}, {"Key": bobs_file}]}
    )
    assert [entry["Key"] for entry in answer["Deleted"]] == [mine]
    assert [(entry["Key"], entry["Code"]) for entry in answer["Errors"]] == [
        (bobs_file, "AccessDenied")
    ]
    assert root.get_object(Bucket=BUCKET, Key=bobs_file)["Body"].read() == b"bob's"


def test_copy_needs_read_on_the_source_and_write_on_the_target(
    alice: S3Client, root: S3Client, bobs_file: str
) -> None:
    stolen = {"Bucket": BUCKET, "Key": bobs_file}
    assert (
        _denied(alice.copy_object, Bucket=BUCKET, Key=f"{ALICE}/stolen", CopySource=stolen)
        == "AccessDenied"
    )
    mine = f"{ALICE}/gift.txt"
    alice.put_object(Bucket=BUCKET, Key=mine, Body=b"gift")
    planted = {"Bucket": BUCKET, "Key": mine}
    assert (
        _denied(alice.copy_object, Bucket=BUCKET, Key=f"{BOB}/gift", CopySource=planted)
        == "AccessDenied"
    )
    assert "Contents" not in root.list_objects_v2(Bucket=BUCKET, Prefix=f"{BOB}/gift")
    assert "Contents" not in root.list_objects_v2(Bucket=BUCKET, Prefix=f"{ALICE}/stolen")


def test_multipart_uploads_are_confined_to_the_folder(alice: S3Client, root: S3Client) -> None:
    key = f"{ALICE}/big.bin"
    upload_id = alice.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    etag = alice.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b"p")[
        "ETag"
    ]
    assert alice.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)["Parts"][0]["ETag"] == etag
    assert _denied(alice.list_multipart_uploads, Bucket=BUCKET) == "AccessDenied"
    alice.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    other = f"{BOB}/big.bin"
    assert _denied(alice.create_multipart_upload, Bucket=BUCKET, Key=other) == "AccessDenied"
    bobs_upload = root.create_multipart_upload(Bucket=BUCKET, Key=other)["UploadId"]
    assert (
        _denied(alice.abort_multipart_upload, Bucket=BUCKET, Key=other, UploadId=bobs_upload)
        == "AccessDenied"
    )
    assert (
        _denied(
            alice.upload_part,
            Bucket=BUCKET,
            Key=other,
            UploadId=bobs_upload,
            PartNumber=1,
            Body=b"x",
        )
        == "AccessDenied"
    )
    assert root.list_parts(Bucket=BUCKET, Key=other, UploadId=bobs_upload).get("Parts", []) == []


def test_a_presigned_url_carries_its_signers_rights(
    s3: LocalS3, alice: S3Client, bobs_file: str
) -> None:
    alice.put_object(Bucket=BUCKET, Key=f"{ALICE}/shared.txt", Body=b"shared")
    own = alice.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": f"{ALICE}/shared.txt"}
    )
    other = alice.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": bobs_file})
    with s3.http() as plain:
        assert plain.get(own).content == b"shared"
        denied = plain.get(other)
        assert denied.status_code == 403
        assert "<Code>AccessDenied</Code>" in denied.text


def test_an_expired_session_is_refused(s3: LocalS3, root: S3Client) -> None:
    expired = s3.client(s3.user(ALICE, BUCKET, expires_in=-60))
    assert _denied(expired.get_object, Bucket=BUCKET, Key=f"{ALICE}/x") == "ExpiredToken"


def test_anonymous_callers_need_a_bucket_policy(s3: LocalS3, root: S3Client) -> None:
    root.create_bucket(Bucket="public-site")
    root.put_object(
        Bucket="public-site", Key="index.html", Body=b"<h1>hi</h1>", ContentType="text/html"
    )
    with s3.http() as plain:
        assert plain.get(f"{s3.url}/public-site/index.html").status_code == 403
        s3.policies["public-site"] = [
            Policy.parse(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::public-site/*",
                        }
                    ],
                }
            )
        ]
        public = plain.get(f"{s3.url}/public-site/index.html")
        assert public.status_code == 200
        assert public.content == b"<h1>hi</h1>"
        # anonymous callers may not override response headers
        overridden = plain.get(f"{s3.url}/public-site/index.html?response-content-type=text/plain")
        assert overridden.status_code == 400
        assert "<Code>InvalidRequest</Code>" in overridden.text
        assert plain.put(f"{s3.url}/public-site/index.html", content=b"defaced").status_code == 403
        # without s3:ListBucket, a missing key is 403 to them as well
        assert plain.get(f"{s3.url}/public-site/missing.html").status_code == 403
    assert root.get_object(Bucket="public-site", Key="index.html")["Body"].read() == b"<h1>hi</h1>"


def test_a_bucket_policy_deny_on_a_condition_key_binds_even_root(
    s3: LocalS3, root: S3Client
) -> None:
    root.create_bucket(Bucket="locked")
    root.put_object(Bucket="locked", Key="k", Body=b"v")
    s3.policies["locked"] = [
        Policy.parse(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::locked/*",
                        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                    }
                ],
            }
        )
    ]
    assert _denied(root.get_object, Bucket="locked", Key="k") == "AccessDenied"
    assert root.head_bucket(Bucket="locked")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_denied_put_never_reads_its_body(s3: LocalS3, root: S3Client) -> None:
    answer = send_signed(
        s3,
        "PUT",
        f"/{BUCKET}/{BOB}/never.txt",
        body=b"x" * 100_000,
        credentials=s3.user(ALICE, BUCKET),
    )
    assert answer.status_code == 403
    assert answer.headers["connection"] == "close"  # the unread body ends the connection
    assert "Contents" not in root.list_objects_v2(Bucket=BUCKET, Prefix=f"{BOB}/never")
