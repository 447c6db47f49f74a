"""The S3 object store passes the port's contract against moto, and speaks S3:
single and multipart uploads, ranges, listings, copies, metadata and error codes.

moto runs in-process (``mock_aws``), one mock for the module and a fresh bucket per
test. Contract tests that cannot hold on S3 by design, or that moto gets wrong, are
skipped with the reason; where a part of one still holds, a test below checks it.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from overcast.ports.objects import (
    ByteRange,
    InvalidRange,
    NoSuchBucket,
    NoSuchKey,
    ObjectAttributes,
    ObjectStoreError,
    ObjectStoreUnavailable,
    PreconditionFailed,
)
from overcast.ports.objects.memory import MemoryObjectStore
from overcast.ports.objects.s3 import S3ObjectStore, client_config
from tests.objects_contract import *  # noqa: F403  (the contract's tests run here)
from tests.objects_contract import md5

MIB = 1024 * 1024
_SKIPPED = {
    # S3 stamps Last-Modified with its own clock; the contract's tests inject one.
    "test_a_put_object_reads_back_with_its_description": "S3 sets Last-Modified itself",
    "test_an_overwrite_replaces_body_and_attributes": "S3 sets Last-Modified itself",
    # S3 verifies a checksum against the body ("AAAAAA==" is not b"x"'s CRC32).
    "test_attributes_are_kept_with_the_object": "S3 refuses a checksum that is not the body's",
    "test_a_commit_may_name_the_etag": "S3 computes every ETag itself",
    "test_a_listing_describes_each_object_as_head_does": (
        "ListObjectsV2 does not return content type or metadata"
    ),
    "test_start_after_inside_a_common_prefix_lists_that_prefix_again": (
        "moto skips the whole common prefix after a StartAfter inside it; S3 does not"
    ),
    "test_threads_writing_and_reading_at_once_see_only_whole_objects": (
        "moto closes an object's buffer while another thread overwrites the key"
    ),
}
_buckets = (f"bucket-{number}" for number in itertools.count())


@pytest.fixture(autouse=True)
def _skip_where_s3_differs(request: pytest.FixtureRequest) -> None:
    name = getattr(request.node, "originalname", request.node.name)
    if name in _SKIPPED:
        pytest.skip(_SKIPPED[name])


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1", config=client_config())


@pytest.fixture
def bucket(s3: Any) -> str:
    name = next(_buckets)
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def store(s3: Any, bucket: str) -> S3ObjectStore:
    return S3ObjectStore(bucket, s3)


class Recording:
    """An S3 client that records each request, then passes it to ``client``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**request: Any) -> Any:
            self.requests.append((operation, request))
            return getattr(self.client, operation)(**request)

        return call

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.requests]

    def sent(self, operation: str) -> list[dict[str, Any]]:
        return [request for name, request in self.requests if name == operation]


class FailingAt:
    """An S3 client whose ``operation`` fails with ``error``; the rest go to ``client``."""

    def __init__(self, client: Any, operation: str, error: Exception) -> None:
        self.client = client
        self.operation = operation
        self.error = error

    def __getattr__(self, operation: str) -> Any:
        if operation == self.operation:

            def fail(**request: Any) -> Any:
                raise self.error

            return fail
        return getattr(self.client, operation)


def client_error(code: str, **details: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "refused", **details}}, "Operation")


def recent(moment: datetime) -> bool:
    return moment.tzinfo is UTC and abs(datetime.now(UTC) - moment) < timedelta(minutes=5)


# --- what the skipped contract tests still promise on S3 -----------------------------------


def test_a_put_object_reads_back_with_s3s_description(store: S3ObjectStore) -> None:
    stored = store.put("notes/today.txt", b"buy milk")
    assert store.get("notes/today.txt") == b"buy milk"
    assert stored == store.head("notes/today.txt")
    assert (stored.key, stored.size, stored.etag) == ("notes/today.txt", 8, md5(b"buy milk"))
    assert recent(stored.last_modified)
    assert stored.last_modified.microsecond == 0
    assert stored.attributes == ObjectAttributes()


def test_attributes_are_kept_with_the_object_on_s3(store: S3ObjectStore) -> None:
    attributes = ObjectAttributes(
        content_type="text/plain; charset=utf-8",
        cache_control="max-age=60",
        content_disposition='attachment; filename="a.txt"',
        content_encoding="gzip",
        content_language="fr",
        expires="Wed, 21 Oct 2015 07:28:00 GMT",
        metadata={"author": "ana", "note": "ünïcødé ☕"},
    )
    store.put("a.txt", b"x", attributes)
    assert store.head("a.txt").attributes == attributes
    with store.open("a.txt") as reader:
        assert reader.info.attributes == attributes
    assert store.put("b", b"y", ObjectAttributes(content_type="a/b")).attributes.content_type == (
        "a/b"
    )


