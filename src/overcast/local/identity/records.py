"""What the user pool stores: users, codes, refresh sessions, pending challenges."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class UserStatus(StrEnum):
    """Cognito's user statuses (the ones a local pool can reach)."""

    UNCONFIRMED = "UNCONFIRMED"
    CONFIRMED = "CONFIRMED"
    FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"


class CodePurpose(StrEnum):
    """What a confirmation code confirms."""

    SIGN_UP = "sign-up"
    FORGOT_PASSWORD = "forgot-password"


@dataclass(frozen=True)
class User:
    """A user of one pool. Their Cognito username is ``sub``; ``email`` is their alias."""

    pool_id: str
    sub: str
    email: str
    status: UserStatus
    email_verified: bool
    password_hash: str
    created_at: datetime
    modified_at: datetime
    attributes: Mapping[str, str] = field(default_factory=dict)
    password_expires_at: datetime | None = None  # a temporary password's deadline
    failed_sign_ins: int = 0
    last_failed_at: datetime | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class StoredCode:
    """A confirmation code sent by email, kept only as a hash."""

    pool_id: str
    sub: str
    purpose: CodePurpose
    code_hash: str
    expires_at: datetime
    failed_attempts: int = 0


@dataclass(frozen=True)
class RefreshSession:
    """One sign-in: its refresh token (hashed) and the ``origin_jti`` of its tokens."""

    origin_jti: str
    pool_id: str
    sub: str
    client_id: str
    refresh_hash: str
    auth_time: datetime
    expires_at: datetime
    revoked: bool = False


@dataclass(frozen=True)
class Challenge:
    """A pending ``NEW_PASSWORD_REQUIRED`` challenge, found by its session's hash."""

    pool_id: str
    sub: str
    client_id: str
    expires_at: datetime
