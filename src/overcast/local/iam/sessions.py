"""Temporary credentials and the sessions they stand for, kept in SQLite.

What this mirrors from STS:

- Temporary credentials are an access key id ``ASIA`` + 16 upper-case letters and
  digits (long-term keys start with ``AKIA``), a 40-character secret access key
  and a session token that must accompany every request signed with them.
- An assumed-role session is the principal
  ``arn:aws:sts::<account>:assumed-role/<role name>/<session name>`` whose user id
  is ``<role unique id>:<session name>`` (``AROA...:<session name>``); its
  permissions are the role's policies. They are resolved when the session is
  looked up, so a role whose policies change applies to sessions already issued,
  as IAM does (role policy changes take effect for existing sessions).
- Issued credentials keep working across a restart of the local cloud until they
  expire, as on AWS: they are written to SQLite before they are handed out.
  Expired sessions are still found by :meth:`SessionStore.lookup` — the caller
  answers ``ExpiredToken`` rather than "unknown key" — until they are purged a
  while after expiry.
- The account's root credentials (long-term, ``AKIA...``) are the principal
  ``arn:aws:iam::<account>:root`` and never expire.

Speed: S3 looks up the session of every request. Sessions are cached in memory
by access key id once read or issued, so a lookup is a dictionary hit; SQLite is
read only for a key this process has not seen yet. Only this process writes the
file, so the cache cannot go stale behind its back. Revocation removes the row
and the cache entry together, under the store's lock.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sqlite3
import string
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from overcast.local.auth.sigv4 import Credentials
from overcast.local.iam.principals import Principal, Session
from overcast.local.iam.roles import Role, Roles

TEMPORARY_KEY_PREFIX = "ASIA"
IDENTITY_KEY = "cognito-identity.amazonaws.com:sub"
PURGE_AFTER = timedelta(days=1)
_PURGE_EVERY = timedelta(hours=1)
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    access_key_id TEXT PRIMARY KEY, secret_access_key TEXT NOT NULL,
    session_token TEXT NOT NULL, role_arn TEXT NOT NULL, role_name TEXT NOT NULL,
    role_id TEXT NOT NULL, session_name TEXT NOT NULL, context TEXT NOT NULL,
    source_identity TEXT, identity_id TEXT, issued_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_identity ON sessions (identity_id);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
"""
_COLUMNS = (
    "access_key_id, secret_access_key, session_token, role_arn, role_name, role_id, "
    "session_name, context, source_identity, identity_id, issued_at, expires_at"
)


@dataclass(frozen=True)
class _Record:
    """A stored session, before the role's policies are attached."""

    credentials: Credentials
    role_arn: str
    role_name: str
    role_id: str
    session_name: str
    context: Mapping[str, str]
    source_identity: str | None
    expires_at: datetime

    def row(self, issued_at: datetime) -> tuple[object, ...]:
        return (
            self.credentials.access_key_id,
            self.credentials.secret_access_key,
            self.credentials.session_token,
            self.role_arn,
            self.role_name,
            self.role_id,
            self.session_name,
            json.dumps(dict(self.context), sort_keys=True),
            self.source_identity,
            self.context.get(IDENTITY_KEY),
            issued_at.timestamp(),
            self.expires_at.timestamp(),
        )


@dataclass(frozen=True)
class _Cached:
    record: _Record
    role: Role | None  # the role object the session's policies were taken from
    session: Session


def _record(row: sqlite3.Row) -> _Record:
    return _Record(
        credentials=Credentials(
            row["access_key_id"], row["secret_access_key"], row["session_token"]
        ),
        role_arn=row["role_arn"],
        role_name=row["role_name"],
        role_id=row["role_id"],
        session_name=row["session_name"],
        context=json.loads(row["context"]),
        source_identity=row["source_identity"],
        expires_at=datetime.fromtimestamp(row["expires_at"], UTC),
    )


def new_temporary_credentials() -> Credentials:
    """A fresh ``ASIA...`` key, a 40-character secret and a long opaque session token."""
    return Credentials(
        access_key_id=TEMPORARY_KEY_PREFIX
        + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
        secret_access_key="".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40)),
        session_token=base64.b64encode(secrets.token_bytes(300)).decode("ascii"),
    )


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only: it holds secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


