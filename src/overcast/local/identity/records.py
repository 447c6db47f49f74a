"""What the user pool stores: users, codes, refresh sessions, pending challenges.

Secrets (password hash, SRP verifier, SRP session keys) are left out of ``repr``,
so that logging a record never writes them.
"""

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
    password_hash: str = field(repr=False)
    created_at: datetime
    modified_at: datetime
    attributes: Mapping[str, str] = field(default_factory=dict)
    password_expires_at: datetime | None = None  # a temporary password's deadline
    failed_sign_ins: int = 0
    last_failed_at: datetime | None = None
    locked_until: datetime | None = None
    # ``srp$salt$verifier`` (see ``srp.Verifier``); ``None`` for a password set before
    # the pools spoke SRP, until the user next signs in with their password.
    srp_verifier: str | None = field(default=None, repr=False)


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


@dataclass(frozen=True)
class SrpChallenge:
    """A pending ``PASSWORD_VERIFIER`` challenge, found by its secret block's hash.

    ``key`` is what the server derived when it answered the client's ``SRP_A``;
    the signature the client sends back must be made with the same key.
    """

    pool_id: str
    sub: str
    client_id: str
    key: bytes = field(repr=False)
    expires_at: datetime
    # SHA-256 of the verifier the key was derived from: a password changed meanwhile
    # makes the challenge worthless.
    verifier_hash: str = field(repr=False)
