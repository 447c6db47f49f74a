"""The user pools' SQLite file: ids, signing keys, users, codes, sessions, challenges.

One file (WAL) holds every pool. Pool and client ids, signing keys and pool
secrets are created once and read back on later starts, so ids and tokens
survive restarts. Passwords, codes, refresh tokens and sessions are stored only
as hashes; a password's SRP verifier sits beside its hash in the user's row (it
is as sensitive: never logged, never returned), and a pending SRP challenge
keeps the key its handshake derived until it is answered or expires. Deleting a
user deletes their codes, sessions and challenges with them (foreign keys, ``ON
DELETE CASCADE``). One connection is shared between threads behind a lock; every
write is its own short transaction.

Operations run in worker threads and overlap, so no write puts back a row read
earlier: a user is changed by :meth:`UserPoolStore.update_user`, which reads
and writes the row in one transaction; a code's attempt is reserved by a
conditional ``UPDATE`` and the code spent by a conditional ``DELETE``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from overcast.local.identity import rows
from overcast.local.identity.records import (
    Challenge,
    CodePurpose,
    RefreshSession,
    SrpChallenge,
    StoredCode,
    User,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pools (
    service TEXT NOT NULL, name TEXT NOT NULL, pool_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (service, name));
CREATE TABLE IF NOT EXISTS clients (
    pool_id TEXT NOT NULL, name TEXT NOT NULL, client_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (pool_id, name));
CREATE TABLE IF NOT EXISTS signing_keys (pool_id TEXT PRIMARY KEY, private_jwk TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    pool_id TEXT NOT NULL, sub TEXT NOT NULL, email TEXT NOT NULL, email_key TEXT NOT NULL,
    status TEXT NOT NULL, email_verified INTEGER NOT NULL, password_hash TEXT NOT NULL,
    created_at REAL NOT NULL, modified_at REAL NOT NULL, attributes TEXT NOT NULL,
    password_expires_at REAL, failed_sign_ins INTEGER NOT NULL,
    last_failed_at REAL, locked_until REAL, srp_verifier TEXT,
    PRIMARY KEY (pool_id, sub), UNIQUE (pool_id, email_key));
CREATE TABLE IF NOT EXISTS codes (
    pool_id TEXT NOT NULL, sub TEXT NOT NULL, purpose TEXT NOT NULL, code_hash TEXT NOT NULL,
    expires_at REAL NOT NULL, failed_attempts INTEGER NOT NULL,
    PRIMARY KEY (pool_id, sub, purpose),
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS sessions (
    origin_jti TEXT PRIMARY KEY, pool_id TEXT NOT NULL, sub TEXT NOT NULL,
    client_id TEXT NOT NULL, refresh_hash TEXT NOT NULL UNIQUE, auth_time REAL NOT NULL,
    expires_at REAL NOT NULL, revoked INTEGER NOT NULL,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS challenges (
    session_hash TEXT PRIMARY KEY, pool_id TEXT NOT NULL, sub TEXT NOT NULL,
    client_id TEXT NOT NULL, expires_at REAL NOT NULL,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS srp_challenges (
    block_hash TEXT PRIMARY KEY, pool_id TEXT NOT NULL, sub TEXT NOT NULL,
    client_id TEXT NOT NULL, session_key TEXT NOT NULL, expires_at REAL NOT NULL,
    verifier_hash TEXT NOT NULL,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS pool_secrets (pool_id TEXT PRIMARY KEY, secret TEXT NOT NULL);
"""
# Files written before the pools spoke SRP have no verifier column yet.
_ADD_VERIFIER = "ALTER TABLE users ADD COLUMN srp_verifier TEXT"


class DuplicateUser(Exception):
    """A user with this email address (or sub) is already in the pool."""


