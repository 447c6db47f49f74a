"""The local S3 endpoint's bucket operations, in us-east-1 and in another region."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from tests.integration.test_s3_fixtures import LocalS3, error_code, send_signed


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    with LocalS3(tmp_path_factory.mktemp("s3")).serve() as served:
        yield served


@pytest.fixture(scope="module")
def client(s3: LocalS3) -> S3Client:
    return s3.client()


@pytest.fixture(scope="module")
def paris(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Client]:
    with LocalS3(tmp_path_factory.mktemp("s3"), region="eu-west-3").serve() as served:
        yield served.client()


def test_a_created_bucket_is_listed_headed_and_located(client: S3Client) -> None:
    created = client.create_bucket(Bucket="photos.2030")
    assert created["Location"] == "/photos.2030"
    names = [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]
    assert "photos.2030" in names
    head = client.head_bucket(Bucket="photos.2030")
    assert head["BucketRegion"] == "us-east-1"
    # us-east-1 is told as an empty LocationConstraint, as S3 does
    assert client.get_bucket_location(Bucket="photos.2030")["LocationConstraint"] is None


def test_recreating_your_bucket_in_us_east_1_succeeds_as_on_s3(client: S3Client) -> None:
    client.create_bucket(Bucket="twice")
    client.put_object(Bucket="twice", Key="k", Body=b"kept")
    client.create_bucket(Bucket="twice")  # legacy behaviour of North Virginia: 200 OK
    assert client.get_object(Bucket="twice", Key="k")["Body"].read() == b"kept"


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "UpperCase",
        "under_score",
        "-starts",
        "ends-",
        "two..dots",
        "192.168.1.1",
        "xn--punycode",
        "x-s3alias",
    ],
)
def test_a_bad_bucket_name_is_refused(s3: LocalS3, name: str) -> None:
    # boto3 validates some names itself; a raw request reaches the endpoint
    answer = send_signed(s3, "PUT", f"/{name}")
    assert answer.status_code == 400, answer.text
    assert "<Code>InvalidBucketName</Code>" in answer.text


def test_a_location_constraint_is_refused_in_us_east_1(client: S3Client) -> None:
    with pytest.raises(ClientError) as raised:
        client.create_bucket(
            Bucket="elsewhere", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert error_code(raised) == "IllegalLocationConstraintException"


def test_a_malformed_configuration_is_malformed_xml(s3: LocalS3) -> None:
    answer = send_signed(s3, "PUT", "/malformed", body=b"<CreateBucketConfiguration><Loc")
    assert answer.status_code == 400
    assert "<Code>MalformedXML</Code>" in answer.text


def test_a_bucket_with_objects_cannot_be_deleted(client: S3Client) -> None:
    client.create_bucket(Bucket="full")
    client.put_object(Bucket="full", Key="k", Body=b"v")
    with pytest.raises(ClientError) as raised:
        client.delete_bucket(Bucket="full")
    assert error_code(raised) == "BucketNotEmpty"
    client.delete_object(Bucket="full", Key="k")
    assert client.delete_bucket(Bucket="full")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as raised:
        client.head_bucket(Bucket="full")
    assert error_code(raised) == "404"
    with pytest.raises(ClientError) as raised:
        client.delete_bucket(Bucket="full")
    assert error_code(raised) == "NoSuchBucket"


def test_deleting_a_bucket_drops_its_uploads_in_progress(client: S3Client) -> None:
    client.create_bucket(Bucket="pending")
    upload = client.create_multipart_upload(Bucket="pending", Key="big")["UploadId"]
    client.delete_bucket(Bucket="pending")
    client.create_bucket(Bucket="pending")
    assert "Uploads" not in client.list_multipart_uploads(Bucket="pending")
    with pytest.raises(ClientError) as raised:
        client.list_parts(Bucket="pending", Key="big", UploadId=upload)
    assert error_code(raised) == "NoSuchUpload"


def test_another_regions_buckets_need_its_location_constraint(paris: S3Client) -> None:
    with pytest.raises(ClientError) as raised:
        paris.create_bucket(Bucket="no-constraint")
    assert error_code(raised) == "IllegalLocationConstraintException"
    with pytest.raises(ClientError) as raised:
        paris.create_bucket(
            Bucket="wrong-constraint", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert error_code(raised) == "IllegalLocationConstraintException"
    paris.create_bucket(
        Bucket="right", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    assert paris.get_bucket_location(Bucket="right")["LocationConstraint"] == "eu-west-3"
    with pytest.raises(ClientError) as raised:
        paris.create_bucket(
            Bucket="right", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
    assert error_code(raised) == "BucketAlreadyOwnedByYou"
