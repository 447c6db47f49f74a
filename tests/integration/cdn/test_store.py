"""The edge's disk store on a real filesystem and SQLite: what it keeps, what it evicts,
what an invalidation or a crash leaves behind (injected clock)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from overcast.local.cdn.store import EdgeStore, Entry

HTML = [("Content-Type", "text/html"), ("ETag", '"v1"')]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[EdgeStore]:
    opened = EdgeStore(tmp_path / "edge", max_bytes=1_000, clock=clock)
    yield opened
    opened.close()


def put(store: EdgeStore, key: str, body: bytes, path: str = "/a", ttl: float = 60) -> Entry:
    writer = store.begin(key, path)
    for start in range(0, len(body), 64):
        writer.write(body[start : start + 64])
    return writer.commit(200, HTML, 1_000.0 + ttl)


def bodies(root: Path) -> set[str]:
    return set(os.listdir(root / "edge" / "bodies"))


def test_a_committed_body_is_found_with_its_response(store: EdgeStore) -> None:
    committed = put(store, "k1", b"<p>hello</p>", "/index.html")

    found = store.lookup("k1")

    assert found == committed
    assert found is not None
    assert (found.status, found.headers, found.path, found.size) == (200, HTML, "/index.html", 12)
    assert found.body_path.read_bytes() == b"<p>hello</p>"
    assert (store.entry_count, store.total_bytes) == (1, 12)
    assert store.lookup("other") is None


def test_freshness_and_age_follow_the_clock(store: EdgeStore, clock: Clock) -> None:
    entry = put(store, "k", b"x", ttl=60)

    assert entry.fresh(1_059.9)
    assert not entry.fresh(1_060.0)
    assert entry.age(1_000.0) == 0
    assert entry.age(1_042.7) == 42
    assert entry.age(990.0) == 0


def test_least_recently_used_entries_go_first_under_the_byte_bound(store: EdgeStore) -> None:
    # Given four 300-byte entries in a 1000-byte store, "a" read after "b" and "c"
    for key in "abc":
        put(store, key, b"x" * 300)
    assert store.lookup("a") is not None

    # When a fourth arrives
    put(store, "d", b"y" * 300)

    # Then "b", the least recently used, is gone and its file with it
    assert store.lookup("b") is None
    assert [key for key in "acd" if store.lookup(key) is None] == []
    assert (store.entry_count, store.total_bytes) == (3, 900)


def test_eviction_frees_as_many_entries_as_needed(store: EdgeStore, tmp_path: Path) -> None:
    for key in "abcde":
        put(store, key, b"x" * 200)

    put(store, "big", b"z" * 700)

    assert [key for key in "abcde" if store.lookup(key) is not None] == ["e"]
    assert store.total_bytes == 900
    assert len(bodies(tmp_path)) == 2


def test_the_entry_just_committed_is_never_evicted(store: EdgeStore) -> None:
    put(store, "small", b"x" * 10)

    huge = put(store, "huge", b"h" * 5_000)

    assert store.lookup("huge") == huge
    assert store.lookup("small") is None
    assert store.total_bytes == 5_000


def test_a_new_body_replaces_the_old_one(store: EdgeStore, tmp_path: Path) -> None:
    old = put(store, "k", b"old body")
    with old.body_path.open("rb") as reader:
        new = put(store, "k", b"new, longer body")

        # A viewer that opened the old file keeps reading it (POSIX)...
        assert reader.read() == b"old body"
    # ...but it is gone from the store and the disk
    assert not old.body_path.exists()
    assert store.lookup("k") == new
    assert (store.entry_count, store.total_bytes) == (1, 16)
    assert bodies(tmp_path) == {new.body_path.name}


def test_a_body_is_readable_while_it_is_written(store: EdgeStore) -> None:
    writer = store.begin("k", "/video.mp4")
    writer.write(b"first ")

    assert writer.body_path.read_bytes() == b"first "
    assert writer.written == 6
    assert store.lookup("k") is None  # not indexed before commit

    writer.write(b"second")
    entry = writer.commit(200, [], 2_000.0)
    assert entry.size == 12
    assert entry.body_path == writer.body_path


def test_an_aborted_body_leaves_nothing(store: EdgeStore, tmp_path: Path) -> None:
    writer = store.begin("k", "/a")
    writer.write(b"partial")

    writer.abort()

    assert bodies(tmp_path) == set()
    assert store.lookup("k") is None
    with pytest.raises(ValueError, match="already"):
        writer.write(b"more")
    writer.abort()  # twice is harmless


def test_a_committed_writer_cannot_commit_again(store: EdgeStore) -> None:
    writer = store.begin("k", "/a")
    writer.commit(200, [], 2_000.0)
    with pytest.raises(ValueError, match="already"):
        writer.commit(200, [], 2_000.0)


def test_invalidating_a_path_removes_every_variant_of_it(store: EdgeStore) -> None:
    put(store, "a-br", b"1", "/a")
    put(store, "a-gzip", b"22", "/a")
    put(store, "a-query", b"333", "/a")
    put(store, "ab", b"4444", "/ab")

    assert store.invalidate("/a") == 3

    assert store.lookup("ab") is not None
    assert [k for k in ("a-br", "a-gzip", "a-query") if store.lookup(k)] == []
    assert (store.entry_count, store.total_bytes) == (1, 4)


def test_wildcard_invalidations_remove_everything_below(store: EdgeStore) -> None:
    for key, path in {
        "1": "/images/a.png",
        "2": "/images/2024/b.png",
        "3": "/images",
        "4": "/imagesX",
        "5": "/Images/c.png",
    }.items():
        put(store, key, b"x", path)

    assert store.invalidate("/images/*") == 2
    assert sorted(k for k in "12345" if store.lookup(k)) == ["3", "4", "5"]
    assert store.invalidate("/images*") == 2
    assert store.invalidate("/*") == 1
    assert store.entry_count == 0


def test_glob_characters_in_paths_are_matched_literally(store: EdgeStore) -> None:
    put(store, "star", b"x", "/a*b/c")
    put(store, "bracket", b"x", "/[v1]/c")
    put(store, "question", b"x", "/q")
    put(store, "plain", b"x", "/aXb/c")

    assert store.invalidate("/a*") == 2  # "/a*b/c" and "/aXb/c" both start with "/a"
    assert store.invalidate("/[v1]/*") == 1
    assert store.invalidate("/[v*") == 0
    assert store.lookup("question") is not None
    assert store.invalidate("/q?v=*") == 1  # a query part stands for every variant of /q


def test_a_fill_an_invalidation_covered_commits_as_expired(store: EdgeStore, clock: Clock) -> None:
    writer = store.begin("k", "/news.html")
    writer.write(b"old news")

    assert store.invalidate("/news*") == 0
    clock.now = 1_005.0
    entry = writer.commit(200, HTML, 9_999.0)

    assert entry.expires_at == 1_005.0
    assert not entry.fresh(clock.now)
    assert entry.body_path.read_bytes() == b"old news"


def test_a_body_of_the_wrong_size_is_a_miss_and_is_dropped(store: EdgeStore) -> None:
    entry = put(store, "k", b"complete body")
    entry.body_path.write_bytes(b"torn")

    assert store.lookup("k") is None
    assert not entry.body_path.exists()
    assert (store.entry_count, store.total_bytes) == (0, 0)


def test_a_missing_body_is_a_miss(store: EdgeStore) -> None:
    entry = put(store, "k", b"body")
    entry.body_path.unlink()

    assert store.lookup("k") is None
    assert store.entry_count == 0


def test_recover_drops_what_a_crash_left_half_written(tmp_path: Path, clock: Clock) -> None:
    # Given a store that crashed mid-fill (nothing closed, nothing aborted)
    crashed = EdgeStore(tmp_path / "edge", max_bytes=10_000, clock=clock)
    kept = put(crashed, "kept", b"whole")
    torn = put(crashed, "torn", b"whole too")
    crashed.begin("half", "/half").write(b"half a bo")
    torn.body_path.write_bytes(b"who")
    (tmp_path / "edge" / "bodies" / "stray").write_bytes(b"?")

    # When the edge starts again and recovers
    store = EdgeStore(tmp_path / "edge", max_bytes=10_000, clock=clock)
    store.recover()

    # Then only whole, indexed bodies remain
    assert bodies(tmp_path) == {kept.body_path.name}
    assert store.lookup("kept") == kept
    assert store.lookup("torn") is None
    assert store.lookup("half") is None
    assert (store.entry_count, store.total_bytes) == (1, 5)
    store.close()
    crashed.close()


def test_recover_spares_bodies_being_written(store: EdgeStore) -> None:
    writer = store.begin("k", "/a")
    writer.write(b"in progress")

    store.recover()

    writer.write(b", done")
    assert writer.commit(200, [], 2_000.0).body_path.read_bytes() == b"in progress, done"


def test_the_index_and_recency_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    first = EdgeStore(tmp_path / "edge", max_bytes=1_000, clock=clock)
    for key in "abc":
        put(first, key, b"x" * 300)
    first.lookup("a")
    first.close()

    again = EdgeStore(tmp_path / "edge", max_bytes=1_000, clock=clock)
    assert (again.entry_count, again.total_bytes) == (3, 900)
    put(again, "d", b"y" * 300)

    assert again.lookup("b") is None
    assert again.lookup("a") is not None
    again.close()


def test_refresh_after_a_304_updates_headers_and_expiry(store: EdgeStore, clock: Clock) -> None:
    put(store, "k", b"body", ttl=60)
    clock.now = 1_100.0

    refreshed = store.refresh(
        "k", [("ETag", '"v1"'), ("Cache-Control", "max-age=300"), ("Content-Length", "0")], 1_400.0
    )

    assert refreshed is not None
    assert refreshed.headers == [
        ("Content-Type", "text/html"),
        ("ETag", '"v1"'),
        ("Cache-Control", "max-age=300"),
    ]
    assert (refreshed.stored_at, refreshed.expires_at, refreshed.size) == (1_100.0, 1_400.0, 4)
    assert store.lookup("k") == refreshed
    assert store.refresh("absent", [], 2_000.0) is None


def test_lookups_stay_cheap(store: EdgeStore) -> None:
    # Given a store with a few hundred entries
    for index in range(300):
        put(store, f"k{index}", b"x")
    keys = [f"k{index % 300}" for index in range(3_000)]

    # When looked up many times
    started = time.perf_counter()
    for key in keys:
        store.lookup(key)
    per_lookup = (time.perf_counter() - started) / len(keys)

    # Then each takes well under a millisecond (about 10-20 µs on a laptop)
    assert per_lookup < 200e-6


def test_a_fill_begun_after_an_invalidation_of_its_path_commits_as_expired(
    store: EdgeStore, clock: Clock
) -> None:
    # Given a fill that asked the origin before an invalidation, and one that asked after
    before = store.invalidation_mark()
    store.invalidate("/news*")
    after = store.invalidation_mark()
    stale = store.begin("k1", "/news.html", since=before)
    current = store.begin("k2", "/news.html", since=after)
    other = store.begin("k3", "/sport.html", since=before)
    for writer in (stale, current, other):
        writer.write(b"x")

    # Then only the first commits as already expired
    expiries = [w.commit(200, HTML, 9_999.0).expires_at for w in (stale, current, other)]
    assert expiries == [clock.now, 9_999.0, 9_999.0]


def test_a_mark_older_than_the_invalidations_remembered_counts_as_invalidated(
    store: EdgeStore, clock: Clock
) -> None:
    mark = store.invalidation_mark()
    for n in range(1100):
        store.invalidate(f"/other/{n}")
    writer = store.begin("k", "/news.html", since=mark)
    writer.write(b"x")
    assert writer.commit(200, HTML, 9_999.0).expires_at == clock.now
