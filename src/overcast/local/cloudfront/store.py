"""Invalidations, kept in SQLite (``<data dir>/cloudfront/invalidations.sqlite3``).

CloudFront keeps a distribution's invalidation batches (ListInvalidations lists them,
most recent first) and answers a repeated ``CallerReference`` with the batch it
already made. One row per batch; ``(distribution, caller reference)`` is unique, so
two requests racing with one reference leave one batch, and both see it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invalidations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, distribution_id TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE, caller_reference TEXT NOT NULL, paths TEXT NOT NULL,
    create_time REAL NOT NULL, status TEXT NOT NULL,
    UNIQUE (distribution_id, caller_reference));
"""
_COLUMNS = "seq, distribution_id, id, caller_reference, paths, create_time, status"


@dataclass(frozen=True)
class Invalidation:
    """One invalidation batch, as CloudFront describes it."""

    id: str
    distribution_id: str
    caller_reference: str
    paths: tuple[str, ...]
    create_time: datetime
    status: str = "Completed"


def _invalidation(row: sqlite3.Row) -> Invalidation:
    return Invalidation(
        id=row["id"],
        distribution_id=row["distribution_id"],
        caller_reference=row["caller_reference"],
        paths=tuple(json.loads(row["paths"])),
        create_time=datetime.fromtimestamp(row["create_time"], UTC),
        status=row["status"],
    )


@dataclass(frozen=True)
class Page:
    """One page of a distribution's invalidations, most recent first."""

    items: list[Invalidation]
    next_marker: str | None  # the id to pass as Marker for the next page; None: last page


class InvalidationStore:
    """The invalidation batches of every distribution; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def by_reference(self, distribution_id: str, caller_reference: str) -> Invalidation | None:
        """The batch made earlier with this ``CallerReference``, if any."""
        return self._one(
            "distribution_id = ? AND caller_reference = ?", (distribution_id, caller_reference)
        )

    def get(self, distribution_id: str, invalidation_id: str) -> Invalidation | None:
        return self._one("distribution_id = ? AND id = ?", (distribution_id, invalidation_id))

    def add(self, invalidation: Invalidation) -> Invalidation:
        """Keep ``invalidation``; if its reference was taken meanwhile, the batch kept first."""
        row = (
            invalidation.distribution_id,
            invalidation.id,
            invalidation.caller_reference,
            json.dumps(list(invalidation.paths)),
            invalidation.create_time.timestamp(),
            invalidation.status,
        )
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO invalidations (distribution_id, id, caller_reference, paths, "
                "create_time, status) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (distribution_id, caller_reference) DO NOTHING",
                row,
            )
        if cursor.rowcount == 1:
            return invalidation
        kept = self.by_reference(invalidation.distribution_id, invalidation.caller_reference)
        assert kept is not None  # rows are never deleted
        return kept

    def page(self, distribution_id: str, marker: str | None, max_items: int) -> Page:
        """Up to ``max_items`` batches after ``marker`` (an id), most recent first."""
        after = float("inf")
        if marker:
            found = self._row("distribution_id = ? AND id = ?", (distribution_id, marker))
            after = found["seq"] if found is not None else -1
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM invalidations WHERE distribution_id = ? AND seq < ? "
                "ORDER BY seq DESC LIMIT ?",
                (distribution_id, after, max_items + 1),
            ).fetchall()
        items = [_invalidation(row) for row in rows[:max_items]]
        more = len(rows) > max_items
        return Page(items, items[-1].id if more and items else None)

    def count(self, distribution_id: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM invalidations WHERE distribution_id = ?", (distribution_id,)
            ).fetchone()
        return int(row[0])

    def _one(self, where: str, parameters: Sequence[object]) -> Invalidation | None:
        row = self._row(where, parameters)
        return None if row is None else _invalidation(row)

    def _row(self, where: str, parameters: Sequence[object]) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(
                f"SELECT {_COLUMNS} FROM invalidations WHERE {where}", tuple(parameters)
            ).fetchone()
        return row
