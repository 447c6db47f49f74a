"""USER_SRP_AUTH: Cognito's ``PASSWORD_VERIFIER`` challenge, issued and checked.

The arithmetic is in :mod:`srp`; this module holds the protocol around it.
Cognito behaviours mirrored here:

- ``InitiateAuth(USER_SRP_AUTH, {USERNAME, SRP_A})`` answers ``ChallengeName:
  PASSWORD_VERIFIER`` with ``ChallengeParameters`` ``SALT``, ``SRP_B``,
  ``SECRET_BLOCK``, ``USER_ID_FOR_SRP`` and ``USERNAME``; for a pool whose users
  sign in with their email, both of the last two are the user's internal
  username, the sub. Cognito sends no ``Session`` with this challenge: the
  secret block carries the state.
- An ``SRP_A`` that is zero modulo N is refused (RFC 5054 §2.5.4: "the host MUST
  abort the authentication attempt"), as is one that is not hexadecimal:
  ``InvalidParameterException``.
- "Prevent user existence errors" is on (developer guide, "Managing user
  existence error responses"): for an unknown user Cognito "returns a simulated
  response in the first step as described in RFC 5054", with "the same salt and
  internal user id in UUID format for the same user name and user pool
  combination", and answers the proof with ``NotAuthorizedException: Incorrect
  username or password.`` The stand-in salt and id are derived from the pool's
  own secret, so they stay the same across restarts.
- ``RespondToAuthChallenge(PASSWORD_VERIFIER, {USERNAME, PASSWORD_CLAIM_SECRET_BLOCK,
  PASSWORD_CLAIM_SIGNATURE, TIMESTAMP})``: a wrong signature, a secret block this
  pool did not issue (or issued to another user or app client), one already
  answered, or one older than 3 minutes, and a TIMESTAMP not in Cognito's format
  ``EEE MMM d HH:mm:ss UTC yyyy`` (day not zero-padded, weekday matching the date)
  or more than 5 minutes from the server's clock all get ``Incorrect username or
  password.`` Cognito documents neither window: 3 minutes is its default
  ``AuthSessionValidity`` (how long any step of a sign-in waits for the next), 5
  minutes the clock skew AWS allows signed requests, past which SRP sign-in is
  reported to fail.
- Each proof counts toward the lockout like a password attempt (see :mod:`lockout`).

A secret block is random bytes; the store keeps only its SHA-256, with the key
the handshake derived (the ephemeral ``b`` is dropped at once), the user, the app
client and a hash of the verifier used, and deletes it when it is answered, so a
block is checked at most once, and a password changed meanwhile voids it.

A user whose password was set before the pools spoke SRP has no verifier (the
password itself is kept only as a scrypt hash). Until they next sign in with their
password through ``USER_PASSWORD_AUTH`` (or the admin flow), which stores one,
they get a stand-in challenge, which no password answers, so SRP fails for them
exactly as a wrong password would (and counts toward their lockout).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from overcast.local import formats
from overcast.local.identity import srp
from overcast.local.identity.context import IdentityContext
from overcast.local.identity.errors import InvalidParameter, NotAuthorized
from overcast.local.identity.lockout import forgive_failures, reserve_attempt, update_signing_in
from overcast.local.identity.pools import ActivePool
from overcast.local.identity.records import SrpChallenge, User
from overcast.local.identity.shapes import required_parameter
from overcast.local.identity.users import find_user

SECRET_BLOCK_VALIDITY = timedelta(minutes=3)
CLOCK_SKEW = timedelta(minutes=5)
SECRET_BLOCK_BYTES = 64
# N has 768 hex digits; a longer SRP_A is not one a client made (and costs time to read).
_SRP_A = re.compile(r"[0-9a-fA-F]{1,768}")


@dataclass(frozen=True)
class PasswordVerifierChallenge:
    """The ``PASSWORD_VERIFIER`` challenge's parameters (it comes without a session)."""

    parameters: Mapping[str, str]


def _public_a(text: str) -> int:
    if not _SRP_A.fullmatch(text):
        raise InvalidParameter("SRP_A is not a hexadecimal number below N.")
    return int(text, 16)