class SessionStore:
    """Issues temporary sessions for roles and finds the session of an access key."""

    def __init__(
        self,
        path: Path,
        roles: Roles,
        *,
        root: Credentials,
        account_id: str,
        clock: Callable[[], datetime],
        purge_after: timedelta = PURGE_AFTER,
    ) -> None:
        self._roles = roles
        self._account_id = account_id
        self._clock = clock
        self._purge_after = purge_after
        self._root = Session(
            credentials=root,
            principal=Principal(
                arn=f"arn:aws:iam::{account_id}:root",
                account_id=account_id,
                user_id=account_id,  # GetCallerIdentity's UserId for the root user
                is_root=True,
            ),
        )
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        _create_private(path)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        self._last_purge = self._clock()
        self.purge()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; the caller holds ``self._lock``."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def issue(
        self,
        role: Role,
        *,
        session_name: str,
        context: Mapping[str, str],
        duration_seconds: int,
        source_identity: str | None = None,
    ) -> Session:
        """New credentials for a session of ``role`` lasting ``duration_seconds``.

        ``context`` holds the session's condition keys and policy variables (e.g.
        ``cognito-identity.amazonaws.com:sub``); ``aws:userid`` is added, and
        ``aws:SourceIdentity`` when ``source_identity`` is given.
        """
        now = self._clock()
        if now - self._last_purge >= _PURGE_EVERY:
            self.purge()
        user_id = f"{role.unique_id}:{session_name}"
        full_context = {**context, "aws:userid": user_id}
        if source_identity is not None:
            full_context["aws:SourceIdentity"] = source_identity
        record = _Record(
            credentials=new_temporary_credentials(),
            role_arn=role.arn,
            role_name=role.name,
            role_id=role.unique_id,
            session_name=session_name,
            context=full_context,
            source_identity=source_identity,
            # STS states expirations in whole seconds.
            expires_at=(now + timedelta(seconds=duration_seconds)).replace(microsecond=0),
        )
        with self._lock:
            with self._write() as db:
                db.execute(
                    f"INSERT INTO sessions ({_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                    record.row(now),
                )
            return self._remember(record).session

    def lookup(self, access_key_id: str) -> Session | None:
        """The session of ``access_key_id`` (expired ones too); ``None`` if unknown."""
        if access_key_id == self._root.credentials.access_key_id:
            return self._root
        cached = self._cache.get(access_key_id)
        if cached is None:
            cached = self._load(access_key_id)
            if cached is None:
                return None
        role = self._roles.get(cached.record.role_arn)
        if role is not cached.role:
            with self._lock:
                if access_key_id not in self._cache:
                    return None  # revoked meanwhile
                cached = self._remember(cached.record)
        return cached.session

    def revoke(self, access_key_id: str) -> bool:
        """Invalidate one session's credentials; ``False`` if there was none."""
        with self._lock:
            with self._write() as db:
                cursor = db.execute(
                    "DELETE FROM sessions WHERE access_key_id = ?", (access_key_id,)
                )
            self._cache.pop(access_key_id, None)
        return cursor.rowcount == 1

    def revoke_identity(self, identity_id: str) -> int:
        """Invalidate every session issued to an identity pool's identity; how many."""
        with self._lock:
            with self._write() as db:
                keys = [
                    row["access_key_id"]
                    for row in db.execute(
                        "DELETE FROM sessions WHERE identity_id = ? RETURNING access_key_id",
                        (identity_id,),
                    ).fetchall()
                ]
            for key in keys:
                self._cache.pop(key, None)
        return len(keys)

    def purge(self) -> int:
        """Forget sessions that expired more than ``purge_after`` ago; how many."""
        now = self._clock()
        cutoff = (now - self._purge_after).timestamp()
        with self._lock:
            with self._write() as db:
                keys = [
                    row["access_key_id"]
                    for row in db.execute(
                        "DELETE FROM sessions WHERE expires_at < ? RETURNING access_key_id",
                        (cutoff,),
                    ).fetchall()
                ]
            for key in keys:
                self._cache.pop(key, None)
            self._last_purge = now
        return len(keys)

    def _load(self, access_key_id: str) -> _Cached | None:
        with self._lock:
            cached = self._cache.get(access_key_id)
            if cached is not None:
                return cached
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM sessions WHERE access_key_id = ?", (access_key_id,)
            ).fetchone()
            return None if row is None else self._remember(_record(row))

    def _remember(self, record: _Record) -> _Cached:
        """Build the session with its role's current policies and cache it (lock held)."""
        role = self._roles.get(record.role_arn)
        principal = Principal(
            arn=record.role_arn,
            account_id=self._account_id,
            user_id=record.context["aws:userid"],
            policies=role.policies if role is not None else (),
            context=record.context,
            session_arn=(
                f"arn:aws:sts::{self._account_id}:assumed-role/"
                f"{record.role_name}/{record.session_name}"
            ),
        )
        session = Session(record.credentials, principal, record.expires_at)
        cached = _Cached(record, role, session)
        self._cache[record.credentials.access_key_id] = cached
        return cached
