"""The edge's disk cache for one distribution: an SQLite index and one file per body.

Layout: ``root/index.sqlite3`` (WAL) indexes the entries; ``root/bodies/<random hex>``
holds each body. A body is written under its final name (viewers may read it while a
fill writes it) and indexed only once complete, with its size: an entry whose file is
missing or of another size is a miss and is dropped, so a crash may lose entries but a
torn body is never served. ``recover()`` deletes body files the index does not know.

Bodies never pass through memory here. When an entry is replaced, evicted or
invalidated its file is unlinked at once: a viewer that already opened it keeps reading
it (POSIX). Eviction mirrors "CloudFront might evict the file ... to make room for
files that have been requested more recently" (Expiration).

The index is also held in memory (an ordered map loaded at start, least recently used
first); SQLite is where it persists. A lookup is a map lookup, one ``stat`` and a use
mark; the marks reach SQLite in batches and on ``close()`` (after a crash the order of
use may be a little out of date, nothing worse). Eviction is least-recently-used under
``max_bytes``, and never drops the entry just committed. Invalidations scan the map with
:func:`.paths.invalidation_matches`, so they match exactly as that function says.

A fill that began before an invalidation covering its path still commits (its viewers
read its file) but as already expired, so the next request goes back to the origin.
"Began" is when the fill asked the origin, not when its body started: the fill takes
:meth:`EdgeStore.invalidation_mark` then and passes it to :meth:`EdgeStore.begin`, which
looks up the invalidations since. The last 1024 are remembered; a mark older than
that counts as invalidated (the safe side: one more origin request).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import orjson

from overcast.local.cdn.model import Headers
from overcast.local.cdn.paths import invalidation_matches

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers BLOB NOT NULL,
    stored_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    size INTEGER NOT NULL,
    body TEXT NOT NULL,
    used INTEGER NOT NULL
);
DROP INDEX IF EXISTS entries_by_use;
CREATE INDEX IF NOT EXISTS entries_by_path ON entries (path);
"""
_COLUMNS = "key, path, status, headers, stored_at, expires_at, size, body"
# Lookups remembered before their order of use is written to the index.
_TOUCH_BATCH = 1024
# Invalidations remembered for fills that began before them.
_INVALIDATIONS_KEPT = 1024
# Fields a 304 does not update in a stored response (RFC 9111 §3.2, §4.3.4).
_KEPT_ON_REFRESH = frozenset(
    {
        "content-length",
        "content-encoding",
        "content-range",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
    }
)


@dataclass(frozen=True)
class Entry:
    """One stored response: its status, headers and body file."""

    key: str
    path: str
    status: int
    headers: Headers
    stored_at: float
    expires_at: float
    size: int
    body_path: Path

    def age(self, now: float) -> int:
        """Whole seconds since it was stored or revalidated (the ``Age`` header)."""
        return max(0, int(now - self.stored_at))

    def fresh(self, now: float) -> bool:
        """Whether it may still be served without asking the origin."""
        return now < self.expires_at


