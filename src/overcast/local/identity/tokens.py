"""Cognito's tokens: RS256 ID and access tokens, and an opaque refresh token.

Claims, as Cognito issues them to a pool whose users sign in with their email:

- ID token: ``sub, email_verified, iss, cognito:username (= sub), origin_jti, aud
  (= client id), event_id, token_use="id", auth_time, exp, iat, jti, email`` and
  the user's other attributes.
- Access token: ``sub, iss, client_id, origin_jti, event_id, token_use="access",
  scope="aws.cognito.signin.user.admin", auth_time, exp, iat, jti, username``.

Each sign-in starts a *session*: a random refresh token (stored only as its
SHA-256; like Cognito's encrypted one it means nothing to a client) and the
``origin_jti`` that every token of the session carries. Refreshing issues new ID
and access tokens with the session's ``origin_jti`` and ``auth_time`` and no new
refresh token (Cognito without refresh token rotation). Revoking the session
(GlobalSignOut) stops the refresh token and, through ``origin_jti``, the access
tokens (``Access Token has been revoked``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from overcast.local.identity.errors import NotAuthorized
from overcast.local.identity.pools import ActivePool, PoolDirectory
from overcast.local.identity.records import RefreshSession, User
from overcast.local.identity.store import UserPoolStore

ACCESS_SCOPE = "aws.cognito.signin.user.admin"


@dataclass(frozen=True)
class Tokens:
    """What a successful authentication returns (``AuthenticationResult``)."""

    id_token: str
    access_token: str
    expires_in: int
    refresh_token: str | None = None


def secret_digest(secret: str) -> str:
    """How a high-entropy secret (refresh token, challenge session) is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _unverified_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


class TokenIssuer:
    """Issues and refreshes tokens, and reads access tokens back."""

    def __init__(self, store: UserPoolStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def sign_in(self, pool: ActivePool, client_id: str, user: User) -> Tokens:
        """Start a session for ``user`` and return its three tokens."""
        now = self._clock()
        refresh_token = secrets.token_urlsafe(96)
        session = RefreshSession(
            origin_jti=str(uuid.uuid4()),
            pool_id=pool.pool_id,
            sub=user.sub,
            client_id=client_id,
            refresh_hash=secret_digest(refresh_token),
            auth_time=now,
            expires_at=now + timedelta(days=pool.declaration.refresh_token_days),
        )
        self._store.add_session(session)
        tokens = self._issue(pool, session, user, now)
        return Tokens(tokens.id_token, tokens.access_token, tokens.expires_in, refresh_token)

    def refresh(self, pool: ActivePool, client_id: str, refresh_token: str) -> Tokens:
        """New ID and access tokens for the session of ``refresh_token``."""
        session = self._store.session_by_refresh_hash(secret_digest(refresh_token))
        if session is None or session.pool_id != pool.pool_id or session.client_id != client_id:
            raise NotAuthorized("Invalid Refresh Token")
        if session.revoked:
            raise NotAuthorized("Refresh Token has been revoked")
        now = self._clock()
        if session.expires_at <= now:
            raise NotAuthorized("Refresh Token has expired")
        user = self._store.user_by_sub(pool.pool_id, session.sub)
        if user is None:
            raise NotAuthorized("Invalid Refresh Token")
        return self._issue(pool, session, user, now)

    def read_access_token(
        self, pools: PoolDirectory, token: str
    ) -> tuple[ActivePool, dict[str, Any]]:
        """The pool and claims of a valid, unexpired access token (revocation aside)."""
        unverified = _unverified_claims(token) or {}
        pool = pools.by_issuer(str(unverified.get("iss", "")))
        claims = pool.key.verified_claims(token) if pool else None
        if pool is None or claims is None or claims.get("token_use") != "access":
            raise NotAuthorized("Invalid Access Token")
        if claims.get("client_id") not in pool.clients:
            raise NotAuthorized("Invalid Access Token")
        expires = claims.get("exp")
        if not isinstance(expires, int) or expires <= self._clock().timestamp():
            raise NotAuthorized("Access Token has expired")
        return pool, claims

    def _issue(
        self, pool: ActivePool, session: RefreshSession, user: User, now: datetime
    ) -> Tokens:
        declaration = pool.declaration
        common = {"origin_jti": session.origin_jti, "event_id": str(uuid.uuid4())}
        issued = int(now.timestamp())
        times = {"auth_time": int(session.auth_time.timestamp()), "iat": issued}
        id_claims: dict[str, Any] = {
            "sub": user.sub,
            "email_verified": user.email_verified,
            "iss": pool.issuer,
            "cognito:username": user.sub,
            **common,
            "aud": session.client_id,
            "token_use": "id",
            **times,
            "exp": issued + declaration.id_token_minutes * 60,
            "jti": str(uuid.uuid4()),
            **dict(user.attributes),
            "email": user.email,
        }
        access_seconds = declaration.access_token_minutes * 60
        access_claims: dict[str, Any] = {
            "sub": user.sub,
            "iss": pool.issuer,
            "client_id": session.client_id,
            **common,
            "token_use": "access",
            "scope": ACCESS_SCOPE,
            **times,
            "exp": issued + access_seconds,
            "jti": str(uuid.uuid4()),
            "username": user.sub,
        }
        return Tokens(
            id_token=pool.key.sign(id_claims),
            access_token=pool.key.sign(access_claims),
            expires_in=access_seconds,
        )
