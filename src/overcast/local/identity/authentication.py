"""Sign-in and sessions: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge,
GetUser, GlobalSignOut.

Cognito behaviours mirrored here:

- Flows: ``USER_PASSWORD_AUTH``, ``USER_SRP_AUTH`` (the ``PASSWORD_VERIFIER``
  challenge, see :mod:`srp_sign_in`) and ``REFRESH_TOKEN_AUTH`` (alias
  ``REFRESH_TOKEN``) through InitiateAuth; ``ADMIN_USER_PASSWORD_AUTH`` (alias
  ``ADMIN_NO_SRP_AUTH``) and ``REFRESH_TOKEN_AUTH`` through AdminInitiateAuth.
  An admin flow sent to InitiateAuth (or the reverse) is ``Initiate Auth method
  not supported.``; a flow the app client does not enable is ``<FLOW> flow not
  enabled for this client`` (``Auth flow not enabled for this client`` for the
  admin password flow).
- With user existence errors prevented, an unknown user and a wrong password
  both give ``NotAuthorizedException: Incorrect username or password.``; only
  the right password (or SRP proof) reveals ``UserNotConfirmedException``.
- Failed attempts lock the user out for a while, as Cognito's lockout does (see
  :mod:`lockout`).
- A user created by the operator signs in with their temporary password and gets
  the ``NEW_PASSWORD_REQUIRED`` challenge, answered within the session's
  validity (3 minutes, Cognito's default ``AuthSessionValidity``). A temporary
  password expires after 7 days (``TemporaryPasswordValidityDays``).
- A user whose password predates the SRP verifiers gets one the next time they
  sign in with their password (``USER_PASSWORD_AUTH`` or the admin flow).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from overcast.local.identity import srp
from overcast.local.identity.context import IdentityContext
from overcast.local.identity.errors import (
    InvalidParameter,
    NotAuthorized,
    UserNotConfirmed,
    UserNotFound,
)
from overcast.local.identity.lockout import forgive_failures, reserve_attempt, update_signing_in
from overcast.local.identity.passwords import check_password
from overcast.local.identity.pools import ActivePool
from overcast.local.identity.records import Challenge, User, UserStatus
from overcast.local.identity.shapes import required_parameter as _required
from overcast.local.identity.srp_sign_in import PasswordVerifierChallenge, SrpSignIn
from overcast.local.identity.tokens import Tokens, secret_digest
from overcast.local.identity.users import find_user, parse_attributes

SESSION_VALIDITY = timedelta(minutes=3)
_ADMIN_PASSWORD_FLOWS = ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH")
_REFRESH_FLOWS = ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")
_PUBLIC_FLOWS = ("USER_PASSWORD_AUTH", "USER_SRP_AUTH", "CUSTOM_AUTH", "USER_AUTH")


@dataclass(frozen=True)
class NewPasswordChallenge:
    """The ``NEW_PASSWORD_REQUIRED`` challenge: a session and its parameters."""

    session: str
    parameters: Mapping[str, str]


AuthOutcome = Tokens | NewPasswordChallenge | PasswordVerifierChallenge


class Authentication:
    """Signs users in and out of every registered pool."""

    def __init__(self, context: IdentityContext) -> None:
        self._context = context
        self._srp = SrpSignIn(context)

    def initiate_auth(
        self, client_id: str, flow: str, parameters: Mapping[str, str]
    ) -> AuthOutcome:
        """InitiateAuth: the public flows."""
        pool = self._context.pools.pool_of_client(client_id)
        if flow in _ADMIN_PASSWORD_FLOWS:
            raise InvalidParameter("Initiate Auth method not supported.")
        if flow in _REFRESH_FLOWS:
            return self._refresh(pool, client_id, parameters)
        if flow == "USER_SRP_AUTH" and pool.allows(client_id, "USER_SRP_AUTH"):
            return self._srp.challenge(pool, client_id, parameters)
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

    def respond_to_password_verifier(
        self, client_id: str, responses: Mapping[str, str]
    ) -> AuthOutcome:
        """RespondToAuthChallenge for ``PASSWORD_VERIFIER``: the SRP proof of the password."""
        pool = self._context.pools.pool_of_client(client_id)
        user = self._srp.verify(pool, client_id, responses)
        return self._signed_in(pool, client_id, user, self._context.clock())

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
        stored = context.stored_password(pool.pool_id, user.sub, new_password)
        now = context.clock()

        def choose_password(current: User) -> User:
            return replace(
                current,
                status=UserStatus.CONFIRMED,
                password_hash=stored.hash,
                srp_verifier=stored.srp_verifier,
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
        user = reserve_attempt(context.store, user, now)
        if not context.hasher.verify(password, user.password_hash):
            raise NotAuthorized()
        user = self._forgive_and_upgrade(user, password)
        return self._signed_in(pool, client_id, user, now)

    def _forgive_and_upgrade(self, user: User, password: str) -> User:
        """Forgive the attempt; store an SRP verifier if the user has none yet."""
        if user.srp_verifier is not None:
            return update_signing_in(self._context.store, user, forgive_failures)
        verifier = srp.new_verifier(srp.pool_name(user.pool_id), user.sub, password).encode()

        def forgive_and_upgrade(current: User) -> User:
            current = forgive_failures(current)
            if current.password_hash != user.password_hash:  # a new password meanwhile
                return current
            return replace(current, srp_verifier=current.srp_verifier or verifier)

        return update_signing_in(self._context.store, user, forgive_and_upgrade)

    def _signed_in(
        self, pool: ActivePool, client_id: str, user: User, now: datetime
    ) -> AuthOutcome:
        """What a proven password leads to: an error, the new-password challenge, or tokens."""
        if user.status is UserStatus.UNCONFIRMED:
            raise UserNotConfirmed()
        if user.status is UserStatus.FORCE_CHANGE_PASSWORD:
            return self._new_password_challenge(pool, client_id, user, now)
        return self._context.tokens.sign_in(pool, client_id, user)

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
