"""The identity pools' SQLite file: pool ids, identities and the token signing key.

- A pool id is created the first time a pool is registered and read back on later
  starts, so clients configured with it keep working across restarts.
- An identity id is created on the first ``GetId`` for a (pool, provider, subject)
  and is the same for that user ever after, as Cognito's (the identity is what the
  user's folder in a bucket is named after).
- One RSA key signs every pool's OpenID tokens (Cognito Identity signs with keys of
  its own, not the user pool's); it is kept so tokens survive a restart.

One connection is shared between threads behind a lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identity_pools (
    service TEXT NOT NULL, name TEXT NOT NULL, pool_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (service, name));
CREATE TABLE IF NOT EXISTS identities (
    identity_id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, provider TEXT NOT NULL,
    subject TEXT NOT NULL, created_at REAL NOT NULL, UNIQUE (pool_id, provider, subject));
CREATE TABLE IF NOT EXISTS signing_keys (name TEXT PRIMARY KEY, private_jwk TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Identity:
    """An identity of a pool and the one login it belongs to."""

    identity_id: str
    pool_id: str
    provider: str
    subject: str


class IdentityStore:
    """Persistence for every identity pool of the local cloud, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _insert_then_select(
        self, insert: str, values: tuple[object, ...], select: str, key: tuple[object, ...]
    ) -> sqlite3.Row:
        """``INSERT OR IGNORE`` then read the row back, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(insert, values)
                row: sqlite3.Row = self._db.execute(select, key).fetchone()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return row

    def pool_id(self, service: str, name: str, new_id: Callable[[], str]) -> str:
        """The id of identity pool ``name`` of ``service``, made with ``new_id`` once."""
        row = self._insert_then_select(
            "INSERT OR IGNORE INTO identity_pools VALUES (?, ?, ?)",
            (service, name, new_id()),
            "SELECT pool_id FROM identity_pools WHERE service = ? AND name = ?",
            (service, name),
        )
        return str(row["pool_id"])

    def identity_id(
        self, pool_id: str, provider: str, subject: str, new_id: Callable[[], str], now: datetime
    ) -> str:
        """The identity of ``subject`` at ``provider`` in a pool, created the first time."""
        row = self._insert_then_select(
            "INSERT OR IGNORE INTO identities VALUES (?, ?, ?, ?, ?)",
            (new_id(), pool_id, provider, subject, now.timestamp()),
            "SELECT identity_id FROM identities WHERE pool_id = ? AND provider = ? AND subject = ?",
            (pool_id, provider, subject),
        )
        return str(row["identity_id"])

    def identity(self, identity_id: str) -> Identity | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM identities WHERE identity_id = ?", (identity_id,)
            ).fetchone()
        if row is None:
            return None
        return Identity(row["identity_id"], row["pool_id"], row["provider"], row["subject"])

    def signing_key(self, name: str, new_key: Callable[[], str]) -> str:
        """The private JWK named ``name``, made with ``new_key`` the first time."""
        with self._lock:
            row = self._db.execute(
                "SELECT private_jwk FROM signing_keys WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            row = self._insert_then_select(
                "INSERT OR IGNORE INTO signing_keys VALUES (?, ?)",
                (name, new_key()),
                "SELECT private_jwk FROM signing_keys WHERE name = ?",
                (name,),
            )
        return str(row["private_jwk"])
