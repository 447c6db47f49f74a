"""The object store port's contract: what every adapter must do, as S3 does it.

A runner module defines a ``store`` fixture that returns a fresh, empty store whose
clock is the ``clock`` fixture defined here, then imports these tests with
``from tests.objects_contract import *``. Runners: ``tests/unit/test_objects_memory.py``
and ``tests/integration/test_objects_filesystem.py``.

Conditional commits (``commit_if``) are optional: an adapter that cannot check a
precondition atomically raises ``ConditionalWriteUnsupported``, and their tests skip;
one that accepts them must honour them.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from overcast.ports.objects import (
    ByteRange,
    ConditionalWriteUnsupported,
    InvalidKey,
    InvalidRange,
    ListPage,
    NoSuchKey,
    ObjectAttributes,
    ObjectInfo,
    ObjectStore,
    ObjectWriter,
    PreconditionFailed,
    WritePrecondition,
)

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
START = datetime(2025, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)
# Keys S3 accepts that look like paths, escapes or nothing at all: all opaque names.
ODD_KEYS = [
    "../../etc/passwd",
    "..",
    ".",
    "/x",
    "a//b",
    "a/./b",
    "%2F",
    "%2e%2e/%2e%2e/x",
    "back\\slash\\..\\..",
    " spaced out ",
    "ünïcødé/日本語/😀",
    "catalog.sqlite3",
    "blobs/x",
    "\x7f",
    "k" * 1024,
    "é" * 512,
]
# Keys no S3 object can have.
BAD_KEYS = [
    "",
    "k" * 1025,
    "é" * 512 + "k",
    "nul\x00byte",
    "line\nfeed",
    "\x1f",
    "lone \ud800 surrogate",
]


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def md5(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()


def keys(page: ListPage) -> list[str]:
    return [info.key for info in page.objects]


def walk(store: ObjectStore, **options: Any) -> tuple[list[str], int]:
    """Every entry (keys and common prefixes, in order) of a listing, page by page."""
    entries: list[str] = []
    marker, pages = None, 0
    while True:
        page = store.list(start_after=marker, **options)
        pages += 1
        found = keys(page) + list(page.common_prefixes)
        entries += sorted(found)
        assert len(found) <= options.get("limit", 1000)
        if not page.is_truncated:
            return entries, pages
        assert page.next_marker == max(found)
        assert pages < 1000, "the marker does not advance"
        marker = page.next_marker


def fill(store: ObjectStore, *names: str) -> None:
    for name in names:
        store.put(name, name.encode())


# --- objects -------------------------------------------------------------------------------


def test_a_put_object_reads_back_with_its_description(store: ObjectStore, clock: FakeClock) -> None:
    stored = store.put("notes/today.txt", b"buy milk")
    assert store.get("notes/today.txt") == b"buy milk"
    assert stored == store.head("notes/today.txt")
    assert stored.key == "notes/today.txt"
    assert stored.size == 8
    assert stored.etag == md5(b"buy milk")
    assert stored.last_modified == datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)  # whole seconds
    assert stored.attributes == ObjectAttributes()
    assert stored.attributes.content_type == "binary/octet-stream"


def test_a_body_given_in_chunks_is_stored_whole(store: ObjectStore) -> None:
    chunks = [b"first,", b"", b"second,", b"third" * 1000]
    stored = store.put("parts", iter(chunks))
    assert store.get("parts") == b"".join(chunks)
    assert stored.etag == md5(b"".join(chunks))
    assert stored.size == len(b"".join(chunks))


def test_an_empty_object_has_the_md5_of_nothing(store: ObjectStore) -> None:
    store.put("empty", b"")
    assert store.head("empty").etag == EMPTY_MD5
    assert store.head("empty").size == 0
    assert store.get("empty") == b""


def test_attributes_are_kept_with_the_object(store: ObjectStore) -> None:
    attributes = ObjectAttributes(
        content_type="text/plain; charset=utf-8",
        cache_control="max-age=60",
        content_disposition='attachment; filename="a.txt"',
        content_encoding="gzip",
        content_language="fr",
        expires="Wed, 21 Oct 2015 07:28:00 GMT",
        metadata={"author": "ana", "note": "ünïcødé"},
        checksums={"CRC32": "AAAAAA=="},
    )
    store.put("a.txt", b"x", attributes)
    assert store.head("a.txt").attributes == attributes
    with store.open("a.txt") as reader:
        assert reader.info.attributes == attributes


def test_changing_the_given_metadata_afterwards_changes_nothing_stored(
    store: ObjectStore,
) -> None:
    metadata = {"author": "ana"}
    store.put("a.txt", b"x", ObjectAttributes(metadata=metadata))
    metadata["author"] = "eve"
    assert store.head("a.txt").attributes.metadata == {"author": "ana"}


def test_an_overwrite_replaces_body_and_attributes(store: ObjectStore, clock: FakeClock) -> None:
    store.put("k", b"old body", ObjectAttributes(content_type="text/plain", metadata={"v": "1"}))
    clock.advance(90)
    store.put("k", b"new")
    assert store.get("k") == b"new"
    info = store.head("k")
    assert info.attributes == ObjectAttributes()
    assert (info.size, info.etag) == (3, md5(b"new"))
    assert info.last_modified == datetime(2025, 3, 4, 5, 7, 37, tzinfo=UTC)


def test_reading_a_missing_key_is_no_such_key(store: ObjectStore) -> None:
    store.put("present", b"x")
    with pytest.raises(NoSuchKey):
        store.get("absent")
    with pytest.raises(NoSuchKey):
        store.head("absent")
    with pytest.raises(NoSuchKey):
        store.open("Present")  # keys are case-sensitive


def test_a_deleted_object_is_gone_and_deleting_again_succeeds(store: ObjectStore) -> None:
    fill(store, "a", "b")
    store.delete("a")
    with pytest.raises(NoSuchKey):
        store.head("a")
    store.delete("a")
    store.delete("never-there")
    assert keys(store.list()) == ["b"]


def test_copy_keeps_the_attributes_unless_new_ones_are_given(store: ObjectStore) -> None:
    original = ObjectAttributes(content_type="image/png", metadata={"w": "10"})
    store.put("photo.png", b"\x89PNG...", original)
    copied = store.copy(store, "photo.png", "copy.png")
    assert store.get("copy.png") == b"\x89PNG..."
    assert copied.attributes == original
    assert copied.etag == md5(b"\x89PNG...")
    replaced = store.copy(store, "photo.png", "other.png", ObjectAttributes(content_type="a/b"))
    assert replaced.attributes == ObjectAttributes(content_type="a/b")
    with pytest.raises(NoSuchKey):
        store.copy(store, "missing.png", "nothing.png")
    with pytest.raises(NoSuchKey):
        store.head("nothing.png")


def test_an_object_copied_onto_itself_keeps_its_body(store: ObjectStore) -> None:
    store.put("self", b"same body")
    store.copy(store, "self", "self", ObjectAttributes(content_type="text/plain"))
    assert store.get("self") == b"same body"
    assert store.head("self").attributes.content_type == "text/plain"


# --- writers -------------------------------------------------------------------------------


def test_a_writer_shows_nothing_until_it_commits(store: ObjectStore) -> None:
    writer = store.writer("big")
    writer.write(b"half ")
    assert (writer.size, writer.md5_hex()) == (5, md5(b"half "))
    with pytest.raises(NoSuchKey):
        store.head("big")
    assert store.list().objects == ()
    writer.write(b"and half")
    info = writer.commit(ObjectAttributes(content_type="text/plain"))
    assert store.get("big") == b"half and half"
    assert info == store.head("big")
    writer.abort()  # a no-op after commit
    assert store.get("big") == b"half and half"


def test_an_overwrite_in_progress_leaves_the_old_object_visible(store: ObjectStore) -> None:
    store.put("k", b"old")
    writer = store.writer("k")
    writer.write(b"new")
    assert store.get("k") == b"old"
    writer.commit(ObjectAttributes())
    assert store.get("k") == b"new"


def test_an_aborted_writer_leaves_no_object(store: ObjectStore) -> None:
    store.put("kept", b"old")
    for key in ("new", "kept"):
        writer = store.writer(key)
        writer.write(b"never seen")
        writer.abort()
        writer.abort()  # idempotent
    assert keys(store.list()) == ["kept"]
    assert store.get("kept") == b"old"


def test_a_writer_left_by_an_exception_commits_nothing(store: ObjectStore) -> None:
    def upload() -> None:
        with store.writer("k") as writer:
            writer.write(b"partial")
            raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError):
        upload()
    with pytest.raises(NoSuchKey):
        store.head("k")


def test_a_finished_writer_refuses_more(store: ObjectStore) -> None:
    writer = store.writer("k")
    writer.commit(ObjectAttributes())
    with pytest.raises(ValueError, match="committed or aborted"):
        writer.write(b"late")
    with pytest.raises(ValueError, match="committed or aborted"):
        writer.commit(ObjectAttributes())
    assert store.get("k") == b""


def test_a_commit_may_name_the_etag(store: ObjectStore) -> None:
    writer = store.writer("multi")
    writer.write(b"parts")
    info = writer.commit(ObjectAttributes(), etag="0123456789abcdef0123456789abcdef-2")
    assert info.etag == "0123456789abcdef0123456789abcdef-2"
    assert store.head("multi").etag == info.etag
    assert store.list().objects[0].etag == info.etag


# --- readers -------------------------------------------------------------------------------


def test_a_reader_opened_before_an_overwrite_reads_the_old_version(store: ObjectStore) -> None:
    old = bytes(range(256)) * 1024
    store.put("k", old)
    with store.open("k") as reader:
        store.put("k", b"new")
        assert reader.info.etag == md5(old)
        assert b"".join(reader.chunks(10_000)) == old
    assert store.get("k") == b"new"


def test_a_reader_opened_before_a_delete_reads_the_object(store: ObjectStore) -> None:
    store.put("k", b"still here")
    with store.open("k") as reader:
        store.delete("k")
        assert b"".join(reader.chunks()) == b"still here"
    with pytest.raises(NoSuchKey):
        store.head("k")


def test_chunks_come_at_most_the_size_asked(store: ObjectStore) -> None:
    body = bytes(range(256)) * 40
    store.put("k", body)
    with store.open("k") as reader:
        chunks = list(reader.chunks(1000))
    assert b"".join(chunks) == body
    assert all(0 < len(chunk) <= 1000 for chunk in chunks)
    assert len(chunks) == 11


def test_a_closed_reader_refuses_to_read(store: ObjectStore) -> None:
    store.put("k", b"body")
    reader = store.open("k")
    reader.close()
    reader.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        list(reader.chunks())


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (0, 0, b"0"),
        (2, 5, b"2345"),
        (0, 9, b"0123456789"),
        (7, 100, b"789"),  # a range past the end is clipped to the end
        (9, 9, b"9"),
    ],
)
def test_a_range_reads_those_bytes_only(
    store: ObjectStore, first: int, last: int, expected: bytes
) -> None:
    store.put("digits", b"0123456789")
    with store.open("digits", ByteRange(first, last)) as reader:
        assert b"".join(reader.chunks(2)) == expected
        assert reader.byte_range == ByteRange(first, min(last, 9))
        assert reader.info.size == 10
    assert store.get("digits", ByteRange(first, last)) == expected


def test_a_whole_object_read_has_no_range(store: ObjectStore) -> None:
    store.put("digits", b"0123456789")
    with store.open("digits") as reader:
        assert reader.byte_range is None


@pytest.mark.parametrize(("first", "last"), [(10, 10), (11, 20), (5, 4), (-1, 3)])
def test_a_range_starting_past_the_end_is_not_satisfiable(
    store: ObjectStore, first: int, last: int
) -> None:
    store.put("digits", b"0123456789")
    with pytest.raises(InvalidRange) as raised:
        store.open("digits", ByteRange(first, last))
    assert raised.value.size == 10


def test_no_range_of_an_empty_object_is_satisfiable(store: ObjectStore) -> None:
    store.put("empty", b"")
    with pytest.raises(InvalidRange):
        store.open("empty", ByteRange(0, 0))
    assert store.get("empty") == b""


# --- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ODD_KEYS, ids=range(len(ODD_KEYS)))
def test_any_valid_key_is_an_opaque_name(store: ObjectStore, key: str) -> None:
    store.put(key, b"body of " + key.encode())
    assert store.get(key) == b"body of " + key.encode()
    assert keys(store.list()) == [key]
    store.delete(key)
    assert store.list().objects == ()


def test_keys_that_differ_only_in_path_spelling_are_different_objects(
    store: ObjectStore,
) -> None:
    names = ["a/b", "a//b", "a/./b", "/a/b", "a/b/", "a%2Fb", "A/b"]
    fill(store, *names)
    for name in names:
        assert store.get(name) == name.encode()
    assert keys(store.list()) == sorted(names)


@pytest.mark.parametrize("key", BAD_KEYS, ids=range(len(BAD_KEYS)))
def test_an_invalid_key_is_refused_everywhere(store: ObjectStore, key: str) -> None:
    store.put("fine", b"x")
    with pytest.raises(InvalidKey):
        store.put(key, b"x")
    with pytest.raises(InvalidKey):
        store.writer(key)
    with pytest.raises(InvalidKey):
        store.open(key)
    with pytest.raises(InvalidKey):
        store.head(key)
    with pytest.raises(InvalidKey):
        store.delete(key)
    with pytest.raises(InvalidKey):
        store.copy(store, "fine", key)
    assert keys(store.list()) == ["fine"]


# --- listing -------------------------------------------------------------------------------


def test_a_listing_is_in_utf8_byte_order(store: ObjectStore) -> None:
    # UTF-16 (Java, JavaScript) would put the emoji (a surrogate pair) before U+FF61.
    names = ["b", "a", "Z", "a0", "a/", "é", "\uff61", "😀", "~", "A", "a-"]
    fill(store, *names)
    assert keys(store.list()) == sorted(names, key=lambda name: name.encode())


def test_a_listing_describes_each_object_as_head_does(store: ObjectStore) -> None:
    store.put("a", b"aaa", ObjectAttributes(content_type="text/plain", metadata={"m": "1"}))
    store.put("b", b"")
    assert list(store.list().objects) == [store.head("a"), store.head("b")]


def test_a_prefix_lists_only_keys_that_begin_with_it(store: ObjectStore) -> None:
    fill(store, "photos/1.jpg", "photos/2.jpg", "photosynthesis", "photo", "docs/1")
    assert keys(store.list("photos/")) == ["photos/1.jpg", "photos/2.jpg"]
    assert keys(store.list("photo")) == ["photo", "photos/1.jpg", "photos/2.jpg", "photosynthesis"]
    assert keys(store.list("nothing")) == []


def test_a_prefix_of_the_largest_code_point_still_bounds_the_listing(store: ObjectStore) -> None:
    fill(store, "a\U0010ffff", "a\U0010ffffz", "b", "\U0010ffffx")
    assert keys(store.list("a\U0010ffff")) == ["a\U0010ffff", "a\U0010ffffz"]
    assert keys(store.list("\U0010ffff")) == ["\U0010ffffx"]


def test_a_delimiter_rolls_keys_up_into_common_prefixes(store: ObjectStore) -> None:
    fill(store, "a/1", "a/2", "a/b/3", "b", "c/d/e", "c/x", "d")
    page = store.list(delimiter="/")
    assert keys(page) == ["b", "d"]
    assert page.common_prefixes == ("a/", "c/")
    assert not page.is_truncated
    inner = store.list("c/", delimiter="/")
    assert keys(inner) == ["c/x"]
    assert inner.common_prefixes == ("c/d/",)


def test_a_key_equal_to_the_prefix_is_listed_as_an_object(store: ObjectStore) -> None:
    fill(store, "folder/", "folder/a", "folder/sub/b")
    page = store.list("folder/", delimiter="/")
    assert keys(page) == ["folder/", "folder/a"]
    assert page.common_prefixes == ("folder/sub/",)


def test_a_delimiter_of_several_characters_rolls_up_at_its_first_occurrence(
    store: ObjectStore,
) -> None:
    fill(store, "x--y--z", "x--w", "x-y", "xy")
    page = store.list(delimiter="--")
    assert keys(page) == ["x-y", "xy"]
    assert page.common_prefixes == ("x--",)


def test_an_empty_delimiter_is_no_delimiter(store: ObjectStore) -> None:
    fill(store, "a/1", "b")
    page = store.list(delimiter="")
    assert keys(page) == ["a/1", "b"]
    assert page.common_prefixes == ()


def test_a_limit_truncates_and_names_the_last_key(store: ObjectStore) -> None:
    fill(store, "a", "b", "c")
    page = store.list(limit=2)
    assert keys(page) == ["a", "b"]
    assert page.is_truncated
    assert page.next_marker == "b"
    rest = store.list(start_after="b", limit=2)
    assert keys(rest) == ["c"]
    assert rest.next_marker is None


def test_a_listing_that_ends_exactly_at_the_limit_is_not_truncated(store: ObjectStore) -> None:
    fill(store, "a", "b")
    assert not store.list(limit=2).is_truncated
    fill(store, "c/1", "c/2")
    page = store.list(delimiter="/", limit=3)
    assert page.common_prefixes == ("c/",)
    assert not page.is_truncated


def test_a_common_prefix_counts_once_toward_the_limit(store: ObjectStore) -> None:
    fill(store, "a", *(f"b/{n}" for n in range(50)), "c")
    page = store.list(delimiter="/", limit=2)
    assert keys(page) == ["a"]
    assert page.common_prefixes == ("b/",)
    assert page.next_marker == "b/"
    rest = store.list(delimiter="/", start_after="b/", limit=2)
    assert keys(rest) == ["c"]
    assert rest.common_prefixes == ()
    assert not rest.is_truncated


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 1000])
def test_paging_with_the_marker_visits_every_entry_once(store: ObjectStore, limit: int) -> None:
    fill(store, "a", "a/1", "a/2/x", "a0", "b/", "b/1", "b//2", "c", "c/d/e", "é/1", "😀")
    everything, _ = walk(store, limit=limit)
    assert everything == keys(store.list())
    rolled, pages = walk(store, delimiter="/", limit=limit)
    assert rolled == ["a", "a/", "a0", "b/", "c", "c/", "é/", "😀"]
    assert pages == -(-len(rolled) // limit)
    within, _ = walk(store, prefix="a/", delimiter="/", limit=limit)
    assert within == ["a/1", "a/2/"]


def test_start_after_skips_keys_up_to_and_including_it(store: ObjectStore) -> None:
    fill(store, "a", "b", "c", "d")
    assert keys(store.list(start_after="b")) == ["c", "d"]
    assert keys(store.list(start_after="bb")) == ["c", "d"]
    assert keys(store.list(start_after="")) == ["a", "b", "c", "d"]
    assert keys(store.list(start_after="z")) == []


def test_start_after_before_the_prefix_lists_the_whole_prefix(store: ObjectStore) -> None:
    fill(store, "a", "m/1", "m/2", "z")
    assert keys(store.list("m/", start_after="b")) == ["m/1", "m/2"]
    assert keys(store.list("m/", start_after="m/1")) == ["m/2"]
    assert keys(store.list("m/", start_after="n")) == []


def test_start_after_inside_a_common_prefix_lists_that_prefix_again(store: ObjectStore) -> None:
    # S3 rolls up the keys after the marker; only a marker that *is* the common
    # prefix (the last entry of the previous page) skips it.
    fill(store, "boo/bar", "boo/baz/xyzzy", "cquux/thud")
    page = store.list(delimiter="/", start_after="boo/bar")
    assert page.common_prefixes == ("boo/", "cquux/")
    assert store.list(delimiter="/", start_after="boo/").common_prefixes == ("cquux/",)


def test_a_limit_of_zero_lists_nothing_and_is_not_truncated(store: ObjectStore) -> None:
    fill(store, "a")
    page = store.list(limit=0)
    assert (page.objects, page.common_prefixes, page.is_truncated) == ((), (), False)


def test_an_empty_store_lists_nothing(store: ObjectStore) -> None:
    page = store.list(delimiter="/")
    assert (page.objects, page.common_prefixes, page.next_marker) == ((), (), None)


def test_a_prefix_that_is_not_valid_unicode_is_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidKey):
        store.list("\udc80")
    with pytest.raises(InvalidKey):
        store.list(start_after="\ud800")


# --- conditional writes --------------------------------------------------------------------

CREATE_ONLY = WritePrecondition(if_none_match=True)


def commit_if(
    writer: ObjectWriter, precondition: WritePrecondition, etag: str | None = None
) -> ObjectInfo:
    """``writer.commit_if``; the test skips where the adapter refuses conditional writes."""
    try:
        return writer.commit_if(precondition, ObjectAttributes(), etag=etag)
    except ConditionalWriteUnsupported as refused:
        writer.abort()
        pytest.skip(f"this adapter refuses conditional writes: {refused}")


def put_if(
    store: ObjectStore, key: str, body: bytes, precondition: WritePrecondition
) -> ObjectInfo:
    with store.writer(key) as writer:
        writer.write(body)
        return commit_if(writer, precondition)


def test_a_create_only_write_creates_a_missing_key(store: ObjectStore) -> None:
    info = put_if(store, "new", b"first", CREATE_ONLY)

    assert info.etag == md5(b"first")
    assert store.get("new") == b"first"


def test_a_create_only_write_leaves_an_existing_object_alone(store: ObjectStore) -> None:
    store.put("taken", b"precious")

    with pytest.raises(PreconditionFailed):
        put_if(store, "taken", b"overwrite", CREATE_ONLY)

    assert store.get("taken") == b"precious"
    assert keys(store.list()) == ["taken"]


def test_if_match_replaces_only_the_version_it_names(store: ObjectStore) -> None:
    old = store.put("doc", b"v1")

    with pytest.raises(PreconditionFailed):
        put_if(store, "doc", b"v2", WritePrecondition(if_match=frozenset({md5(b"other")})))
    assert store.get("doc") == b"v1"

    put_if(store, "doc", b"v2", WritePrecondition(if_match=frozenset({"x", old.etag})))
    assert store.get("doc") == b"v2"
    put_if(store, "doc", b"v3", WritePrecondition(if_match=frozenset({"*"})))
    assert store.get("doc") == b"v3"


def test_if_match_on_a_missing_key_is_no_such_key(store: ObjectStore) -> None:
    with pytest.raises(NoSuchKey):
        put_if(store, "absent", b"x", WritePrecondition(if_match=frozenset({"*"})))

    assert keys(store.list()) == []


def test_a_precondition_is_checked_when_the_writer_commits_not_when_it_opens(
    store: ObjectStore,
) -> None:
    first, second = store.writer("race"), store.writer("race")
    first.write(b"first")
    second.write(b"second")

    commit_if(first, CREATE_ONLY)
    with pytest.raises(PreconditionFailed):
        commit_if(second, CREATE_ONLY)
    second.abort()

    assert store.get("race") == b"first"


def test_a_conditional_commit_may_name_the_etag(store: ObjectStore) -> None:
    with store.writer("multipart") as writer:
        writer.write(b"parts")
        info = commit_if(writer, CREATE_ONLY, etag="0123456789abcdef0123456789abcdef-2")

    assert store.head("multipart").etag == info.etag == "0123456789abcdef0123456789abcdef-2"


def test_of_threads_racing_to_create_a_key_exactly_one_wins(store: ObjectStore) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def create(n: int) -> None:
        writer = store.writer("lock")
        writer.write(b"%d" % n)
        start.wait()
        try:
            writer.commit_if(CREATE_ONLY, ObjectAttributes())
            outcomes.append("won")
        except PreconditionFailed:
            outcomes.append("lost")
        except ConditionalWriteUnsupported:
            outcomes.append("refused")
        finally:
            writer.abort()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if "refused" in outcomes:
        pytest.skip("this adapter refuses conditional writes")
    assert sorted(outcomes) == ["lost"] * 5 + ["won"]
    assert store.get("lock") in {b"%d" % n for n in range(6)}


# --- concurrency -----------------------------------------------------------------------------


def test_threads_writing_and_reading_at_once_see_only_whole_objects(store: ObjectStore) -> None:
    bodies = [bytes([n]) * (50_000 + n) for n in range(4)]
    errors: list[BaseException] = []

    def write(n: int) -> None:
        for round in range(15):
            store.put(f"own/{n}/{round}", bodies[n])
            store.put("shared", bodies[(n + round) % 4])

    def read() -> None:
        for _ in range(60):
            try:
                body = store.get("shared")
            except NoSuchKey:
                continue
            if body not in bodies:
                errors.append(AssertionError(f"a torn read of {len(body)} bytes"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.get("shared") in bodies
    assert len(keys(store.list("own/"))) == 60
