"""Releases on disk: publishing one, reading the manifest, finding a release's file.

Layout under the app's root directory::

    latest.json                        the manifest of the newest release
    releases/<version>/release.json    each release's own manifest (its files' hashes)
    releases/<version>/<file>          the release's files: never change once published

Publishing is atomic: a release is written into a hidden staging directory and renamed
into place whole, and only then is ``latest.json`` replaced (write, then rename), so a
reader sees the old release or the new one, never part of one. A version is published
once: releases are immutable, which is what lets a CDN keep them for a year.

Release files are random bytes, deterministic from a seed, the version and the file
name, so that two runs of a benchmark move the same bytes. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST_NAME = "latest.json"
RELEASE_MANIFEST_NAME = "release.json"
RELEASES_DIR = "releases"
DEMO_VERSION = "1.0.0"
DEMO_SIZE = 8 * 2**20
_CHUNK = 2**20
# A version or file name: one path segment of safe characters, never "." or "..".
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


class ReleaseError(Exception):
    """A release cannot be published or read; the message says why and what to do."""


def is_safe_segment(text: str) -> bool:
    """Whether ``text`` can name a version or a file: one segment, no traversal."""
    return _SEGMENT.match(text) is not None


def parse_size(text: str) -> int:
    """``"100MiB"`` → 104857600; plain numbers are bytes; KB/MB/GB are powers of ten."""
    match = _SIZE.match(text)
    if match is None:
        raise ReleaseError(f"Size {text!r} is not a size: write e.g. 8MiB, 100MiB, 1GiB.")
    return int(match[1]) * _UNITS[(match[2] or "b").lower()]


def release_bytes(seed: int, version: str, name: str, size: int) -> Iterator[bytes]:
    """``size`` pseudo-random bytes, the same for the same seed, version and name."""
    generator = random.Random(f"{seed}/{version}/{name}")
    remaining = size
    while remaining > 0:
        chunk = generator.randbytes(min(_CHUNK, remaining))
        remaining -= len(chunk)
        yield chunk


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release, as the manifest lists it (``url`` is a path)."""

    name: str
    url: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What ``latest.json`` (and each ``release.json``) holds."""

    version: str
    released_at: str
    files: tuple[ReleaseFile, ...]

    def to_json(self) -> bytes:
        document = {
            "version": self.version,
            "released_at": self.released_at,
            "files": [vars(file) for file in self.files],
        }
        return (json.dumps(document, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            document = json.loads(data)
            return cls(
                version=_text(document, "version"),
                released_at=_text(document, "released_at"),
                files=tuple(_release_file(entry) for entry in document["files"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ReleaseError(f"The manifest is malformed: {exc}") from exc

    def file(self, name: str) -> ReleaseFile | None:
        return next((file for file in self.files if file.name == name), None)


def _text(document: dict[str, Any], key: str) -> str:
    value = document[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _release_file(entry: dict[str, Any]) -> ReleaseFile:
    size = entry["size"]
    if not isinstance(size, int) or size < 0:
        raise TypeError("size must be a non-negative integer")
    return ReleaseFile(_text(entry, "name"), _text(entry, "url"), size, _text(entry, "sha256"))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ReleaseStore:
    """The releases under ``root``: publish one, read the latest, find a file."""

    def __init__(self, root: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.root = root
        self._clock = clock

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def releases_dir(self) -> Path:
        return self.root / RELEASES_DIR

    def latest(self) -> Manifest | None:
        """The newest release's manifest, or None before the first publish."""
        try:
            return Manifest.from_json(self.manifest_path.read_bytes())
        except FileNotFoundError:
            return None

    def release(self, version: str) -> Manifest | None:
        """A published release's own manifest, or None."""
        if not is_safe_segment(version):
            return None
        try:
            path = self.releases_dir / version / RELEASE_MANIFEST_NAME
            return Manifest.from_json(path.read_bytes())
        except FileNotFoundError:
            return None

    def file_path(self, version: str, name: str) -> Path | None:
        """The file ``name`` of release ``version`` if it exists, refusing any name that
        is not one plain segment or that resolves outside the releases directory."""
        if not (is_safe_segment(version) and is_safe_segment(name)):
            return None
        base = self.releases_dir.resolve()
        path = (base / version / name).resolve()
        if path.parent.parent != base or not path.is_file():
            return None
        return path

    def publish(self, version: str, size: int, *, seed: int = 0, name: str = "") -> Manifest:
        """Write release ``version`` (one file of ``size`` bytes) and make it the latest."""
        name = name or f"update-{version}.bin"
        for kind, text in (("version", version), ("file name", name)):
            if not is_safe_segment(text) or text == RELEASE_MANIFEST_NAME:
                raise ReleaseError(
                    f"The {kind} {text!r} is not allowed: use letters, digits, '.', '_', "
                    "'+' and '-', starting with a letter or digit."
                )
        final = self.releases_dir / version
        if final.exists():
            raise ReleaseError(
                f"Release {version} is already published, and releases never change: "
                "publish a new version instead."
            )
        self.releases_dir.mkdir(parents=True, exist_ok=True)
        # mkdir, not mkdtemp: the release keeps the usual permissions (umask), so that
        # another server (a web server, a backup) can read it as it reads the root.
        staging = self.releases_dir / f".staging-{version}-{secrets.token_hex(8)}"
        staging.mkdir()
        try:
            manifest = self._write_release(staging, version, name, size, seed)
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _write_atomically(self.manifest_path, manifest.to_json())
        return manifest

    def ensure_demo(self) -> Manifest | None:
        """Publish a small demo release if nothing is published yet; the new manifest."""
        if self.latest() is not None:
            return None
        return self.publish(DEMO_VERSION, DEMO_SIZE)

    def _write_release(
        self, directory: Path, version: str, name: str, size: int, seed: int
    ) -> Manifest:
        digest = hashlib.sha256()
        with (directory / name).open("wb") as file:
            for chunk in release_bytes(seed, version, name, size):
                digest.update(chunk)
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        released_at = self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = f"/{RELEASES_DIR}/{version}/{name}"
        manifest = Manifest(
            version, released_at, (ReleaseFile(name, url, size, digest.hexdigest()),)
        )
        (directory / RELEASE_MANIFEST_NAME).write_bytes(manifest.to_json())
        return manifest


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old or the new file, whole."""
    temporary = path.with_name(f".{path.name}-{secrets.token_hex(8)}")
    try:
        with temporary.open("xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
