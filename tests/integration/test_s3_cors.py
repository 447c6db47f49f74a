"""CORS at the local S3 endpoint over HTTPS: configurations set with boto3 and kept on
disk with their bucket, preflights and cross-origin requests sent with httpx as a browser
sends them (the blog's editor posting a photo straight to its bucket)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client
from mypy_boto3_s3.type_defs import CORSRuleTypeDef

from overcast import spec
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.s3.app import S3Endpoint
from overcast.local.s3.auth import S3Authenticator
from overcast.local.s3.cors_config import CorsRule, FileCorsConfigurations
from tests.integration.test_aws_services import services
from tests.integration.test_s3_fixtures import ACCOUNT, LocalS3, error_code, now

EDITOR = "https://127.0.0.1:8443"
UPLOADS: CORSRuleTypeDef = {
    "ID": "editor uploads",
    "AllowedHeaders": ["content-type", "x-amz-*"],
    "AllowedMethods": ["PUT", "POST"],
    "AllowedOrigins": [EDITOR],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 3000,
}
READS: CORSRuleTypeDef = {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"]}


def endpoint_with_cors(local: LocalS3) -> S3Endpoint:
    """``local``'s endpoint keeping CORS configurations in the buckets' directories, as
    ``overcast up`` does."""
    return S3Endpoint(
        local.buckets,
        S3Authenticator(local.sessions.get, region=local.region, clock=now),
        PolicyEvaluator(now),
        bucket_policies=lambda name: local.policies.get(name, []),
        account_id=ACCOUNT,
        region=local.region,
        clock=now,
        uploads_root=local.root / "uploads",
        cors=FileCorsConfigurations(lambda name: local.buckets.root / name),
    )


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    local = LocalS3(tmp_path_factory.mktemp("s3"))
    with local.serve(endpoint_with_cors(local)) as served:
        yield served


@pytest.fixture
def photos(client: S3Client, bucket: str) -> str:
    """A bucket the editor may upload to, and anyone read."""
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [UPLOADS, READS]})
    return bucket


def send(
    s3: LocalS3, method: str, url: str, headers: Mapping[str, str], **extra: Any
) -> httpx.Response:
    with s3.http() as http:
        return http.request(method, url, headers=dict(headers), **extra)


def test_a_configuration_put_with_boto3_reads_back_and_deletes(
    client: S3Client, bucket: str
) -> None:
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [UPLOADS, READS]})

    rules = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    client.delete_bucket_cors(Bucket=bucket)

    assert rules == [UPLOADS, READS]
    with pytest.raises(ClientError) as raised:
        client.get_bucket_cors(Bucket=bucket)
    assert error_code(raised) == "NoSuchCORSConfiguration"


def test_a_rule_s3_refuses_is_refused_through_boto3(client: S3Client, bucket: str) -> None:
    bad: CORSRuleTypeDef = {"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}

    with pytest.raises(ClientError) as raised:
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [bad]})

    assert error_code(raised) == "InvalidRequest"
    assert "Unsupported method is PATCH" in raised.value.response["Error"]["Message"]


def test_a_user_confined_to_a_folder_may_not_change_the_configuration(
    s3: LocalS3, photos: str
) -> None:
    user = s3.client(s3.user("us-east-1:alice", photos))

    with pytest.raises(ClientError) as raised:
        user.put_bucket_cors(Bucket=photos, CORSConfiguration={"CORSRules": [READS]})

    assert error_code(raised) == "AccessDenied"


def test_the_editors_preflight_for_an_upload_is_allowed(s3: LocalS3, photos: str) -> None:
    answer = send(
        s3,
        "OPTIONS",
        f"{s3.url}/{photos}/2030/photo.jpg",
        {
            "Origin": EDITOR,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,x-amz-date",
        },
    )

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == EDITOR
    assert answer.headers["access-control-allow-methods"] == "PUT, POST"
    assert answer.headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert answer.headers["access-control-max-age"] == "3000"


def test_a_preflight_from_another_site_is_forbidden(s3: LocalS3, photos: str) -> None:
    answer = send(
        s3,
        "OPTIONS",
        f"{s3.url}/{photos}/photo.jpg",
        {"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
    )

    assert answer.status_code == 403
    assert "<Code>AccessForbidden</Code>" in answer.text
    assert "access-control-allow-origin" not in answer.headers


def test_a_presigned_post_from_the_editor_stores_the_photo_and_is_readable_cross_origin(
    s3: LocalS3, client: S3Client, photos: str
) -> None:
    form = client.generate_presigned_post(photos, "2030/photo.jpg", ExpiresIn=300)

    answer = send(
        s3,
        "POST",
        form["url"],
        {"Origin": EDITOR},
        data=form["fields"],
        files={"file": ("photo.jpg", b"\xff\xd8 jpeg", "image/jpeg")},
    )

    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == EDITOR
    assert answer.headers["access-control-expose-headers"] == "ETag"
    assert client.get_object(Bucket=photos, Key="2030/photo.jpg")["Body"].read() == b"\xff\xd8 jpeg"


def test_a_refused_post_upload_still_tells_the_editor_why(
    s3: LocalS3, client: S3Client, photos: str
) -> None:
    form = client.generate_presigned_post(photos, "2030/photo.jpg", ExpiresIn=300)
    forged = {**form["fields"], "key": "someone-else/photo.jpg"}

    answer = send(
        s3,
        "POST",
        form["url"],
        {"Origin": EDITOR},
        data=forged,
        files={"file": ("photo.jpg", b"jpeg", "image/jpeg")},
    )

    assert answer.status_code == 403
    assert answer.headers["access-control-allow-origin"] == EDITOR
    assert "<Code>" in answer.text


def test_a_presigned_get_from_any_origin_carries_the_wildcard(
    s3: LocalS3, client: S3Client, photos: str
) -> None:
    client.put_object(Bucket=photos, Key="k", Body=b"public")
    url = client.generate_presigned_url("get_object", Params={"Bucket": photos, "Key": "k"})

    answer = send(s3, "GET", url, {"Origin": "https://reader.example"})

    assert answer.content == b"public"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


def test_a_deleted_bucket_takes_its_configuration_with_it(client: S3Client, photos: str) -> None:
    client.delete_bucket(Bucket=photos)
    client.create_bucket(Bucket=photos)

    with pytest.raises(ClientError) as raised:
        client.get_bucket_cors(Bucket=photos)

    assert error_code(raised) == "NoSuchCORSConfiguration"


def test_a_configuration_survives_a_restart(tmp_path: Path) -> None:
    local = LocalS3(tmp_path)
    with local.serve(endpoint_with_cors(local)):
        first = local.client()
        first.create_bucket(Bucket="durable")
        first.put_bucket_cors(Bucket="durable", CORSConfiguration={"CORSRules": [READS]})
    with local.serve(endpoint_with_cors(local)):
        assert local.client().get_bucket_cors(Bucket="durable")["CORSRules"] == [READS]


def test_overcast_up_gives_a_declared_bucket_its_cors_rules(tmp_path: Path) -> None:
    rule = spec.CorsRule((EDITOR,), ("PUT", "POST"), ("content-type",), ("ETag",), 600)
    service = spec.Service("blog", buckets=(spec.Bucket("photos", cors=(rule,)),))
    aws = services(tmp_path)

    aws.register(service)
    aws.close()

    again = services(tmp_path)
    assert again.cors.get("blog-photos") == (
        CorsRule((EDITOR,), ("PUT", "POST"), ("content-type",), ("ETag",), 600),
    )
    again.close()
