"""The filesystem object store passes the port's contract, and keeps it across threads,
processes, crashes and hostile keys and bucket names."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import re
import sqlite3
import tracemalloc
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from overcast.ports.objects import (
    BucketAlreadyExists,
    BucketInfo,
    BucketNotEmpty,
    ByteRange,
    InvalidBucketName,
    InvalidKey,
    NoSuchBucket,
    NoSuchKey,
    ObjectAttributes,
    ObjectInfo,
    ObjectStoreUnavailable,
    PreconditionFailed,
    WritePrecondition,
)
from overcast.ports.objects.filesystem import FilesystemBuckets, FilesystemObjectStore
from overcast.ports.objects.filesystem_catalog import Entry
from tests.objects_contract import *  # noqa: F403  (the contract's tests run here)
from tests.objects_contract import BAD_KEYS, ODD_KEYS, FakeClock, keys, md5

BLOB_NAME = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data" / "buckets"


@pytest.fixture
def buckets(root: Path, clock: FakeClock) -> Iterator[FilesystemBuckets]:
    opened = FilesystemBuckets(root, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def store(buckets: FilesystemBuckets) -> FilesystemObjectStore:
    buckets.create("bucket")
    return buckets.store("bucket")


def files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def tree(top: Path) -> set[Path]:
    return {Path(folder) / name for folder, dirs, names in os.walk(top) for name in dirs + names}


# --- layout --------------------------------------------------------------------------------


def test_a_bucket_is_a_catalog_and_one_randomly_named_blob_per_object(
    store: FilesystemObjectStore, root: Path
) -> None:
    store.put("a/b.txt", b"first")
    store.put("c", b"second")
    bucket = root / "bucket"
    assert {"catalog.sqlite3", "blobs", "tmp"} <= set(files(bucket))
    blobs = files(bucket / "blobs")
    assert len(blobs) == 2
    assert all(BLOB_NAME.match(name) for name in blobs)
    assert sorted((bucket / "blobs" / name).read_bytes() for name in blobs) == [b"first", b"second"]
    assert files(bucket / "tmp") == []
    with closing(sqlite3.connect(bucket / "catalog.sqlite3")) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_objects_survive_reopening_the_buckets(root: Path, clock: FakeClock) -> None:
    first = FilesystemBuckets(root, clock=clock)
    first.create("bucket")
    first.store("bucket").put("k", b"kept", ObjectAttributes(metadata={"a": "1"}))
    first.close()
    second = FilesystemBuckets(root)
    assert second.store("bucket").get("k") == b"kept"
    assert second.store("bucket").head("k").attributes.metadata == {"a": "1"}
    second.close()


# --- reading and writing ---------------------------------------------------------------------


def test_an_overwrite_unlinks_the_old_blob_while_its_reader_still_reads_it(
    store: FilesystemObjectStore, root: Path
) -> None:
    old = os.urandom(300_000)
    store.put("k", old)
    with store.open("k") as reader:
        store.put("k", b"new")
        blobs = files(root / "bucket" / "blobs")
        assert len(blobs) == 1
        assert reader.path.name not in blobs
        assert hashlib.md5(b"".join(reader.chunks(65_536))).hexdigest() == md5(old)


def test_a_reader_hands_its_file_and_range_to_a_server(store: FilesystemObjectStore) -> None:
    store.put("digits", b"0123456789")
    with store.open("digits", ByteRange(3, 6)) as reader:
        assert (reader.offset, reader.length) == (3, 4)
        assert os.pread(reader.fileno(), reader.length, reader.offset) == b"3456"
        assert reader.path.parent.name == "blobs"
    with pytest.raises(ValueError, match="closed"):
        reader.fileno()


def test_an_aborted_writer_removes_its_temporary_file(
    store: FilesystemObjectStore, root: Path
) -> None:
    writer = store.writer("k")
    writer.write(b"x" * 10_000)
    assert len(files(root / "bucket" / "tmp")) == 1
    writer.abort()
    assert files(root / "bucket" / "tmp") == []
    assert files(root / "bucket" / "blobs") == []


def test_a_writer_that_crashed_leaves_no_object_and_recover_removes_its_file(
    store: FilesystemObjectStore, buckets: FilesystemBuckets, root: Path
) -> None:
    store.put("kept", b"old")
    child = multiprocessing.get_context("spawn").Process(target=_write_then_crash, args=(root,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert len(files(root / "bucket" / "tmp")) == 1
    with pytest.raises(NoSuchKey):
        store.head("crashed")
    assert keys(store.list()) == ["kept"]
    buckets.recover()
    assert files(root / "bucket" / "tmp") == []
    assert store.get("kept") == b"old"


def _write_then_crash(root: Path) -> None:
    store = FilesystemBuckets(root).store("bucket")
    writer = store.writer("crashed")
    writer.write(b"x" * 100_000)
    os._exit(0)  # no abort, no finalizer: as if the process were killed


def test_recover_removes_blobs_no_object_names_and_keeps_the_rest(
    store: FilesystemObjectStore, buckets: FilesystemBuckets, root: Path
) -> None:
    store.put("a", b"aaa")
    store.put("b", b"bbb")
    blobs = root / "bucket" / "blobs"
    for stray in ("0" * 32, "f" * 32):  # renamed in, then the process died before its row
        (blobs / stray).write_bytes(b"orphan")
    buckets.recover()
    assert len(files(blobs)) == 2
    assert (store.get("a"), store.get("b")) == (b"aaa", b"bbb")


def test_two_processes_writing_one_key_leave_one_complete_version(
    store: FilesystemObjectStore, root: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    writers = [
        context.Process(target=_overwrite, args=(root, fill, 6, start)) for fill in (0xAA, 0x55)
    ]
    for writer in writers:
        writer.start()
    start.wait()
    while any(writer.is_alive() for writer in writers):
        try:
            body = store.get("shared")
        except NoSuchKey:
            continue
        assert len(body) == 4 << 20
        assert body.count(body[:1]) == len(body), "a torn read"
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    final = store.get("shared")
    assert final in (bytes([0xAA]) * (4 << 20), bytes([0x55]) * (4 << 20))
    assert store.head("shared").etag == md5(final)
    assert len(files(root / "bucket" / "blobs")) == 1
    assert files(root / "bucket" / "tmp") == []


def _overwrite(root: Path, fill: int, rounds: int, start: Barrier) -> None:
    store = FilesystemBuckets(root).store("bucket")
    chunk = bytes([fill]) * (1 << 20)
    start.wait()
    for _ in range(rounds):
        store.put("shared", (chunk for _ in range(4)))


def test_a_failed_conditional_commit_leaves_no_file_behind(
    store: FilesystemObjectStore, root: Path
) -> None:
    store.put("taken", b"precious")
    writer = store.writer("taken")
    writer.write(b"x" * 10_000)

    with pytest.raises(PreconditionFailed):
        writer.commit_if(WritePrecondition(if_none_match=True), ObjectAttributes())

    assert store.get("taken") == b"precious"
    assert len(files(root / "bucket" / "blobs")) == 1
    assert files(root / "bucket" / "tmp") == []


def test_processes_racing_to_create_the_same_keys_each_create_once(
    store: FilesystemObjectStore, root: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    racers = [context.Process(target=_create_only, args=(root, 8, start)) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    # Each racer's exit code is how many of the 8 keys it created.
    assert sum(racer.exitcode or 0 for racer in racers) == 8
    assert keys(store.list()) == [f"lock-{n}" for n in range(8)]
    assert len(files(root / "bucket" / "blobs")) == 8
    assert files(root / "bucket" / "tmp") == []


def _create_only(root: Path, count: int, start: Barrier) -> None:
    store = FilesystemBuckets(root).store("bucket")
    start.wait()
    created = 0
    for n in range(count):
        with store.writer(f"lock-{n}") as writer:
            writer.write(b"mine")
            try:
                writer.commit_if(WritePrecondition(if_none_match=True), ObjectAttributes())
                created += 1
            except PreconditionFailed:
                pass
    os._exit(created)


def test_a_50_mb_object_streams_in_and_out_in_bounded_memory(
    store: FilesystemObjectStore,
) -> None:
    chunk = os.urandom(1 << 20)
    expected = hashlib.md5(usedforsecurity=False)
    for _ in range(50):
        expected.update(chunk)
    tracemalloc.start()
    try:
        stored = store.put("big", (chunk for _ in range(50)))
        read = hashlib.md5(usedforsecurity=False)
        with store.open("big") as reader:
            for part in reader.chunks():
                read.update(part)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stored.size == 50 << 20
    assert stored.etag == read.hexdigest() == expected.hexdigest()
    assert peak < 10 << 20


# --- hostile keys --------------------------------------------------------------------------


def test_keys_that_look_like_paths_never_leave_the_bucket(
    store: FilesystemObjectStore, root: Path, tmp_path: Path
) -> None:
    store.list()  # the catalog's write-ahead log exists from here on
    before = tree(tmp_path)
    for key in ODD_KEYS:
        store.put(key, key.encode())
    created = tree(tmp_path) - before
    assert all(path.is_relative_to(root / "bucket" / "blobs") for path in created)
    assert len(created) == len(ODD_KEYS)
    assert all(BLOB_NAME.match(path.name) for path in created)
    assert sorted(keys(store.list())) == sorted(ODD_KEYS)
    assert store.get("../../etc/passwd") == b"../../etc/passwd"


def test_refused_keys_create_no_file(
    store: FilesystemObjectStore, root: Path, tmp_path: Path
) -> None:
    before = tree(tmp_path)
    for key in BAD_KEYS:
        with pytest.raises(InvalidKey):
            store.put(key, b"x")
    assert tree(tmp_path) == before


def test_random_unicode_keys_list_in_utf8_byte_order(store: FilesystemObjectStore) -> None:
    chooser = random.Random(7)
    alphabet = "aZ/-.~ é\u00ff\u0100\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0001f600\U0010ffff"
    names = {"".join(chooser.choices(alphabet, k=chooser.randint(1, 6))) for _ in range(150)}
    for name in names:
        store.put(name, b"")
    listed: list[str] = []
    marker = None
    while True:
        page = store.list(start_after=marker, limit=37)
        listed += keys(page)
        if not page.is_truncated:
            break
        marker = page.next_marker
    assert listed == sorted(names, key=lambda name: name.encode())


class RacingStore(FilesystemObjectStore):
    """Has ``rival`` overwrite each object right after this store reads its row."""

    def __init__(self, directory: Path, rival: FilesystemObjectStore, races: int) -> None:
        super().__init__("bucket", directory)
        self.rival = rival
        self.races = races

    def _find(self, key: str) -> Entry:
        entry = super()._find(key)
        if self.races:
            self.races -= 1
            self.rival.put(key, f"overwrite, {self.races} to go".encode())
        return entry


def test_a_reader_whose_blob_was_overwritten_meanwhile_reads_the_newer_version(
    store: FilesystemObjectStore, root: Path
) -> None:
    store.put("k", b"original")
    racing = RacingStore(root / "bucket", rival=store, races=3)
    with racing.open("k") as reader:
        assert b"".join(reader.chunks()) == b"overwrite, 0 to go"
        assert reader.info == store.head("k")
    racing.close()


def test_a_reader_that_keeps_losing_the_race_gives_up(
    store: FilesystemObjectStore, root: Path
) -> None:
    store.put("k", b"original")
    racing = RacingStore(root / "bucket", rival=store, races=1000)
    with pytest.raises(ObjectStoreUnavailable, match="missing"):
        racing.open("k")
    racing.close()


class CountingStore(FilesystemObjectStore):
    """Counts the catalog rows its listings read."""

    scanned = 0

    def _scan(
        self, lower: str, inclusive: bool, upper: str | None, count: int
    ) -> Sequence[ObjectInfo]:
        found = super()._scan(lower, inclusive, upper, count)
        self.scanned += len(found)
        return found


def test_a_listing_does_not_read_the_keys_under_a_common_prefix(
    store: FilesystemObjectStore, root: Path
) -> None:
    for folder in ("a", "b", "c"):
        for n in range(40):
            store.put(f"{folder}/{n:04}", b"")
    counting = CountingStore("bucket", root / "bucket")
    page = counting.list(delimiter="/")
    assert page.common_prefixes == ("a/", "b/", "c/")
    assert counting.scanned == 3
    counting.close()


# --- buckets -------------------------------------------------------------------------------


def test_buckets_are_listed_by_name_with_their_creation_time(
    buckets: FilesystemBuckets, clock: FakeClock
) -> None:
    assert buckets.list() == []
    buckets.create("zebra")
    clock.advance(60)
    buckets.create("apple.example")
    buckets.create("123")
    created = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    later = datetime(2025, 3, 4, 5, 7, 7, tzinfo=UTC)
    assert buckets.list() == [
        BucketInfo("123", later),
        BucketInfo("apple.example", later),
        BucketInfo("zebra", created),
    ]
    assert buckets.exists("zebra")
    assert not buckets.exists("zebr")


def test_creating_a_bucket_twice_is_refused_and_keeps_its_objects(
    buckets: FilesystemBuckets, root: Path
) -> None:
    buckets.create("photos")
    buckets.store("photos").put("k", b"v")
    with pytest.raises(BucketAlreadyExists):
        buckets.create("photos")
    with pytest.raises(BucketAlreadyExists):
        FilesystemBuckets(root).create("photos")
    assert buckets.store("photos").get("k") == b"v"


def test_a_bucket_that_holds_objects_cannot_be_deleted(buckets: FilesystemBuckets) -> None:
    buckets.create("photos")
    buckets.store("photos").put("k", b"v")
    with pytest.raises(BucketNotEmpty):
        buckets.delete("photos")
    assert buckets.store("photos").get("k") == b"v"
    buckets.store("photos").put("k2", b"still writable")


def test_a_deleted_bucket_is_gone_with_its_files(buckets: FilesystemBuckets, root: Path) -> None:
    buckets.create("photos")
    buckets.store("photos").put("k", b"v")
    buckets.store("photos").delete("k")
    buckets.delete("photos")
    assert not buckets.exists("photos")
    assert buckets.list() == []
    assert not (root / "photos").exists()
    assert files(root / ".trash") == []
    with pytest.raises(NoSuchBucket):
        buckets.store("photos")
    with pytest.raises(NoSuchBucket):
        buckets.delete("photos")
    buckets.create("photos")
    assert buckets.store("photos").list().objects == ()


def test_a_write_after_the_bucket_is_marked_deleted_is_refused(
    store: FilesystemObjectStore, root: Path
) -> None:
    writer = store.writer("late")
    writer.write(b"body")
    store.mark_deleted()  # another process deleting the bucket got here first
    with pytest.raises(NoSuchBucket):
        writer.commit(ObjectAttributes())
    with pytest.raises(NoSuchBucket):
        store.put("later", b"body")
    assert files(root / "bucket" / "blobs") == []
    assert files(root / "bucket" / "tmp") == []


def test_a_commit_into_a_bucket_deleted_meanwhile_is_refused(
    buckets: FilesystemBuckets, store: FilesystemObjectStore
) -> None:
    writer = store.writer("late")
    writer.write(b"body")
    buckets.delete("bucket")
    with pytest.raises(NoSuchBucket):
        writer.commit(ObjectAttributes())
    with pytest.raises(NoSuchBucket):
        store.writer("later")


def test_recover_finishes_what_a_crash_interrupted(buckets: FilesystemBuckets, root: Path) -> None:
    buckets.create("half-deleted")
    buckets.create("kept")
    buckets.store("half-deleted").mark_deleted()  # then the process died
    (root / ".staging" / ("0" * 32)).mkdir(parents=True)  # a creation that died
    (root / ".trash" / ("1" * 32) / "blobs").mkdir(parents=True)  # a removal that died
    assert [info.name for info in buckets.list()] == ["kept"]
    buckets.recover()
    assert sorted(os.listdir(root)) == ["kept"]


def test_another_process_recreating_a_bucket_is_noticed(
    buckets: FilesystemBuckets, root: Path
) -> None:
    buckets.create("photos")
    buckets.store("photos").put("old", b"v")
    buckets.store("photos").delete("old")
    other = FilesystemBuckets(root)
    other.delete("photos")
    other.create("photos")
    other.store("photos").put("new", b"v")
    assert keys(buckets.store("photos").list()) == ["new"]
    other.close()


INVALID_NAMES = [
    "..",
    "../x",
    "../../etc",
    "a/b",
    "/etc",
    "ab",
    "x" * 64,
    "Upper",
    "under_score",
    "-ab",
    "ab-",
    ".abc",
    "a..b",
    "192.168.5.4",
    "xn--abc",
    "sthree-abc",
    "abc-s3alias",
    "abc--ol-s3",
    "nul\x00name",
    ".staging",
    ".trash",
]


@pytest.mark.parametrize("name", INVALID_NAMES, ids=range(len(INVALID_NAMES)))
def test_an_invalid_bucket_name_never_reaches_the_filesystem(
    buckets: FilesystemBuckets, tmp_path: Path, name: str
) -> None:
    buckets.create("real")
    before = tree(tmp_path)
    with pytest.raises(InvalidBucketName):
        buckets.create(name)
    assert not buckets.exists(name)
    with pytest.raises(NoSuchBucket):
        buckets.store(name)
    with pytest.raises(NoSuchBucket):
        buckets.delete(name)
    assert tree(tmp_path) == before


# --- failures ------------------------------------------------------------------------------


def test_a_damaged_catalog_is_reported_as_unavailable(
    buckets: FilesystemBuckets, root: Path
) -> None:
    buckets.create("broken")
    (root / "broken" / "catalog.sqlite3").write_bytes(b"this is not a database" * 100)
    store = FilesystemObjectStore("broken", root / "broken")
    with pytest.raises(ObjectStoreUnavailable):
        store.list()
    with pytest.raises(ObjectStoreUnavailable):
        store.head("k")
    with pytest.raises(ObjectStoreUnavailable):
        store.put("k", b"v")
    store.close()


def test_a_body_removed_behind_the_stores_back_is_reported_as_unavailable(
    store: FilesystemObjectStore, root: Path
) -> None:
    store.put("k", b"v")
    for blob in (root / "bucket" / "blobs").iterdir():
        blob.unlink()
    with pytest.raises(ObjectStoreUnavailable, match="missing"):
        store.open("k")


def test_a_closed_store_is_unavailable(store: FilesystemObjectStore) -> None:
    store.put("k", b"v")
    store.close()
    with pytest.raises(ObjectStoreUnavailable):
        store.head("k")
