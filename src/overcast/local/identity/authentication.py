"""Sign-in and sessions: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge,
GetUser, GlobalSignOut.

Cognito behaviours mirrored here:

- Flows: ``USER_PASSWORD_AUTH`` and ``REFRESH_TOKEN_AUTH`` (alias ``REFRESH_TOKEN``)
  through InitiateAuth; ``ADMIN_USER_PASSWORD_AUTH`` (alias ``ADMIN_NO_SRP_AUTH``)
  and ``REFRESH_TOKEN_AUTH`` through AdminInitiateAuth. An admin flow sent to
  InitiateAuth (or the reverse) is ``Initiate Auth method not supported.``; a flow
  the app client does not enable is ``<FLOW> flow not enabled for this client``
  (``Auth flow not enabled for this client`` for the admin password flow).
- With user existence errors prevented, an unknown user and a wrong password
  both give ``NotAuthorizedException: Incorrect username or password.``; only
  the right password reveals ``UserNotConfirmedException``.
- Lockout (Cognito developer guide, "Lockout behavior for failed sign-in
  attempts"): after five failed password attempts the user is locked out for
  2^(n-5) seconds (n = cumulative failures), at most about 15 minutes; attempts
  during a lockout give ``Password attempts exceeded`` and do not count; a
  successful sign-in, or 15 minutes without failures, resets the count. Each
  attempt is counted as a failure *before* the (slow) password check and
  forgiven if the password is right, so parallel guesses cannot outrun the
  lockout.
- A user created by the operator signs in with their temporary password and gets
  the ``NEW_PASSWORD_REQUIRED`` challenge, answered within the session's
  validity (3 minutes, Cognito's default ``AuthSessionValidity``). A temporary
  password expires after 7 days (``TemporaryPasswordValidityDays``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from overcast.local.identity.context import IdentityContext
from overcast.local.identity.errors import (
    InvalidParameter,
    NotAuthorized,
    UserNotConfirmed,
    UserNotFound,
)
from overcast.local.identity.passwords import check_password
from overcast.local.identity.pools import ActivePool
from overcast.local.identity.records import Challenge, User, UserStatus
from overcast.local.identity.tokens import Tokens, secret_digest
from overcast.local.identity.users import find_user, parse_attributes

SESSION_VALIDITY = timedelta(minutes=3)
FREE_FAILURES = 5
MAX_LOCKOUT = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(minutes=15)
_ADMIN_PASSWORD_FLOWS = ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH")
_REFRESH_FLOWS = ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")
_PUBLIC_FLOWS = ("USER_PASSWORD_AUTH", "USER_SRP_AUTH", "CUSTOM_AUTH", "USER_AUTH")


@dataclass(frozen=True)
class NewPasswordChallenge:
    """The ``NEW_PASSWORD_REQUIRED`` challenge: a session and its parameters."""

    session: str
    parameters: Mapping[str, str]


AuthOutcome = Tokens | NewPasswordChallenge


def _required(parameters: Mapping[str, str], name: str) -> str:
    value = parameters.get(name)
    if not value:
        raise InvalidParameter(f"Missing required parameter {name}")
    return value


class Authentication:
    """Signs users in and out of every registered pool."""

    def __init__(self, context: IdentityContext) -> None:
        self._context = context

    def initiate_auth(
        self, client_id: str, flow: str, parameters: Mapping[str, str]
    ) -> AuthOutcome:
        """InitiateAuth: the public flows."""
        pool = self._context.pools.pool_of_client(client_id)
        if flow in _ADMIN_PASSWORD_FLOWS:
            raise InvalidParameter("Initiate Auth method not supported.")
        if flow in _REFRESH_FLOWS:
            return self._refresh(pool, client_id, parameters)
        if flow != "USER_PASSWORD_AUTH" or not pool.allows(client_id, "USER_PASSWORD_AUTH"):
            raise InvalidParameter(f"{flow} flow not enabled for this client")
        return self._password_sign_in(pool, client_id, parameters)

    def admin_initiate_auth(
        self, pool_id: str, client_id: str, flow: str, parameters: Mapping[str, str]
    ) -> AuthOutcome:
        """AdminInitiateAuth: the operator's flows."""
        pool = self._context.pools.client_of_pool(pool_id, client_id)
        if flow in _PUBLIC_FLOWS:
            raise InvalidParameter("Initiate Auth method not supported.")
        if flow in _REFRESH_FLOWS:
            return self._refresh(pool, client_id, parameters)
        if not pool.allows(client_id, "ADMIN_USER_PASSWORD_AUTH"):
            raise InvalidParameter("Auth flow not enabled for this client")
        return self._password_sign_in(pool, client_id, parameters)

    def respond_to_new_password(
        self, client_id: str, session: str | None, responses: Mapping[str, str]
    ) -> AuthOutcome:
        """RespondToAuthChallenge for ``NEW_PASSWORD_REQUIRED``."""
        context = self._context
        pool = context.pools.pool_of_client(client_id)
        digest = secret_digest(session or "")
        user = self._challenged_user(pool, client_id, digest, responses)
        new_password = _required(responses, "NEW_PASSWORD")
        prefix = "userAttributes."
        written = [
            (k.removeprefix(prefix), v) for k, v in responses.items() if k.startswith(prefix)
        ]
        given = parse_attributes(written, operator=False)
        if given.email is not None and given.email.lower() != user.email.lower():
            raise InvalidParameter("The email address is the username and cannot change here.")
        check_password(pool.declaration.password_policy, new_password)
        if not context.store.delete_challenge(digest):
            raise NotAuthorized("Invalid session for the user.")
        password_hash = context.hasher.hash(new_password)
        now = context.clock()

        def choose_password(current: User) -> User:
            return replace(
                current,
                status=UserStatus.CONFIRMED,
                password_hash=password_hash,
                password_expires_at=None,
                attributes={**current.attributes, **given.others},
                modified_at=now,
            )

        updated = context.store.update_user(pool.pool_id, user.sub, choose_password)
        if updated is None:
            raise NotAuthorized("Invalid session for the user.")
        return context.tokens.sign_in(pool, client_id, updated)

    def get_user(self, access_token: str) -> User:
        """GetUser: the user an access token belongs to, unless it was revoked."""
        return self._token_user(access_token)[1]

    def global_sign_out(self, access_token: str) -> None:
        """GlobalSignOut: revoke every refresh token of the user, and their access tokens."""
        pool, user = self._token_user(access_token)
        self._context.store.revoke_sessions(pool.pool_id, user.sub)

    def _challenged_user(
        self, pool: ActivePool, client_id: str, digest: str, responses: Mapping[str, str]
    ) -> User:
        context = self._context
        challenge = context.store.challenge(digest)
        if challenge is None or challenge.client_id != client_id:
            raise NotAuthorized("Invalid session for the user.")
        if challenge.expires_at <= context.clock():
            raise NotAuthorized("Invalid session for the user, session is expired.")
        user = find_user(context.store, pool.pool_id, _required(responses, "USERNAME"))
        if user is None or user.sub != challenge.sub:
            raise NotAuthorized("Invalid session for the user.")
        if user.status is not UserStatus.FORCE_CHANGE_PASSWORD:
            raise NotAuthorized("Invalid session for the user.")
        return user

    def _token_user(self, access_token: str) -> tuple[ActivePool, User]:
        context = self._context
        pool, claims = context.tokens.read_access_token(context.pools, access_token)
        user = context.store.user_by_sub(pool.pool_id, str(claims.get("sub")))
        if user is None:
            raise UserNotFound()
        session = context.store.session(str(claims.get("origin_jti")))
        if session is None or session.revoked or session.sub != user.sub:
            raise NotAuthorized("Access Token has been revoked")
        return pool, user

    def _refresh(self, pool: ActivePool, client_id: str, parameters: Mapping[str, str]) -> Tokens:
        if not pool.allows(client_id, "REFRESH_TOKEN_AUTH"):
            raise InvalidParameter("REFRESH_TOKEN_AUTH flow not enabled for this client")
        refresh_token = _required(parameters, "REFRESH_TOKEN")
        return self._context.tokens.refresh(pool, client_id, refresh_token)

    def _password_sign_in(
        self, pool: ActivePool, client_id: str, parameters: Mapping[str, str]
    ) -> AuthOutcome:
        context = self._context
        username = _required(parameters, "USERNAME")
        password = _required(parameters, "PASSWORD")
        user = find_user(context.store, pool.pool_id, username)
        if user is None:
            context.hasher.waste_time(password)
            raise NotAuthorized()
        now = context.clock()
        user = self._update(user, lambda current: _count_failure(current, now))
        if not context.hasher.verify(password, user.password_hash):
            raise NotAuthorized()
        user = self._update(user, _forgive_failures)
        if user.status is UserStatus.UNCONFIRMED:
            raise UserNotConfirmed()
        if user.status is UserStatus.FORCE_CHANGE_PASSWORD:
            return self._new_password_challenge(pool, client_id, user, now)
        return context.tokens.sign_in(pool, client_id, user)

    def _update(self, user: User, change: Callable[[User], User]) -> User:
        updated = self._context.store.update_user(user.pool_id, user.sub, change)
        if updated is None:  # deleted meanwhile
            raise NotAuthorized()
        return updated

    def _new_password_challenge(
        self, pool: ActivePool, client_id: str, user: User, now: datetime
    ) -> NewPasswordChallenge:
        if user.password_expires_at is not None and user.password_expires_at <= now:
            raise NotAuthorized(
                "Temporary password has expired and must be reset by an administrator."
            )
        session = secrets.token_urlsafe(128)
        challenge = Challenge(pool.pool_id, user.sub, client_id, now + SESSION_VALIDITY)
        self._context.store.add_challenge(secret_digest(session), challenge)
        visible = {"email_verified": str(user.email_verified).lower(), **user.attributes}
        parameters = {
            "USER_ID_FOR_SRP": user.sub,
            "requiredAttributes": "[]",
            "userAttributes": json.dumps({**visible, "email": user.email}),
        }
        return NewPasswordChallenge(session, parameters)


def _count_failure(user: User, now: datetime) -> User:
    """``user`` with one more failed attempt; ``Password attempts exceeded`` if locked out."""
    if user.last_failed_at is not None and now - user.last_failed_at >= FAILURE_MEMORY:
        user = _forgive_failures(user)
    if user.locked_until is not None and now < user.locked_until:
        raise NotAuthorized("Password attempts exceeded")
    failures = user.failed_sign_ins + 1
    locked_until = None
    if failures >= FREE_FAILURES:
        # The exponent is capped only to keep timedelta in range; MAX_LOCKOUT bounds it.
        doubling = timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20))
        locked_until = now + min(doubling, MAX_LOCKOUT)
    return replace(user, failed_sign_ins=failures, last_failed_at=now, locked_until=locked_until)


def _forgive_failures(user: User) -> User:
    return replace(user, failed_sign_ins=0, last_failed_at=None, locked_until=None)
