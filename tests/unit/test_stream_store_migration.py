"""A stream store of the first version (INTEGER sequences) is brought up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from overcast.local.streams.store import StreamStore

LEGACY = (
    "CREATE TABLE checkpoints (trigger TEXT PRIMARY KEY, sequence INTEGER NOT NULL)",
    "CREATE TABLE failures (id TEXT PRIMARY KEY, created REAL NOT NULL,"
    " trigger TEXT NOT NULL, function TEXT NOT NULL, reason TEXT NOT NULL,"
    " attempts INTEGER NOT NULL, first_sequence INTEGER NOT NULL,"
    " last_sequence INTEGER NOT NULL, records TEXT NOT NULL,"
    " redrive INTEGER NOT NULL DEFAULT 0)",
    "INSERT INTO checkpoints VALUES ('blog->welcome', 42)",
    "INSERT INTO failures VALUES ('f1', 1.0, 'blog->welcome', 'welcome', 'boom', 3, 7, 9, '[]', 1)",
)


def test_an_old_stores_checkpoints_and_failures_survive_the_upgrade(tmp_path: Path) -> None:
    # Given a store written by the first version
    path = tmp_path / "blog.sqlite3"
    with sqlite3.connect(path) as old:
        for statement in LEGACY:
            old.execute(statement)
    old.close()

    # When it is opened now, and a 22-digit checkpoint is saved
    store = StreamStore(path)
    kept = store.checkpoint("blog->welcome")
    (failure,) = store.failures(redrive_only=True)
    store.save_checkpoint("blog->welcome", 1100000000017454423009, stream="arn:s")

    # Then the old values are intact and the long one exact, also after reopening
    assert kept == 42
    assert (failure.id, failure.first_sequence, failure.last_sequence) == ("f1", 7, 9)
    store.close()
    reopened = StreamStore(path)
    assert reopened.checkpoint("blog->welcome") == 1100000000017454423009
    reopened.close()