class BodyWriter:
    """A body being written to its file; ``commit`` indexes it, ``abort`` drops it."""

    def __init__(self, store: EdgeStore, key: str, path: str, body_path: Path) -> None:
        self.key = key
        self.path = path
        self.body_path = body_path
        self.written = 0
        self.invalidated = False
        self._store = store
        self._fd: int | None = os.open(body_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

    def write(self, data: bytes) -> None:
        """Append ``data``; once this returns, readers of the file can see it."""
        if self._fd is None:
            raise ValueError("This body was already committed or aborted.")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self.written += len(data)

    def commit(self, status: int, headers: Headers, expires_at: float) -> Entry:
        """Index the complete body (replacing any older entry for its key)."""
        self._close()
        return self._store._commit(self, status, headers, expires_at)

    def abort(self) -> None:
        """Drop the partial body; nothing is indexed."""
        if self._fd is not None:
            self._close()
            self._store._abandon(self)

    def _close(self) -> None:
        if self._fd is None:
            raise ValueError("This body was already committed or aborted.")
        os.close(self._fd)
        self._fd = None


class EdgeStore:
    """The disk cache of one distribution's edge (see the module docstring)."""

    def __init__(
        self, root: Path, *, max_bytes: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._bodies = root / "bodies"
        self._bodies.mkdir(parents=True, exist_ok=True)
        self._max_bytes = max_bytes
        self._clock = clock
        self._db = sqlite3.connect(root / "index.sqlite3", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._writers: dict[str, BodyWriter] = {}
        # Every entry, least recently used first; and use marks not yet in the index.
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._touches: dict[str, int] = {}
        self._tick = 0
        self._total = 0
        self._invalidations: deque[tuple[int, str]] = deque(maxlen=_INVALIDATIONS_KEPT)
        self._mark = 0
        self._load()

    @property
    def total_bytes(self) -> int:
        """Bytes of all indexed bodies."""
        return self._total

    @property
    def entry_count(self) -> int:
        """Number of indexed entries."""
        return len(self._entries)

    def lookup(self, key: str) -> Entry | None:
        """The entry for ``key``, fresh or stale, marked used; None if absent or broken."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if not _intact(entry):
            self._drop([entry])
            return None
        self._touch(key)
        return entry

    def begin(self, key: str, path: str, *, since: int | None = None) -> BodyWriter:
        """Start writing a body for ``key`` (a request for ``path``). With ``since`` (an
        :meth:`invalidation_mark`), an invalidation of ``path`` after that mark makes
        the body commit as already expired."""
        writer = BodyWriter(self, key, path, self._bodies / secrets.token_hex(16))
        writer.invalidated = since is not None and self._invalidated_since(since, path)
        self._writers[writer.body_path.name] = writer
        return writer

    def invalidation_mark(self) -> int:
        """A mark of the invalidations so far, for :meth:`begin`'s ``since``."""
        return self._mark

    def _invalidated_since(self, mark: int, path: str) -> bool:
        if self._invalidations and mark < self._invalidations[0][0] - 1:
            return True  # some of those since the mark are forgotten: assume the worst
        return any(
            seq > mark and invalidation_matches(invalidation, path)
            for seq, invalidation in self._invalidations
        )

    def refresh(self, key: str, headers: Headers, expires_at: float) -> Entry | None:
        """After an origin 304: update the stored headers with ``headers`` and the expiry."""
        entry = self.lookup(key)
        if entry is None:
            return None
        merged = _merge_headers(entry.headers, headers)
        entry = replace(entry, headers=merged, stored_at=self._clock(), expires_at=expires_at)
        self._db.execute(
            "UPDATE entries SET headers = ?, stored_at = ?, expires_at = ? WHERE key = ?",
            (orjson.dumps(merged), entry.stored_at, expires_at, key),
        )
        self._entries[key] = entry
        return entry

    def invalidate(self, invalidation_path: str) -> int:
        """Drop every entry the invalidation path covers; the number dropped."""
        doomed = [
            entry
            for entry in self._entries.values()
            if invalidation_matches(invalidation_path, entry.path)
        ]
        self._drop(doomed)
        self._mark += 1
        self._invalidations.append((self._mark, invalidation_path))
        for writer in self._writers.values():
            if invalidation_matches(invalidation_path, writer.path):
                writer.invalidated = True
        return len(doomed)

    def recover(self) -> None:
        """Drop entries whose body is missing or torn, and body files nobody indexed."""
        self._drop([entry for entry in self._entries.values() if not _intact(entry)])
        known = {entry.body_path.name for entry in self._entries.values()}
        for name in os.listdir(self._bodies):
            if name not in known and name not in self._writers:
                _unlink(self._bodies / name)

    def close(self) -> None:
        """Write pending use marks and close the index."""
        self._flush_touches()
        self._db.close()

    def _commit(
        self, writer: BodyWriter, status: int, headers: Headers, expires_at: float
    ) -> Entry:
        self._writers.pop(writer.body_path.name, None)
        now = self._clock()
        if writer.invalidated:
            expires_at = min(expires_at, now)
        entry = Entry(
            writer.key,
            writer.path,
            status,
            list(headers),
            now,
            expires_at,
            writer.written,
            writer.body_path,
        )
        old = self._entries.get(entry.key)
        self._drop([old] if old is not None else [])
        self._tick += 1
        self._db.execute(
            "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.key,
                entry.path,
                status,
                orjson.dumps(entry.headers),
                now,
                expires_at,
                entry.size,
                entry.body_path.name,
                self._tick,
            ),
        )
        self._entries[entry.key] = entry
        self._total += entry.size
        self._evict(keep=entry.key)
        return entry

    def _abandon(self, writer: BodyWriter) -> None:
        self._writers.pop(writer.body_path.name, None)
        _unlink(writer.body_path)

    def _evict(self, keep: str) -> None:
        excess = self._total - self._max_bytes
        victims: list[Entry] = []
        for entry in self._entries.values():
            if excess <= 0:
                break
            if entry.key != keep:
                victims.append(entry)
                excess -= entry.size
        self._drop(victims)

    def _drop(self, entries: Iterable[Entry]) -> None:
        entries = list(entries)
        if not entries:
            return
        with self._transaction():
            self._db.executemany(
                "DELETE FROM entries WHERE key = ?", [(entry.key,) for entry in entries]
            )
        for entry in entries:
            _unlink(entry.body_path)
            self._touches.pop(entry.key, None)
            if self._entries.pop(entry.key, None) is not None:
                self._total -= entry.size

    def _touch(self, key: str) -> None:
        self._entries.move_to_end(key)
        self._tick += 1
        self._touches[key] = self._tick
        if len(self._touches) >= _TOUCH_BATCH:
            self._flush_touches()

    def _flush_touches(self) -> None:
        if not self._touches:
            return
        with self._transaction():
            self._db.executemany(
                "UPDATE entries SET used = ? WHERE key = ?",
                [(used, key) for key, used in self._touches.items()],
            )
        self._touches.clear()

    def _load(self) -> None:
        rows = self._db.execute(f"SELECT {_COLUMNS}, used FROM entries ORDER BY used")
        for row in rows:
            entry = self._entry(row[:-1])
            self._entries[entry.key] = entry
            self._total += entry.size
            self._tick = max(self._tick, row[-1])

    def _entry(self, row: tuple[str, str, int, bytes, float, float, int, str]) -> Entry:
        key, path, status, headers, stored_at, expires_at, size, body = row
        pairs = [(name, value) for name, value in orjson.loads(headers)]
        return Entry(key, path, status, pairs, stored_at, expires_at, size, self._bodies / body)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _intact(entry: Entry) -> bool:
    try:
        return os.stat(entry.body_path).st_size == entry.size
    except OSError:
        return False


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def _merge_headers(stored: Headers, fresh: Headers) -> Headers:
    replaced = {name.lower() for name, _ in fresh} - _KEPT_ON_REFRESH
    kept = [(name, value) for name, value in stored if name.lower() not in replaced]
    return kept + [(name, value) for name, value in fresh if name.lower() in replaced]
