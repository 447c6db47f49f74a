"""Integration fixtures. For the S3 endpoint: one served endpoint per module, a root
client on it, and a fresh bucket per test (a module may define its own instead)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from mypy_boto3_s3 import S3Client

from tests.integration.test_s3_fixtures import LocalS3

_names = itertools.count()


def new_bucket_name() -> str:
    return f"bucket-{next(_names)}"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    with LocalS3(tmp_path_factory.mktemp("s3")).serve() as served:
        yield served


@pytest.fixture(scope="module")
def client(s3: LocalS3) -> S3Client:
    return s3.client()


@pytest.fixture
def bucket(client: S3Client) -> str:
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    return name