def _secret_block(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _digest(data: bytes | str | None) -> str:
    raw = data.encode() if isinstance(data, str) else data or b""
    return hashlib.sha256(raw).hexdigest()


def _identity(pool: ActivePool, user: User | None, username: str) -> tuple[str, srp.Verifier]:
    """``USER_ID_FOR_SRP`` and the verifier to answer with: the user's, or stable stand-ins."""
    label = user.sub if user else username.lower()
    stored = srp.Verifier.decode(user.srp_verifier) if user else None
    verifier = stored or srp.simulated_verifier(pool.secret, label)
    if user is not None:
        return user.sub, verifier
    return formats.uuid4_from(srp.simulated_user_id(pool.secret, label)), verifier


class SrpSignIn:
    """Issues ``PASSWORD_VERIFIER`` challenges and checks the proofs that answer them."""

    def __init__(self, context: IdentityContext) -> None:
        self._context = context

    def challenge(
        self, pool: ActivePool, client_id: str, parameters: Mapping[str, str]
    ) -> PasswordVerifierChallenge:
        """InitiateAuth's answer to ``USER_SRP_AUTH``: the user's salt and the server's B."""
        username = required_parameter(parameters, "USERNAME")
        public_a = _public_a(required_parameter(parameters, "SRP_A"))
        user = find_user(self._context.store, pool.pool_id, username)
        user_id, verifier = _identity(pool, user, username)
        try:
            handshake = srp.answer(verifier, public_a)
        except srp.InvalidPublicValue as error:
            raise InvalidParameter(str(error)) from None
        block = secrets.token_bytes(SECRET_BLOCK_BYTES)
        if user is not None:
            # Without a verifier the key comes from the stand-in: no password matches it.
            self._remember(pool, client_id, user, block, handshake.key)
        return PasswordVerifierChallenge(
            {
                "SALT": f"{verifier.salt:x}",
                "SRP_B": f"{handshake.public_b:x}",
                "SECRET_BLOCK": base64.b64encode(block).decode("ascii"),
                "USER_ID_FOR_SRP": user_id,
                "USERNAME": user_id,
            }
        )

    def verify(self, pool: ActivePool, client_id: str, responses: Mapping[str, str]) -> User:
        """The user whose proof answers a challenge of ``pool``; ``NotAuthorized`` otherwise."""
        context = self._context
        username = required_parameter(responses, "USERNAME")
        block = _secret_block(required_parameter(responses, "PASSWORD_CLAIM_SECRET_BLOCK"))
        signature = required_parameter(responses, "PASSWORD_CLAIM_SIGNATURE")
        timestamp = required_parameter(responses, "TIMESTAMP")
        now = context.clock()
        pending = context.store.take_srp_challenge(_digest(block)) if block else None
        if pending is None or pending.pool_id != pool.pool_id or pending.client_id != client_id:
            raise NotAuthorized()
        user = find_user(context.store, pool.pool_id, username)
        if pending.expires_at <= now or user is None or user.sub != pending.sub:
            raise NotAuthorized()
        user = reserve_attempt(context.store, user, now)
        proof = _Proof(pool, pending, block or b"", timestamp, signature)
        if not proof.holds(now) or _digest(user.srp_verifier) != pending.verifier_hash:
            raise NotAuthorized()
        return update_signing_in(context.store, user, forgive_failures)

    def _remember(
        self, pool: ActivePool, client_id: str, user: User, block: bytes, key: bytes
    ) -> None:
        now = self._context.clock()
        pending = SrpChallenge(
            pool_id=pool.pool_id,
            sub=user.sub,
            client_id=client_id,
            key=key,
            expires_at=now + SECRET_BLOCK_VALIDITY,
            verifier_hash=_digest(user.srp_verifier),
        )
        self._context.store.add_srp_challenge(_digest(block), pending, now)


@dataclass(frozen=True)
class _Proof:
    pool: ActivePool
    pending: SrpChallenge
    block: bytes
    timestamp: str
    signature: str

    def holds(self, now: datetime) -> bool:
        """Whether TIMESTAMP is well-formed and current and the signature is right."""
        moment = srp.parse_timestamp(self.timestamp)
        if moment is None or abs(now - moment) > CLOCK_SKEW:
            return False
        pool_name = srp.pool_name(self.pool.pool_id)
        expected = srp.claim_signature(
            self.pending.key, pool_name, self.pending.sub, self.block, self.timestamp
        )
        return srp.signature_matches(expected, self.signature)
