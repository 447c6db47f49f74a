"""Checking a user pool ID token presented in an identity pool's ``Logins`` map.

A client names the provider as AWS does, ``cognito-idp.<region>.amazonaws.com/
<user pool id>``, unchanged locally, and gives the user pool's ID token. What
Cognito Identity checks, in this order, and answers with ``NotAuthorizedException``:

- the provider name is one of the identity pool's providers, else "Token is not
  from a supported provider of this identity pool.";
- the token is a JWT, else "Invalid login token. Not a valid OpenId Connect
  identity token.";
- its ``iss`` is the named user pool's issuer (locally ``<endpoint>/<pool id>``),
  else "Invalid login token. Issuer doesn't match providerName";
- its RS256 signature verifies with a key of the pool's JWKS, else "Invalid login
  token. Couldn't verify signed token.";
- it has an ``aud`` (access tokens have none: "Missing a required claim: aud") and
  ``token_use`` is ``id``;
- ``exp`` is in the future, else "Invalid login token. Token expired: <now> >= <exp>";
- ``aud`` is one of the app clients the identity pool trusts, else "Token is not
  from a supported provider of this identity pool." (a client that is not listed).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, RSAKey

from overcast.local.federation import errors
from overcast.local.federation.errors import NotAuthorized

ALGORITHM = "RS256"


def provider_name(region: str, user_pool_id: str) -> str:
    """The name Cognito Identity knows a user pool by, as clients put it in ``Logins``."""
    return f"cognito-idp.{region}.amazonaws.com/{user_pool_id}"


@dataclass(frozen=True)
class VerifiedLogin:
    """A login that checked out: who the user is at which provider."""

    provider: str
    subject: str


def _unverified_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise NotAuthorized(errors.NOT_A_TOKEN)
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        raise NotAuthorized(errors.NOT_A_TOKEN) from None
    if not isinstance(claims, dict):
        raise NotAuthorized(errors.NOT_A_TOKEN)
    return claims


class LoginProvider:
    """A user pool as an identity pool's login provider: verifies its ID tokens."""

    def __init__(
        self, name: str, issuer: str, client_ids: Iterable[str], jwks: Mapping[str, Any]
    ) -> None:
        self.name = name
        self.issuer = issuer
        self.client_ids = tuple(client_ids)
        self._keys = {
            jwk["kid"]: RSAKey.import_key(dict(jwk))
            for jwk in jwks.get("keys", ())
            if jwk.get("kty") == "RSA" and "kid" in jwk
        }

    def verify(self, token: str, now: float) -> VerifiedLogin:
        """The user behind ``token``, or :class:`NotAuthorized` with Cognito's reason."""
        if _unverified_claims(token).get("iss") != self.issuer:
            raise NotAuthorized(errors.WRONG_ISSUER)
        try:
            claims = jwt.decode(token, self._key_for, algorithms=[ALGORITHM]).claims
        except (JoseError, ValueError, TypeError, KeyError):
            raise NotAuthorized(errors.BAD_SIGNATURE) from None
        audience = claims.get("aud")
        if not isinstance(audience, str):
            raise NotAuthorized(errors.MISSING_AUDIENCE)
        if claims.get("token_use") != "id" or not isinstance(claims.get("sub"), str):
            raise NotAuthorized(errors.NOT_A_TOKEN)
        expires = claims.get("exp")
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            raise NotAuthorized(errors.NOT_A_TOKEN)
        if expires <= now:
            raise NotAuthorized(errors.token_expired(int(now), int(expires)))
        if audience not in self.client_ids:
            raise NotAuthorized(errors.UNSUPPORTED_PROVIDER)
        return VerifiedLogin(self.name, claims["sub"])

    def _key_for(self, token: GuestProtocol) -> RSAKey:
        key = self._keys.get(token.headers().get("kid", ""))
        if key is None:
            raise NotAuthorized(errors.BAD_SIGNATURE)
        return key
