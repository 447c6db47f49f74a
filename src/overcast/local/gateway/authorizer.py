"""API Gateway's Cognito user pool authorizer (REST API, ``COGNITO_USER_POOLS``).

What it checks, as API Gateway does for a method without OAuth scopes:

- The token comes from the ``Authorization`` header, with or without ``Bearer ``.
  No header, or an empty one: 401 ``Unauthorized``.
- RS256 only, verified with the pool's JWKS key named by the token's ``kid``;
  ``alg: none``, HS256 (even keyed with the public key) and unknown ``kid`` are refused.
- ``iss`` is the pool's issuer; ``token_use`` is ``id`` — without scopes on the
  method, API Gateway accepts only ID tokens, so an access token is refused;
  ``aud`` is one of the pool's app client ids.
- A well-signed token past its ``exp`` gets 401 ``The incoming token has expired``
  (what API Gateway answers, e.g. aws-amplify/amplify-js#6060); everything else is
  401 ``Unauthorized``.

Claims reach the function as ``requestContext.authorizer.claims`` the way the REST
authorizer renders them: every value a string. ``exp`` and ``iat`` become Java
``Date`` strings (``"Sat Jul 03 12:33:44 UTC 2021"``), other numbers their digits
(``auth_time: "1469814773"``), booleans ``"true"``/``"false"``, lists
``"[a b]"`` (seen for ``cognito:groups``) — as in captured events.

Verified tokens are cached for the authorizer's TTL (API Gateway caches authorizer
results per token; TTL 0 disables it), never beyond the token's ``exp``, and the cache
is bounded. A repeated token costs one dict lookup.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, RSAKey

from overcast.local.formats import MONTHS
from overcast.local.gateway.responses import TokenExpired, Unauthorized

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DATE_CLAIMS = frozenset({"exp", "iat"})


class CognitoAuthorizer:
    """Verifies a user pool's ID tokens and renders their claims for the function."""

    def __init__(
        self,
        issuer: str,
        client_ids: Iterable[str],
        jwks: Mapping[str, Any],
        ttl_seconds: int = 300,
        clock: Callable[[], float] = time.time,
        *,
        max_cached: int = 10_000,
    ) -> None:
        self._issuer = issuer
        self._client_ids = frozenset(client_ids)
        self._keys = {
            jwk["kid"]: RSAKey.import_key(dict(jwk))
            for jwk in jwks.get("keys", ())
            if jwk.get("kty") == "RSA" and "kid" in jwk
        }
        self._ttl = ttl_seconds
        self._clock = clock
        self._max_cached = max_cached
        self._cache: dict[str, tuple[dict[str, str], float]] = {}

    def authorize(self, header_value: str | None) -> dict[str, str]:
        """The rendered claims of the token in ``header_value``; raises ``Unauthorized``."""
        token = _token(header_value)
        now = self._clock()
        cached = self._cache.get(token)
        if cached is not None and now < cached[1]:
            return cached[0]
        claims = self._verify(token, now)
        rendered = render_claims(claims)
        if self._ttl > 0:
            self._remember(token, rendered, min(now + self._ttl, float(claims["exp"])))
        return rendered

    def _verify(self, token: str, now: float) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self._key_for, algorithms=["RS256"]).claims
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        if claims.get("iss") != self._issuer:
            raise Unauthorized("token from another issuer")
        if claims.get("token_use") != "id":
            raise Unauthorized("not an ID token")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(isinstance(aud, str) and aud in self._client_ids for aud in audiences):
            raise Unauthorized("token for another client")
        expires = claims.get("exp")
        if isinstance(expires, bool) or not isinstance(expires, (int, float)):
            raise Unauthorized("token without exp")
        if expires <= now:
            raise TokenExpired("token expired")
        return claims

    def _key_for(self, token: GuestProtocol) -> RSAKey:
        key = self._keys.get(token.headers().get("kid", ""))
        if key is None:
            raise Unauthorized("unknown kid")
        return key

    def _remember(self, token: str, claims: dict[str, str], until: float) -> None:
        if len(self._cache) >= self._max_cached:
            del self._cache[next(iter(self._cache))]  # the oldest entry
        self._cache[token] = (claims, until)


def _token(header_value: str | None) -> str:
    if not header_value:
        raise Unauthorized("no Authorization header")
    token = header_value[7:] if header_value[:7].lower() == "bearer " else header_value
    token = token.strip()
    if not token:
        raise Unauthorized("empty token")
    return token


def render_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's REST Cognito authorizer passes them: all strings."""
    return {name: _render(name, value) for name, value in claims.items()}


def _render(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in _DATE_CLAIMS and isinstance(value, (int, float)):
        return java_date(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + " ".join(_render("", item) for item in value) + "]"
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"))


def java_date(epoch: float) -> str:
    """Java's ``Date.toString()`` in UTC: ``Sat Jul 03 12:33:44 UTC 2021``."""
    t = time.gmtime(epoch)
    return (
        f"{_DAYS[t.tm_wday]} {MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year}"
    )
