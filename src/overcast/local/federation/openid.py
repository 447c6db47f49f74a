"""The identity pools' OpenID Connect tokens (``GetOpenIdToken``, the basic flow).

A token stands for one identity of one pool, for STS's
``AssumeRoleWithWebIdentity``. Its claims, as Cognito Identity issues them:

- ``iss`` = ``https://cognito-identity.amazonaws.com`` (the same on every
  endpoint: it is also the ``Federated`` principal that roles trust);
- ``aud`` = the identity pool id; ``sub`` = the identity id;
- ``amr`` = ``["authenticated", "<provider>", "<provider>:CognitoSignIn:<user
  sub>"]`` for a user pool login (Cognito developer guide, "Role trust and
  permissions": an authenticated token lists the providers used);
- ``iat`` and ``exp``: the token is valid for 10 minutes (``GetOpenIdToken``:
  "The OpenID token is valid for 10 minutes").

Tokens are RS256 with the local identity pools' own key (see ``store.py``).
:meth:`OpenIdTokens.verify` is what STS applies: signature, issuer, ``exp``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overcast.local.identity.keys import SigningKey

ISSUER = "https://cognito-identity.amazonaws.com"
PROVIDER = "cognito-identity.amazonaws.com"
AUTHENTICATED = "authenticated"
TOKEN_SECONDS = 600


class InvalidOpenIdToken(Exception):
    """Not a token of the local identity pools (bad form, signature or issuer)."""


class ExpiredOpenIdToken(Exception):
    """A token of the local identity pools past its ``exp``."""


@dataclass(frozen=True)
class OpenIdClaims:
    """A web identity: pool (``aud``), identity (``sub``) and how it signed in (``amr``)."""

    pool_id: str
    identity_id: str
    amr: tuple[str, ...]


def sign_in_amr(provider: str, subject: str) -> tuple[str, ...]:
    """``amr`` of an identity signed in through a user pool."""
    return (AUTHENTICATED, provider, f"{provider}:CognitoSignIn:{subject}")


class OpenIdTokens:
    """Issues and verifies the identity pools' OpenID tokens."""

    def __init__(
        self, key: SigningKey, clock: Callable[[], datetime], seconds: int = TOKEN_SECONDS
    ) -> None:
        self._key = key
        self._clock = clock
        self._seconds = seconds

    def issue(self, pool_id: str, identity_id: str, amr: tuple[str, ...]) -> str:
        now = int(self._clock().timestamp())
        claims = {
            "sub": identity_id,
            "aud": pool_id,
            "amr": list(amr),
            "iss": ISSUER,
            "exp": now + self._seconds,
            "iat": now,
        }
        return self._key.sign(claims)

    def verify(self, token: str) -> OpenIdClaims:
        """The claims of a valid token; :class:`InvalidOpenIdToken` or
        :class:`ExpiredOpenIdToken` otherwise."""
        claims = self._key.verified_claims(token)
        if claims is None or claims.get("iss") != ISSUER:
            raise InvalidOpenIdToken("Couldn't verify signed token.")
        parsed, expires = _parsed(claims)
        now = int(self._clock().timestamp())
        if expires <= now:
            # STS's wording, missing space included.
            raise ExpiredOpenIdToken(
                f"Token expired: current date/time {now} must be before the expiration "
                f"date/time{expires}"
            )
        return parsed


def _parsed(claims: dict[str, Any]) -> tuple[OpenIdClaims, int]:
    pool_id, identity_id = claims.get("aud"), claims.get("sub")
    amr, expires = claims.get("amr"), claims.get("exp")
    if not isinstance(pool_id, str) or not isinstance(identity_id, str):
        raise InvalidOpenIdToken("The token is missing a required claim: aud or sub.")
    if not isinstance(amr, list) or not all(isinstance(item, str) for item in amr):
        raise InvalidOpenIdToken("The token's amr claim is not a list of strings.")
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise InvalidOpenIdToken("The token is missing a required claim: exp.")
    return OpenIdClaims(pool_id, identity_id, tuple(amr)), expires