def test_non_ascii_metadata_travels_as_rfc_2047_encoded_words(s3: Any, bucket: str) -> None:
    client = Recording(s3)
    S3ObjectStore(bucket, client).put("k", b"x", ObjectAttributes(metadata={"n": "zoë", "a": "b"}))
    [put] = client.sent("put_object")
    assert put["Metadata"] == {"n": "=?UTF-8?B?em/Dqw==?=", "a": "b"}


def test_a_checksum_goes_with_the_upload_for_s3_to_verify(s3: Any, bucket: str) -> None:
    client = Recording(s3)
    store = S3ObjectStore(bucket, client)
    store.put("k", b"x", ObjectAttributes(checksums={"CRC32": "jMIf/w=="}))
    [put] = client.sent("put_object")
    assert put["ChecksumCRC32"] == "jMIf/w=="
    with pytest.raises(ObjectStoreError, match="no checksum algorithm"):
        store.put("k", b"x", ObjectAttributes(checksums={"MD4": "x"}))


def test_an_expires_that_is_not_an_http_date_is_refused(store: S3ObjectStore) -> None:
    with pytest.raises(ObjectStoreError, match="HTTP date"):
        store.put("k", b"x", ObjectAttributes(expires="tomorrow"))
    with pytest.raises(NoSuchKey):
        store.head("k")


def test_a_commit_cannot_name_another_etag_and_commits_nothing(store: S3ObjectStore) -> None:
    writer = store.writer("k")
    writer.write(b"parts")
    with pytest.raises(ValueError, match="ETag"):
        writer.commit(ObjectAttributes(), etag="0123456789abcdef0123456789abcdef-2")
    writer.abort()
    with pytest.raises(NoSuchKey):
        store.head("k")
    same = store.writer("k")
    same.write(b"parts")
    assert same.commit(ObjectAttributes(), etag=md5(b"parts")).etag == md5(b"parts")


def test_a_listing_describes_each_object_but_its_attributes(store: S3ObjectStore) -> None:
    store.put("a", b"aaa", ObjectAttributes(content_type="text/plain", metadata={"m": "1"}))
    store.put("b", b"")
    listed = store.list().objects
    described = [store.head("a"), store.head("b")]
    assert [(i.key, i.size, i.etag, i.last_modified) for i in listed] == [
        (i.key, i.size, i.etag, i.last_modified) for i in described
    ]
    assert all(info.attributes == ObjectAttributes() for info in listed)


# --- uploads -------------------------------------------------------------------------------


def test_a_body_up_to_8_mib_is_one_put_object(s3: Any, bucket: str) -> None:
    client = Recording(s3)
    body = b"x" * (8 * MIB)
    info = S3ObjectStore(bucket, client).put("k", [body[: 3 * MIB], body[3 * MIB :]])
    assert info.etag == md5(body)
    assert client.operations() == ["put_object", "head_object"]


def test_a_bigger_body_streams_in_8_mib_parts_and_commits_once(s3: Any, bucket: str) -> None:
    client = Recording(s3)
    store = S3ObjectStore(bucket, client)
    body = bytes(range(256)) * (4 * 1024 * 17)  # 17 MiB
    with store.writer("big", ObjectAttributes(content_type="video/mp4")) as writer:
        for start in range(0, len(body), 3 * MIB):
            writer.write(body[start : start + 3 * MIB])
        assert client.operations() == ["create_multipart_upload", "upload_part", "upload_part"]
        with pytest.raises(NoSuchKey):
            store.head("big")
        info = writer.commit(ObjectAttributes(content_type="video/mp4"))
    sizes = [len(request["Body"]) for request in client.sent("upload_part")]
    assert sizes == [8 * MIB, 8 * MIB, 1 * MIB]
    assert info.etag.endswith("-3")
    assert (info.size, info.attributes.content_type) == (len(body), "video/mp4")
    assert store.get("big") == body
    assert "copy_object" not in client.operations()


def test_a_multipart_writer_given_other_attributes_at_commit_copies_them_on(
    store: S3ObjectStore,
) -> None:
    writer = store.writer("big")  # attributes not known yet: the upload starts without
    writer.write(b"a" * (9 * MIB))
    info = writer.commit(ObjectAttributes(content_type="text/csv", metadata={"rows": "9"}))
    assert info.attributes == ObjectAttributes(content_type="text/csv", metadata={"rows": "9"})
    assert store.head("big") == info
    assert store.get("big", ByteRange(9 * MIB - 2, 9 * MIB + 5)) == b"aa"


def test_an_aborted_multipart_upload_leaves_no_parts(s3: Any, store: S3ObjectStore) -> None:
    with store.writer("big") as writer:
        writer.write(b"a" * (9 * MIB))
    assert s3.list_multipart_uploads(Bucket=store.name).get("Uploads", []) == []
    with pytest.raises(NoSuchKey):
        store.head("big")


