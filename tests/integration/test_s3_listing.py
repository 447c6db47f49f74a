"""The local S3 endpoint's listings: ListObjectsV2, ListObjects and ListObjectVersions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from tests.integration.test_s3_fixtures import (
    LocalS3,
    error_code,
    keys_of,
    prefixes_of,
    put_all,
    send_signed,
)

_names = itertools.count()

TREE = ["a.txt", "docs/1.txt", "docs/2.txt", "docs/deep/3.txt", "img/x.png", "z.txt"]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    with LocalS3(tmp_path_factory.mktemp("s3")).serve() as served:
        yield served


@pytest.fixture(scope="module")
def client(s3: LocalS3) -> S3Client:
    return s3.client()


@pytest.fixture(scope="module")
def tree(client: S3Client) -> str:
    name = "listing-tree"
    client.create_bucket(Bucket=name)
    put_all(client, name, TREE)
    return name


@pytest.fixture
def bucket(client: S3Client) -> str:
    name = f"listing-{next(_names)}"
    client.create_bucket(Bucket=name)
    return name


def test_a_delimiter_rolls_keys_up_into_common_prefixes(client: S3Client, tree: str) -> None:
    top = client.list_objects_v2(Bucket=tree, Delimiter="/")
    assert keys_of(top) == ["a.txt", "z.txt"]
    assert prefixes_of(top) == ["docs/", "img/"]
    assert top["KeyCount"] == 4
    docs = client.list_objects_v2(Bucket=tree, Prefix="docs/", Delimiter="/")
    assert keys_of(docs) == ["docs/1.txt", "docs/2.txt"]
    assert prefixes_of(docs) == ["docs/deep/"]
    assert keys_of(client.list_objects_v2(Bucket=tree, Prefix="docs/")) == TREE[1:4]


def test_pages_of_two_cover_every_entry_once(client: S3Client, tree: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=tree, Delimiter="/", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 2
    assert [keys_of(page) for page in pages] == [["a.txt"], ["z.txt"]]
    assert [prefixes_of(page) for page in pages] == [["docs/"], ["img/"]]
    flat = paginator.paginate(Bucket=tree, PaginationConfig={"PageSize": 4})
    assert [key for page in flat for key in keys_of(page)] == TREE


def test_start_after_skips_to_a_key(client: S3Client, tree: str) -> None:
    listed = client.list_objects_v2(Bucket=tree, StartAfter="docs/2.txt")
    assert keys_of(listed) == TREE[3:]
    assert listed["StartAfter"] == "docs/2.txt"


def test_fetch_owner_adds_the_owner(client: S3Client, tree: str) -> None:
    without = client.list_objects_v2(Bucket=tree, MaxKeys=1)["Contents"][0]
    assert "Owner" not in without
    owned = client.list_objects_v2(Bucket=tree, MaxKeys=1, FetchOwner=True)["Contents"][0]
    assert len(owned["Owner"]["ID"]) == 64


def test_max_keys_zero_and_above_1000(client: S3Client, tree: str) -> None:
    none = client.list_objects_v2(Bucket=tree, MaxKeys=0)
    assert none["KeyCount"] == 0
    assert not none["IsTruncated"]
    capped = client.list_objects_v2(Bucket=tree, MaxKeys=5000)
    assert capped["MaxKeys"] == 1000
    assert keys_of(capped) == TREE


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_a_max_keys_that_is_not_a_count_is_an_invalid_argument(
    s3: LocalS3, tree: str, value: str
) -> None:
    answer = send_signed(s3, "GET", f"/{tree}?list-type=2&max-keys={value}")
    assert answer.status_code == 400
    assert "<Code>InvalidArgument</Code>" in answer.text


def test_a_tampered_continuation_token_is_refused(client: S3Client, tree: str) -> None:
    token = client.list_objects_v2(Bucket=tree, MaxKeys=1)["NextContinuationToken"]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(ClientError) as raised:
        client.list_objects_v2(Bucket=tree, ContinuationToken=tampered)
    assert error_code(raised) == "InvalidArgument"
    assert "continuation token" in raised.value.response["Error"]["Message"]


def test_a_continuation_token_works_only_in_its_bucket(
    client: S3Client, tree: str, bucket: str
) -> None:
    token = client.list_objects_v2(Bucket=tree, MaxKeys=1)["NextContinuationToken"]
    with pytest.raises(ClientError) as raised:
        client.list_objects_v2(Bucket=bucket, ContinuationToken=token)
    assert error_code(raised) == "InvalidArgument"


def test_url_encoding_carries_any_key(s3: LocalS3, client: S3Client, bucket: str) -> None:
    keys = ["a b/c+d", "ünï/cødé", "del\x7fete", "100%", "q?x=1&y"]
    put_all(client, bucket, keys)
    # botocore asks for encoding-type=url and decodes: every key comes back as stored
    assert sorted(keys_of(client.list_objects_v2(Bucket=bucket))) == sorted(keys)
    assert sorted(keys_of(client.list_objects(Bucket=bucket))) == sorted(keys)
    raw = send_signed(s3, "GET", f"/{bucket}?list-type=2&encoding-type=url&prefix=a%20b%2F").text
    assert "<Key>a%20b/c%2Bd</Key>" in raw
    assert "<Prefix>a%20b/</Prefix>" in raw
    assert "<EncodingType>url</EncodingType>" in raw
    plain = send_signed(s3, "GET", f"/{bucket}?list-type=2&prefix=q").text
    assert "<Key>q?x=1&amp;y</Key>" in plain


def test_an_unknown_encoding_type_is_an_invalid_argument(s3: LocalS3, tree: str) -> None:
    answer = send_signed(s3, "GET", f"/{tree}?list-type=2&encoding-type=base64")
    assert answer.status_code == 400
    assert "<Code>InvalidArgument</Code>" in answer.text


def test_list_objects_v1_pages_with_markers(client: S3Client, tree: str) -> None:
    first = client.list_objects(Bucket=tree, MaxKeys=2)
    assert keys_of(first) == TREE[:2]
    assert first["IsTruncated"]
    assert "NextMarker" not in first  # only with a delimiter
    rest = client.list_objects(Bucket=tree, Marker=TREE[1])
    assert keys_of(rest) == TREE[2:]
    with_delimiter = client.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2)
    assert with_delimiter["NextMarker"] == "docs/"
    assert keys_of(with_delimiter) == ["a.txt"]
    assert prefixes_of(with_delimiter) == ["docs/"]
    following = client.list_objects(Bucket=tree, Delimiter="/", Marker="docs/")
    assert keys_of(following) == ["z.txt"]
    assert prefixes_of(following) == ["img/"]
    assert all(entry["Owner"]["ID"] for entry in first["Contents"])


def test_versions_of_an_unversioned_bucket_are_null_and_latest(client: S3Client, tree: str) -> None:
    versions = client.list_object_versions(Bucket=tree, Prefix="docs/")["Versions"]
    assert [version["Key"] for version in versions] == TREE[1:4]
    assert {(version["VersionId"], version["IsLatest"]) for version in versions} == {("null", True)}
    page = client.list_object_versions(Bucket=tree, MaxKeys=2)
    assert page["IsTruncated"]
    assert page["NextKeyMarker"] == TREE[1]
    assert page["NextVersionIdMarker"] == "null"
    rest = client.list_object_versions(Bucket=tree, KeyMarker=TREE[1], VersionIdMarker="null")
    assert [version["Key"] for version in rest["Versions"]] == TREE[2:]


def test_a_version_marker_needs_a_key_marker(s3: LocalS3, tree: str) -> None:
    answer = send_signed(s3, "GET", f"/{tree}?versions&version-id-marker=null")
    assert answer.status_code == 400
    assert "<Code>InvalidArgument</Code>" in answer.text


def test_listing_a_missing_bucket_is_no_such_bucket(client: S3Client) -> None:
    with pytest.raises(ClientError) as raised:
        client.list_objects_v2(Bucket="never-created")
    assert error_code(raised) == "NoSuchBucket"
