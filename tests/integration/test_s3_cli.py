"""The AWS CLI (``aws s3`` and ``aws s3api``), unmodified, against the local S3 endpoint."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_s3_fixtures import LocalS3

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    with LocalS3(tmp_path_factory.mktemp("s3")).serve() as served:
        served.aws("s3", "mb", "s3://cli-bucket")
        yield served


def test_cp_uploads_a_big_file_in_parts_and_downloads_it(s3: LocalS3, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * (9 * MIB // 256 + 5))  # over the CLI's 8 MiB threshold
    s3.aws("s3", "cp", str(source), "s3://cli-bucket/uploads/big.bin")
    head = json.loads(
        s3.aws("s3api", "head-object", "--bucket", "cli-bucket", "--key", "uploads/big.bin").stdout
    )
    assert head["ContentLength"] == source.stat().st_size
    assert head["ETag"].endswith('-2"')  # uploaded in two parts
    target = tmp_path / "back.bin"
    s3.aws("s3", "cp", "s3://cli-bucket/uploads/big.bin", str(target))
    assert target.read_bytes() == source.read_bytes()


def test_sync_uploads_a_directory_and_ls_lists_it(s3: LocalS3, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "css").mkdir(parents=True)
    (site / "index.html").write_text("<h1>hello</h1>")
    (site / "css" / "main.css").write_text("h1 { color: red }")
    (site / "with space.txt").write_text("spaces")
    for path in site.rglob("*"):  # written a while ago, as S3 keeps whole seconds
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    s3.aws("s3", "sync", str(site), "s3://cli-bucket/site")
    top = s3.aws("s3", "ls", "s3://cli-bucket/site/").stdout
    assert "PRE css/" in top
    assert "index.html" in top
    assert "with space.txt" in top
    recursive = s3.aws("s3", "ls", "--recursive", "s3://cli-bucket/site/").stdout
    assert "site/css/main.css" in recursive
    # a second sync finds nothing to do
    assert s3.aws("s3", "sync", str(site), "s3://cli-bucket/site").stdout == ""
    buckets = s3.aws("s3", "ls").stdout
    assert "cli-bucket" in buckets


def test_s3api_reports_s3s_errors(s3: LocalS3) -> None:
    missing = s3.aws(
        "s3api", "get-object", "--bucket", "cli-bucket", "--key", "nope", "/dev/null", check=False
    )
    assert missing.returncode != 0
    assert "NoSuchKey" in missing.stderr
    deleted = s3.aws(
        "s3api",
        "delete-objects",
        "--bucket",
        "cli-bucket",
        "--delete",
        json.dumps({"Objects": [{"Key": "site/index.html"}, {"Key": "absent"}]}),
    )
    assert sorted(entry["Key"] for entry in json.loads(deleted.stdout)["Deleted"]) == [
        "absent",
        "site/index.html",
    ]