def test_a_part_that_fails_aborts_the_upload(s3: Any, bucket: str) -> None:
    failing = FailingAt(s3, "upload_part", client_error("SlowDown"))
    store = S3ObjectStore(bucket, failing)
    writer = store.writer("big")
    with pytest.raises(ObjectStoreUnavailable, match="SlowDown"):
        writer.write(b"a" * (9 * MIB))
    with pytest.raises(ValueError, match="committed or aborted"):
        writer.write(b"more")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_completion_that_fails_aborts_the_upload(s3: Any, bucket: str) -> None:
    failing = FailingAt(s3, "complete_multipart_upload", client_error("InternalError"))
    writer = S3ObjectStore(bucket, failing).writer("big")
    writer.write(b"a" * (9 * MIB))
    with pytest.raises(ObjectStoreUnavailable):
        writer.commit(ObjectAttributes())
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(NoSuchKey):
        S3ObjectStore(bucket, s3).head("big")


# --- reads ---------------------------------------------------------------------------------


def test_a_range_is_one_ranged_get_object(s3: Any, bucket: str) -> None:
    client = Recording(s3)
    store = S3ObjectStore(bucket, client)
    store.put("digits", b"0123456789")
    assert store.get("digits", ByteRange(2, 5)) == b"2345"
    [get] = client.sent("get_object")
    assert get["Range"] == "bytes=2-5"


def test_a_range_s3_would_ignore_is_refused_with_the_objects_size(store: S3ObjectStore) -> None:
    store.put("digits", b"0123456789")
    with pytest.raises(InvalidRange) as raised:
        store.open("digits", ByteRange(5, 4))
    assert raised.value.size == 10


# --- copies --------------------------------------------------------------------------------


def test_a_copy_between_buckets_is_one_copy_object(s3: Any, bucket: str) -> None:
    other = next(_buckets)
    s3.create_bucket(Bucket=other)
    client = Recording(s3)
    source, target = S3ObjectStore(bucket, client), S3ObjectStore(other, client)
    source.put("photo.png", b"png", ObjectAttributes(content_type="image/png"))
    copied = target.copy(source, "photo.png", "copy.png")
    [copy] = client.sent("copy_object")
    assert copy["CopySource"] == {"Bucket": bucket, "Key": "photo.png"}
    assert "MetadataDirective" not in copy
    assert (copied.etag, copied.attributes.content_type) == (md5(b"png"), "image/png")
    assert target.get("copy.png") == b"png"


def test_a_copy_from_another_kind_of_store_streams_the_body(store: S3ObjectStore) -> None:
    memory = MemoryObjectStore("local")
    memory.put("a", b"from memory", ObjectAttributes(content_type="text/plain"))
    copied = store.copy(memory, "a", "b")
    assert store.get("b") == b"from memory"
    assert copied.attributes.content_type == "text/plain"


# --- errors --------------------------------------------------------------------------------


def test_a_missing_bucket_is_no_such_bucket(s3: Any) -> None:
    store = S3ObjectStore("never-created", s3)
    with pytest.raises(NoSuchBucket):
        store.put("k", b"x")
    with pytest.raises(NoSuchBucket):
        store.list()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("SlowDown"), ObjectStoreUnavailable),
        (client_error("503"), ObjectStoreUnavailable),
        (client_error("PreconditionFailed"), PreconditionFailed),
        (client_error("AccessDenied"), ObjectStoreError),
        (EndpointConnectionError(endpoint_url="https://s3"), ObjectStoreUnavailable),
    ],
    ids=["slow-down", "503", "precondition", "access-denied", "unreachable"],
)
def test_s3_errors_become_the_ports_own(s3: Any, error: Exception, expected: type) -> None:
    store = S3ObjectStore("bucket", FailingAt(s3, "head_object", error))
    with pytest.raises(expected) as raised:
        store.head("k")
    assert type(raised.value).__module__.startswith("overcast.")


def test_threads_writing_their_own_keys_at_once_store_every_object(store: S3ObjectStore) -> None:
    bodies = {
        f"own/{n}/{round}": bytes([n]) * (50_000 + round) for n in range(4) for round in range(15)
    }

    def write(n: int) -> None:
        for key, body in bodies.items():
            if key.startswith(f"own/{n}/"):
                store.put(key, body)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [info.key for info in store.list("own/").objects] == sorted(bodies)
    assert all(store.get(key) == body for key, body in bodies.items())


def test_etags_are_md5_of_the_body_as_s3_computes_them(store: S3ObjectStore) -> None:
    body = b"hello world"
    assert store.put("k", body).etag == hashlib.md5(body).hexdigest()
