"""Publishing releases and reading the manifest, on a temporary directory."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from overcast.apps.updates.releases import (
    DEMO_SIZE,
    DEMO_VERSION,
    Manifest,
    ReleaseError,
    ReleaseStore,
    parse_size,
)

RELEASED = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


def store_at(root: Path) -> ReleaseStore:
    return ReleaseStore(root, clock=lambda: RELEASED)


def test_published_release_is_the_latest_and_its_manifest_describes_the_file(
    tmp_path: Path,
) -> None:
    store = store_at(tmp_path)

    store.publish("2.0.0", 300_000, seed=7)

    latest = store.latest()
    assert latest is not None
    assert (latest.version, latest.released_at) == ("2.0.0", "2026-11-26T12:30:00Z")
    [entry] = latest.files
    assert entry.url == "/releases/2.0.0/update-2.0.0.bin"
    body = (tmp_path / "releases" / "2.0.0" / entry.name).read_bytes()
    assert entry.size == len(body) == 300_000
    assert entry.sha256 == hashlib.sha256(body).hexdigest()


def test_manifest_on_disk_is_plain_json_with_the_documented_fields(tmp_path: Path) -> None:
    store_at(tmp_path).publish("1.2.3", 10)

    document = json.loads((tmp_path / "latest.json").read_text())

    assert set(document) == {"version", "released_at", "files"}
    assert set(document["files"][0]) == {"name", "url", "size", "sha256"}


def test_same_seed_gives_the_same_bytes_so_runs_compare(tmp_path: Path) -> None:
    first = store_at(tmp_path / "a").publish("1.0.0", 3 * 2**20 + 5, seed=1)
    again = store_at(tmp_path / "b").publish("1.0.0", 3 * 2**20 + 5, seed=1)
    other = store_at(tmp_path / "c").publish("1.0.0", 3 * 2**20 + 5, seed=2)

    assert first.files[0].sha256 == again.files[0].sha256
    assert first.files[0].sha256 != other.files[0].sha256


def test_a_version_is_published_once_because_releases_never_change(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    original = store.publish("1.0.0", 1000, seed=1)

    with pytest.raises(ReleaseError, match="already published"):
        store.publish("1.0.0", 2000, seed=2)

    assert store.release("1.0.0") == original
    assert store.latest() == original


def test_newer_release_becomes_latest_and_the_older_one_stays_readable(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    older = store.publish("1.0.0", 100)

    newer = store.publish("1.1.0", 200)

    assert store.latest() == newer
    assert store.release("1.0.0") == older
    assert store.file_path("1.0.0", "update-1.0.0.bin") is not None


@pytest.mark.parametrize("version", ["../evil", ".hidden", "a/b", "", "..", "x" * 200])
def test_unsafe_version_names_are_refused_and_nothing_is_written(
    tmp_path: Path, version: str
) -> None:
    store = store_at(tmp_path)

    with pytest.raises(ReleaseError, match="not allowed"):
        store.publish(version, 10)

    assert store.latest() is None


def test_a_failed_publish_leaves_no_release_and_keeps_the_previous_latest(
    tmp_path: Path,
) -> None:
    good = store_at(tmp_path).publish("1.0.0", 10)

    def broken_clock() -> datetime:
        raise OSError("clock unavailable")

    with pytest.raises(OSError, match="clock"):
        ReleaseStore(tmp_path, clock=broken_clock).publish("2.0.0", 10)

    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["1.0.0"]
    assert store_at(tmp_path).latest() == good


def test_no_staging_or_temporary_files_remain_after_publishing(tmp_path: Path) -> None:
    store_at(tmp_path).publish("1.0.0", 10)

    hidden = list(tmp_path.rglob(".*"))

    assert hidden == []


def test_demo_release_is_published_only_into_an_empty_root(tmp_path: Path) -> None:
    store = store_at(tmp_path / "root")

    demo = store.ensure_demo()
    second = store.ensure_demo()

    assert demo is not None
    assert (demo.version, demo.files[0].size) == (DEMO_VERSION, DEMO_SIZE)
    assert second is None


def test_file_lookup_refuses_traversal_and_links_out_of_the_releases(tmp_path: Path) -> None:
    store = store_at(tmp_path / "root")
    store.publish("1.0.0", 10)
    (tmp_path / "secret").write_text("secret")
    (tmp_path / "root" / "releases" / "1.0.0" / "link").symlink_to(tmp_path / "secret")

    assert store.file_path("1.0.0", "update-1.0.0.bin") is not None
    assert store.file_path("..", "secret") is None
    assert store.file_path("1.0.0", "../../../secret") is None
    assert store.file_path("1.0.0", "link") is None
    assert store.file_path("1.0.0", "missing.bin") is None


def test_a_malformed_manifest_is_reported_as_a_release_error() -> None:
    with pytest.raises(ReleaseError, match="malformed"):
        Manifest.from_json(b'{"version": "1", "released_at": "x", "files": [{"size": -1}]}')


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("100MiB", 100 * 2**20),
        ("8 mib", 8 * 2**20),
        ("1GiB", 2**30),
        ("5MB", 5_000_000),
        ("123", 123),
    ],
)
def test_sizes_are_read_with_binary_and_decimal_units(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_a_size_without_a_number_is_refused() -> None:
    with pytest.raises(ReleaseError, match="not a size"):
        parse_size("big")
