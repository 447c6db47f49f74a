"""How the user pools' records are written to, and read from, their SQLite rows.

Moments are stored as epoch seconds (UTC), attributes as sorted JSON, booleans as
0/1. A user's ``email_key`` (their address in lower case) is what makes an address
unique in a pool, whatever its case.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from overcast.local.identity.records import (
    Challenge,
    RefreshSession,
    SrpChallenge,
    User,
    UserStatus,
)

USER_COLUMNS = [
    "pool_id",
    "sub",
    "email",
    "email_key",
    "status",
    "email_verified",
    "password_hash",
    "created_at",
    "modified_at",
    "attributes",
    "password_expires_at",
    "failed_sign_ins",
    "last_failed_at",
    "locked_until",
    "srp_verifier",
]
INSERT_USER = (
    f"INSERT INTO users ({', '.join(USER_COLUMNS)}) VALUES ({', '.join('?' for _ in USER_COLUMNS)})"
)
# An UPDATE, not a REPLACE: a REPLACE deletes the row first, and the delete would
# cascade to the user's codes and sessions.
UPDATE_USER = (
    f"UPDATE users SET {', '.join(f'{column} = ?' for column in USER_COLUMNS[2:])} "
    "WHERE pool_id = ? AND sub = ?"
)


def epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def required_moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def user_row(user: User) -> tuple[Any, ...]:
    """The values of ``USER_COLUMNS`` for ``user``, in that order."""
    return (
        user.pool_id,
        user.sub,
        user.email,
        user.email.lower(),
        user.status.value,
        int(user.email_verified),
        user.password_hash,
        epoch(user.created_at),
        epoch(user.modified_at),
        json.dumps(dict(user.attributes), sort_keys=True),
        epoch(user.password_expires_at),
        user.failed_sign_ins,
        epoch(user.last_failed_at),
        epoch(user.locked_until),
        user.srp_verifier,
    )


def user(row: sqlite3.Row) -> User:
    return User(
        pool_id=row["pool_id"],
        sub=row["sub"],
        email=row["email"],
        status=UserStatus(row["status"]),
        email_verified=bool(row["email_verified"]),
        password_hash=row["password_hash"],
        created_at=required_moment(row["created_at"]),
        modified_at=required_moment(row["modified_at"]),
        attributes=json.loads(row["attributes"]),
        password_expires_at=moment(row["password_expires_at"]),
        failed_sign_ins=row["failed_sign_ins"],
        last_failed_at=moment(row["last_failed_at"]),
        locked_until=moment(row["locked_until"]),
        srp_verifier=row["srp_verifier"],
    )


def session(row: sqlite3.Row) -> RefreshSession:
    return RefreshSession(
        origin_jti=row["origin_jti"],
        pool_id=row["pool_id"],
        sub=row["sub"],
        client_id=row["client_id"],
        refresh_hash=row["refresh_hash"],
        auth_time=required_moment(row["auth_time"]),
        expires_at=required_moment(row["expires_at"]),
        revoked=bool(row["revoked"]),
    )


def challenge(row: sqlite3.Row) -> Challenge:
    return Challenge(
        pool_id=row["pool_id"],
        sub=row["sub"],
        client_id=row["client_id"],
        expires_at=required_moment(row["expires_at"]),
    )


def srp_challenge_row(block_hash: str, pending: SrpChallenge) -> tuple[Any, ...]:
    return (
        block_hash,
        pending.pool_id,
        pending.sub,
        pending.client_id,
        pending.key.hex(),
        epoch(pending.expires_at),
        pending.verifier_hash,
    )


def srp_challenge(row: sqlite3.Row) -> SrpChallenge:
    return SrpChallenge(
        pool_id=row["pool_id"],
        sub=row["sub"],
        client_id=row["client_id"],
        key=bytes.fromhex(row["session_key"]),
        expires_at=required_moment(row["expires_at"]),
        verifier_hash=row["verifier_hash"],
    )
