"""The multipart upload store: parts on disk, ids that never become stray paths, recovery."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from overcast.local.s3.errors import NoSuchUpload
from overcast.local.s3.multipart import multipart_etag
from overcast.local.s3.uploads import Part, UploadStore
from overcast.ports.objects import ObjectAttributes

NOW = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def store(root: Path) -> UploadStore:
    return UploadStore(root, lambda: NOW)


def test_an_upload_and_its_parts_outlive_the_store_that_made_them(tmp_path: Path) -> None:
    attributes = ObjectAttributes(content_type="video/mp4", metadata={"a": "1"})
    upload = store(tmp_path).create("b", "k", attributes, "arn:aws:iam::1:root")
    writer = store(tmp_path).part_writer(upload, 2)
    writer.write(b"part ")
    writer.write(b"two")
    part = writer.commit({"CRC32": "AAAAAA=="})
    again = store(tmp_path)
    found = again.find(upload.upload_id, "b", "k")
    assert found == upload
    [listed] = again.parts(found)
    assert (listed.number, listed.size, listed.etag) == (2, 8, part.etag)
    assert listed.path.read_bytes() == b"part two"
    assert listed.checksums == {"CRC32": "AAAAAA=="}
    assert listed.last_modified == NOW.replace(microsecond=0)


@pytest.mark.parametrize("upload_id", ["", "..", "../../etc", "a/b", "x" * 63, "x" * 65])
def test_an_id_of_another_shape_is_no_such_upload(tmp_path: Path, upload_id: str) -> None:
    with pytest.raises(NoSuchUpload):
        store(tmp_path).find(upload_id, "b", "k")


def test_an_upload_is_found_only_under_its_bucket_and_key(tmp_path: Path) -> None:
    uploads = store(tmp_path)
    upload = uploads.create("b", "k", ObjectAttributes(), "anonymous")
    for bucket, key in (("other", "k"), ("b", "other")):
        with pytest.raises(NoSuchUpload):
            uploads.find(upload.upload_id, bucket, key)


def test_a_part_sent_after_an_abort_finds_no_upload(tmp_path: Path) -> None:
    uploads = store(tmp_path)
    upload = uploads.create("b", "k", ObjectAttributes(), "anonymous")
    writer = uploads.part_writer(upload, 1)
    writer.write(b"late")
    uploads.remove(upload)
    with pytest.raises(NoSuchUpload):
        writer.commit({})
    assert uploads.uploads("b") == []


def test_recovery_removes_what_a_crash_left(tmp_path: Path) -> None:
    uploads = store(tmp_path)
    upload = uploads.create("b", "k", ObjectAttributes(), "anonymous")
    kept = uploads.part_writer(upload, 1)
    kept.write(b"kept")
    part = kept.commit({})
    # a part the process died receiving, and one renamed but never recorded
    (tmp_path / upload.upload_id / "tmp-0123456789abcdef").write_bytes(b"half a part")
    (tmp_path / upload.upload_id / "data-00003-0123456789abcdef").write_bytes(b"orphan")
    half_created = tmp_path / ("Z" * 64)
    half_created.mkdir()
    store(tmp_path).recover()
    remaining = sorted(path.name for path in (tmp_path / upload.upload_id).iterdir())
    assert remaining == sorted(["upload.json", "part-00001.json", part.path.name])
    assert not half_created.exists()


def test_the_multipart_etag_is_the_md5_of_the_part_md5s() -> None:
    parts = [
        Part(1, hashlib.md5(b"first").hexdigest(), 5, NOW, Path("a")),
        Part(2, hashlib.md5(b"second").hexdigest(), 6, NOW, Path("b")),
    ]
    digests = hashlib.md5(b"first").digest() + hashlib.md5(b"second").digest()
    assert multipart_etag(parts) == f"{hashlib.md5(digests).hexdigest()}-2"


# A child process whose files may not grow past 100,000 bytes, as a full disk would
# refuse them: the kernel writes what fits (a short write), then fails with EFBIG.
_FULL_DISK = """
import json, resource, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from overcast.local.s3.uploads import UploadStore
from overcast.ports.objects import ObjectStoreUnavailable

root, upload_id, chunks = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
uploads = UploadStore(root, lambda: datetime.now(UTC))
upload = uploads.find(upload_id, "b", "k")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))
writer = uploads.part_writer(upload, 1)
try:
    for size in chunks:
        writer.write(b"x" * size)
    part = writer.commit({})
    print("acknowledged", part.size)
except ObjectStoreUnavailable as error:
    print("refused:", error)
finally:
    writer.abort()
"""


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([150_000], id="one-chunk-written-short"),
        pytest.param([16_000] * 10, id="chunks-refused-while-writing"),
        pytest.param([99_000, 3_000], id="the-last-bytes-refused-at-commit"),
    ],
)
def test_a_part_the_disk_cannot_hold_is_refused_whole_and_the_old_part_stays(
    tmp_path: Path, chunks: list[int]
) -> None:
    uploads = store(tmp_path)
    upload = uploads.create("b", "k", ObjectAttributes(), "anonymous")
    old = uploads.part_writer(upload, 1)
    old.write(b"old part")
    old.commit({})

    child = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(tmp_path), upload.upload_id, json.dumps(chunks)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert child.stdout.startswith("refused: Cannot store a part"), child.stdout + child.stderr
    assert "File too large" in child.stdout
    [part] = uploads.parts(upload)
    assert (part.size, part.etag) == (8, hashlib.md5(b"old part").hexdigest())
    assert sorted(os.listdir(tmp_path / upload.upload_id)) == sorted(
        ["upload.json", "part-00001.json", part.path.name]
    )
