"""Browser-based POST uploads at the local S3 endpoint: forms made by boto3's
``generate_presigned_post``, posted with httpx over HTTPS, as a browser posts them."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from overcast.local.auth.sigv4 import Credentials
from overcast.local.s3.post_upload_form import FormReader, boundary_of
from tests.integration.test_object_events import FakeInvoker, dispatcher
from tests.integration.test_s3_fixtures import LocalS3, keys_of

BUCKET = "photos"
ALICE = "us-east-1:aaaaaaaa-0000-4000-8000-000000000001"
JPEG = {"Content-Type": "image/jpeg"}
SMALL_JPEGS = [["content-length-range", 1, 1024], {"Content-Type": "image/jpeg"}]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    with LocalS3(tmp_path_factory.mktemp("s3")).serve() as served:
        yield served


@pytest.fixture(scope="module")
def root(s3: LocalS3) -> S3Client:
    client = s3.client()
    client.create_bucket(Bucket=BUCKET)
    return client


def presigned(
    client: S3Client,
    key: str,
    *,
    fields: Mapping[str, str] | None = None,
    conditions: list[Any] | None = None,
    expires_in: int = 300,
) -> dict[str, Any]:
    return client.generate_presigned_post(
        BUCKET,
        key,
        Fields=dict(fields if fields is not None else JPEG),
        Conditions=conditions if conditions is not None else SMALL_JPEGS,
        ExpiresIn=expires_in,
    )


def post(
    s3: LocalS3,
    form: Mapping[str, Any],
    content: bytes = b"\xff\xd8 a small jpeg",
    *,
    filename: str = "photo.jpg",
    changes: Mapping[str, str] | None = None,
) -> httpx.Response:
    fields = {**form["fields"], **(changes or {})}
    with s3.http() as client:
        return client.post(
            form["url"], data=fields, files={"file": (filename, content, "image/jpeg")}
        )


def code(response: httpx.Response) -> str:
    found = re.search(r"<Code>([^<]+)</Code>", response.text)
    return found.group(1) if found else ""


def message(response: httpx.Response) -> str:
    found = re.search(r"<Message>([^<]+)</Message>", response.text)
    return found.group(1) if found else ""


def stored(root: S3Client, key: str) -> bool:
    return keys_of(root.list_objects_v2(Bucket=BUCKET, Prefix=key)) == [key]


def test_a_presigned_post_stores_the_file_and_answers_204(s3: LocalS3, root: S3Client) -> None:
    response = post(s3, presigned(root, "uploads/first.jpg"), b"\xff\xd8 jpeg bytes")
    assert response.status_code == 204
    got = root.get_object(Bucket=BUCKET, Key="uploads/first.jpg")
    assert got["Body"].read() == b"\xff\xd8 jpeg bytes"
    assert got["ContentType"] == "image/jpeg"
    assert response.headers["etag"] == got["ETag"]
    assert response.headers["location"].endswith(f"/{BUCKET}/uploads/first.jpg")


def test_success_action_status_201_answers_a_post_response(s3: LocalS3, root: S3Client) -> None:
    form = presigned(
        root,
        "uploads/${filename}",
        fields={**JPEG, "success_action_status": "201"},
        conditions=[*SMALL_JPEGS, {"success_action_status": "201"}],
    )
    response = post(s3, form, filename="named by the browser.jpg")
    assert response.status_code == 201
    assert "<Key>uploads/named by the browser.jpg</Key>" in response.text
    assert f"<Bucket>{BUCKET}</Bucket>" in response.text
    assert stored(root, "uploads/named by the browser.jpg")


def test_a_big_file_streams_whole_across_many_chunks(s3: LocalS3, root: S3Client) -> None:
    content = os.urandom(3 * 1024 * 1024 + 7)
    form = presigned(root, "uploads/big.bin", conditions=[["content-length-range", 0, 2**30], JPEG])
    assert post(s3, form, content).status_code == 204
    assert root.get_object(Bucket=BUCKET, Key="uploads/big.bin")["Body"].read() == content


def test_a_file_outside_the_length_range_is_refused_and_not_stored(
    s3: LocalS3, root: S3Client
) -> None:
    too_big = post(s3, presigned(root, "uploads/too-big.jpg"), b"x" * 1025)
    assert (too_big.status_code, code(too_big)) == (400, "EntityTooLarge")
    too_small = post(s3, presigned(root, "uploads/too-small.jpg"), b"")
    assert (too_small.status_code, code(too_small)) == (400, "EntityTooSmall")
    assert not stored(root, "uploads/too-big.jpg")
    assert not stored(root, "uploads/too-small.jpg")


def test_a_content_type_the_policy_does_not_allow_is_denied(s3: LocalS3, root: S3Client) -> None:
    response = post(s3, presigned(root, "uploads/page.html"), changes={"Content-Type": "text/html"})
    assert (response.status_code, code(response)) == (403, "AccessDenied")
    assert "Policy Condition failed" in message(response)
    assert "$content-type" in message(response)
    assert not stored(root, "uploads/page.html")


def test_a_field_the_policy_does_not_cover_is_denied(s3: LocalS3, root: S3Client) -> None:
    response = post(
        s3, presigned(root, "uploads/meta.jpg"), changes={"x-amz-meta-owner": "mallory"}
    )
    assert (response.status_code, code(response)) == (403, "AccessDenied")
    assert message(response) == "Invalid according to Policy: Extra input fields: x-amz-meta-owner"
    ignored = post(s3, presigned(root, "uploads/meta.jpg"), changes={"x-ignore-note": "fine"})
    assert ignored.status_code == 204


def test_an_expired_policy_is_denied(s3: LocalS3, root: S3Client) -> None:
    response = post(s3, presigned(root, "uploads/late.jpg", expires_in=-5))
    assert (response.status_code, code(response)) == (403, "AccessDenied")
    assert message(response) == "Invalid according to Policy: Policy expired."
    assert not stored(root, "uploads/late.jpg")


def test_a_tampered_policy_or_signature_does_not_match(s3: LocalS3, root: S3Client) -> None:
    form = presigned(root, "uploads/tampered.jpg")
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"][0] = ["content-length-range", 1, 10**9]
    widened = base64.b64encode(json.dumps(policy).encode()).decode()
    response = post(s3, form, changes={"policy": widened})
    assert (response.status_code, code(response)) == (403, "SignatureDoesNotMatch")
    forged = post(s3, form, changes={"x-amz-signature": "0" * 64})
    assert (forged.status_code, code(forged)) == (403, "SignatureDoesNotMatch")
    assert not stored(root, "uploads/tampered.jpg")


def test_an_unknown_key_or_an_expired_session_is_refused(s3: LocalS3, root: S3Client) -> None:
    stranger = s3.client(Credentials("AKIAUNKNOWN000000000", "no-such-secret"))
    response = post(s3, presigned(stranger, "uploads/stranger.jpg"))
    assert (response.status_code, code(response)) == (403, "InvalidAccessKeyId")
    gone = s3.client(s3.user(ALICE, BUCKET, expires_in=-1))
    expired = post(s3, presigned(gone, f"{ALICE}/late.jpg"))
    assert (expired.status_code, code(expired)) == (400, "ExpiredToken")


def test_a_user_posts_into_their_folder_and_not_outside(s3: LocalS3, root: S3Client) -> None:
    alice = s3.client(s3.user(ALICE, BUCKET))
    mine = post(s3, presigned(alice, f"{ALICE}/avatar.jpg"))
    assert mine.status_code == 204
    assert stored(root, f"{ALICE}/avatar.jpg")
    outside = post(s3, presigned(alice, "uploads/planted.jpg"), b"x" * 10)
    assert (outside.status_code, code(outside)) == (403, "AccessDenied")
    assert not stored(root, "uploads/planted.jpg")


def test_a_form_without_key_or_file_is_invalid(s3: LocalS3, root: S3Client) -> None:
    form = presigned(root, "uploads/x.jpg")
    fields = {name: value for name, value in form["fields"].items() if name != "key"}
    with s3.http() as client:
        no_key = client.post(form["url"], data=fields, files={"file": ("a.jpg", b"x")})
        no_file = client.post(form["url"], files={"key": (None, "k"), "policy": (None, "p")})
    assert (no_key.status_code, code(no_key)) == (400, "InvalidArgument")
    assert (no_file.status_code, code(no_file)) == (400, "InvalidArgument")


def test_a_post_upload_triggers_an_object_created_post_event(s3: LocalS3, root: S3Client) -> None:
    root.create_bucket(Bucket="blog-photos")
    invoker = FakeInvoker()
    events = dispatcher(s3.buckets, "blog-photos", invoker)
    form = root.generate_presigned_post("blog-photos", "uploads/evented.jpg")
    assert post(s3, form).status_code == 204
    asyncio.run(events.run_once())
    [event] = invoker.events
    [record] = event["Records"]
    assert record["eventName"] == "ObjectCreated:Post"
    assert record["s3"]["object"]["key"] == "uploads/evented.jpg"
    assert record["s3"]["object"]["size"] == len(b"\xff\xd8 a small jpeg")


def test_a_denied_upload_changes_nothing(s3: LocalS3, root: S3Client) -> None:
    root.put_object(Bucket=BUCKET, Key="uploads/keep.jpg", Body=b"original")
    alice = s3.client(s3.user(ALICE, BUCKET))
    response = post(s3, presigned(alice, "uploads/keep.jpg"), b"overwritten")
    assert code(response) == "AccessDenied"
    with pytest.raises(ClientError):
        root.head_object(Bucket=BUCKET, Key=f"{ALICE}/keep.jpg")
    assert root.get_object(Bucket=BUCKET, Key="uploads/keep.jpg")["Body"].read() == b"original"


def test_a_form_arriving_one_byte_at_a_time_is_read_whole() -> None:
    body = (
        b'preamble\r\n--XyZ\r\nContent-Disposition: form-data; name="Key"\r\n\r\nuploads/a\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a \\"b\\".jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\r\n--XyQ almost\r\n-\r\n--XyZ\r\n"
        b'Content-Disposition: form-data; name="after"\r\n\r\nignored\r\n--XyZ--\r\n'
    )
    messages = [
        {"type": "http.request", "body": body[i : i + 1], "more_body": i < len(body) - 1}
        for i in range(len(body))
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def read() -> tuple[dict[str, str], str | None, bytes]:
        form = FormReader(receive, boundary_of('multipart/form-data; boundary="XyZ"'))
        fields, file = await form.fields()
        content = b"".join([chunk async for chunk in form.file_chunks()])
        await form.drain()
        return fields, file.filename if file else None, content

    fields, filename, content = asyncio.run(read())
    assert fields == {"key": "uploads/a"}
    assert filename == 'a "b".jpg'
    assert content == b"\r\n--XyQ almost\r\n-"
    assert messages == []