class UserPoolStore:
    """Persistence for every user pool of the local cloud, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(users)")}
            if "srp_verifier" not in columns:
                self._db.execute(_ADD_VERIFIER)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    # Ids and keys: created once, then read back.

    def pool_id(self, service: str, name: str, new_id: Callable[[], str]) -> str:
        """The id of pool ``name`` of ``service``, made with ``new_id`` the first time."""
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO pools VALUES (?, ?, ?)", (service, name, new_id()))
            row = db.execute(
                "SELECT pool_id FROM pools WHERE service = ? AND name = ?", (service, name)
            ).fetchone()
        return str(row["pool_id"])

    def client_id(self, pool_id: str, name: str, new_id: Callable[[], str]) -> str:
        """The id of app client ``name`` of a pool, made with ``new_id`` the first time."""
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO clients VALUES (?, ?, ?)", (pool_id, name, new_id()))
            row = db.execute(
                "SELECT client_id FROM clients WHERE pool_id = ? AND name = ?", (pool_id, name)
            ).fetchone()
        return str(row["client_id"])

    def signing_key(self, pool_id: str, new_key: Callable[[], str]) -> str:
        """A pool's private signing key (a JWK in JSON), made with ``new_key`` once."""
        row = self._one("SELECT private_jwk FROM signing_keys WHERE pool_id = ?", pool_id)
        if row is None:
            with self._write() as db:
                db.execute("INSERT OR IGNORE INTO signing_keys VALUES (?, ?)", (pool_id, new_key()))
                row = db.execute(
                    "SELECT private_jwk FROM signing_keys WHERE pool_id = ?", (pool_id,)
                ).fetchone()
        return str(row["private_jwk"])

    def pool_secret(self, pool_id: str, new_secret: Callable[[], str]) -> str:
        """A pool's own secret (for stand-in SRP answers), made with ``new_secret`` once."""
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO pool_secrets VALUES (?, ?)", (pool_id, new_secret()))
            row = db.execute(
                "SELECT secret FROM pool_secrets WHERE pool_id = ?", (pool_id,)
            ).fetchone()
        return str(row["secret"])

    # Users.

    def add_user(self, user: User) -> None:
        """Insert ``user``; :class:`DuplicateUser` if the email or sub is taken."""
        try:
            with self._write() as db:
                db.execute(rows.INSERT_USER, rows.user_row(user))
        except sqlite3.IntegrityError as error:
            raise DuplicateUser(user.email) from error

    def update_user(self, pool_id: str, sub: str, change: Callable[[User], User]) -> User | None:
        """Apply ``change`` to the stored user and return the result; ``None`` if gone.

        ``change`` gets the row as it is inside the write transaction, so no other
        write comes between its read and its write. Keep it quick (no hashing); an
        exception from it changes nothing.
        """
        with self._write() as db:
            row = db.execute(
                "SELECT * FROM users WHERE pool_id = ? AND sub = ?", (pool_id, sub)
            ).fetchone()
            if row is None:
                return None
            changed = change(rows.user(row))
            db.execute(rows.UPDATE_USER, (*rows.user_row(changed)[2:], pool_id, sub))
        return changed

    def user_by_email(self, pool_id: str, email: str) -> User | None:
        """The user whose email matches ``email`` case-insensitively."""
        row = self._one(
            "SELECT * FROM users WHERE pool_id = ? AND email_key = ?", pool_id, email.lower()
        )
        return None if row is None else rows.user(row)

    def user_by_sub(self, pool_id: str, sub: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE pool_id = ? AND sub = ?", pool_id, sub)
        return None if row is None else rows.user(row)

    def delete_user(self, pool_id: str, sub: str) -> None:
        """Delete a user, with their codes, sessions and challenges."""
        with self._write() as db:
            db.execute("DELETE FROM users WHERE pool_id = ? AND sub = ?", (pool_id, sub))

    # Confirmation codes.

    def put_code(self, code: StoredCode) -> None:
        """Store ``code``, replacing any earlier code for the same purpose."""
        with self._write() as db:
            db.execute(
                "REPLACE INTO codes VALUES (?, ?, ?, ?, ?, ?)",
                (
                    code.pool_id,
                    code.sub,
                    code.purpose.value,
                    code.code_hash,
                    rows.epoch(code.expires_at),
                    code.failed_attempts,
                ),
            )

    def code(self, pool_id: str, sub: str, purpose: CodePurpose) -> StoredCode | None:
        row = self._one(
            "SELECT * FROM codes WHERE pool_id = ? AND sub = ? AND purpose = ?",
            pool_id,
            sub,
            purpose.value,
        )
        if row is None:
            return None
        return StoredCode(
            pool_id=pool_id,
            sub=sub,
            purpose=purpose,
            code_hash=row["code_hash"],
            expires_at=rows.required_moment(row["expires_at"]),
            failed_attempts=row["failed_attempts"],
        )

    def reserve_code_attempt(
        self, pool_id: str, sub: str, purpose: CodePurpose, now: datetime, limit: int
    ) -> str | None:
        """Count one attempt at a live code with fewer than ``limit``; its hash, else ``None``."""
        with self._write() as db:
            reserved = db.execute(
                "UPDATE codes SET failed_attempts = failed_attempts + 1 "
                "WHERE pool_id = ? AND sub = ? AND purpose = ? "
                "AND expires_at > ? AND failed_attempts < ? RETURNING code_hash",
                (pool_id, sub, purpose.value, rows.epoch(now), limit),
            ).fetchall()
        return str(reserved[0]["code_hash"]) if reserved else None

    def spend_code(self, pool_id: str, sub: str, purpose: CodePurpose, code_hash: str) -> bool:
        """Delete the code with ``code_hash``; ``False`` if it was already spent or replaced."""
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM codes WHERE pool_id = ? AND sub = ? AND purpose = ? AND code_hash = ?",
                (pool_id, sub, purpose.value, code_hash),
            )
        return cursor.rowcount == 1

    def delete_code(self, pool_id: str, sub: str, purpose: CodePurpose) -> None:
        with self._write() as db:
            db.execute(
                "DELETE FROM codes WHERE pool_id = ? AND sub = ? AND purpose = ?",
                (pool_id, sub, purpose.value),
            )

    # Refresh sessions.

    def add_session(self, session: RefreshSession) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.origin_jti,
                    session.pool_id,
                    session.sub,
                    session.client_id,
                    session.refresh_hash,
                    rows.epoch(session.auth_time),
                    rows.epoch(session.expires_at),
                    int(session.revoked),
                ),
            )

    def session_by_refresh_hash(self, refresh_hash: str) -> RefreshSession | None:
        row = self._one("SELECT * FROM sessions WHERE refresh_hash = ?", refresh_hash)
        return None if row is None else rows.session(row)

    def session(self, origin_jti: str) -> RefreshSession | None:
        row = self._one("SELECT * FROM sessions WHERE origin_jti = ?", origin_jti)
        return None if row is None else rows.session(row)

    def revoke_sessions(self, pool_id: str, sub: str) -> None:
        """Revoke every refresh session of a user (their tokens then stop working)."""
        with self._write() as db:
            db.execute(
                "UPDATE sessions SET revoked = 1 WHERE pool_id = ? AND sub = ?", (pool_id, sub)
            )

    # Challenges.

    def add_challenge(self, session_hash: str, challenge: Challenge) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO challenges VALUES (?, ?, ?, ?, ?)",
                (
                    session_hash,
                    challenge.pool_id,
                    challenge.sub,
                    challenge.client_id,
                    rows.epoch(challenge.expires_at),
                ),
            )

    def challenge(self, session_hash: str) -> Challenge | None:
        row = self._one("SELECT * FROM challenges WHERE session_hash = ?", session_hash)
        return None if row is None else rows.challenge(row)

    def delete_challenge(self, session_hash: str) -> bool:
        """Remove a challenge; ``False`` if it was already gone (used by someone else)."""
        with self._write() as db:
            cursor = db.execute("DELETE FROM challenges WHERE session_hash = ?", (session_hash,))
        return cursor.rowcount == 1

    # SRP challenges (PASSWORD_VERIFIER).

    def add_srp_challenge(self, block_hash: str, pending: SrpChallenge, now: datetime) -> None:
        """Keep ``pending`` under its secret block's hash; drop those expired by ``now``."""
        with self._write() as db:
            db.execute("DELETE FROM srp_challenges WHERE expires_at <= ?", (rows.epoch(now),))
            db.execute(
                "INSERT INTO srp_challenges VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows.srp_challenge_row(block_hash, pending),
            )

    def take_srp_challenge(self, block_hash: str) -> SrpChallenge | None:
        """Remove and return a challenge: only one answer is ever checked against it."""
        with self._write() as db:
            taken = db.execute(
                "DELETE FROM srp_challenges WHERE block_hash = ? RETURNING *", (block_hash,)
            ).fetchall()
        return rows.srp_challenge(taken[0]) if taken else None
