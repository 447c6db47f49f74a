"""The RealWorld ``Token`` scheme, verified by the function itself.

The blog's routes have no API Gateway authorizer (RealWorld sends
``Authorization: Token <jwt>``, which API Gateway's Cognito authorizer would not
read), so the function checks the ID token as that authorizer would: RS256 with the
key its ``kid`` names in the pool's JWKS, ``iss`` the pool's issuer, ``token_use`` ``id``,
``aud`` the app client, ``exp`` in the future. ``Bearer <jwt>`` is accepted too.

The JWKS comes from ``<issuer>/.well-known/jwks.json`` (Cognito publishes it there;
so does the local pool), fetched on first use and kept for the life of the execution
environment; an unknown ``kid`` fetches it again (a rotated key), at most once a
minute, so forged ``kid``s cannot make the function hammer the pool.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, RSAKey

from overcast.apps.blog.domain import Unauthorized

JwksFetcher = Callable[[str], Mapping[str, Any]]
REFETCH_SECONDS = 60.0


def https_jwks(ca_bundle: str | None) -> JwksFetcher:
    """Fetch a JWKS document over HTTPS, trusting ``ca_bundle`` (or the system's CAs)."""
    context = ssl.create_default_context(cafile=ca_bundle)

    def fetch(url: str) -> Mapping[str, Any]:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            document: Mapping[str, Any] = json.loads(response.read())
        return document

    return fetch


def cognito_issuer(pool_id: str, region: str, aws_endpoint: str | None) -> str:
    """The pool's issuer: ``https://cognito-idp.<region>.amazonaws.com/<pool id>`` on AWS,
    ``<local AWS endpoint>/<pool id>`` in the local cloud."""
    base = aws_endpoint or f"https://cognito-idp.{region}.amazonaws.com"
    return f"{base.rstrip('/')}/{pool_id}"


def bearer_token(header: str | None) -> str | None:
    """The JWT of an ``Authorization`` header (``Token`` or ``Bearer``); ``None`` if absent."""
    if not header or not header.strip():
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() in ("token", "bearer") and token.strip():
        return token.strip()
    raise Unauthorized("token", "is missing")


class TokenVerifier:
    """Verifies ID tokens of one user pool client; returns their ``sub``."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        fetch: JwksFetcher,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, RSAKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self, token: str) -> str:
        try:
            claims = jwt.decode(token, self._key_for, algorithms=["RS256"]).claims
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise Unauthorized("token", "is invalid") from exc
        audience = claims.get("aud")
        expires = claims.get("exp")
        if (
            claims.get("iss") != self._issuer
            or claims.get("token_use") != "id"
            or audience != self._client_id
            or isinstance(expires, bool)
            or not isinstance(expires, (int, float))
            or not isinstance(claims.get("sub"), str)
        ):
            raise Unauthorized("token", "is invalid")
        if expires <= self._clock():
            raise Unauthorized("token", "has expired")
        return str(claims["sub"])

    def _key_for(self, token: GuestProtocol) -> RSAKey:
        kid = str(token.headers().get("kid", ""))
        with self._lock:
            if kid not in self._keys and self._may_fetch():
                self._load()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("token", "is invalid")
        return key

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= REFETCH_SECONDS

    def _load(self) -> None:
        self._fetched_at = self._clock()
        try:
            document = self._fetch(f"{self._issuer}/.well-known/jwks.json")
        except OSError as exc:
            raise Unauthorized("token", "cannot be verified now") from exc
        self._keys = {
            str(jwk["kid"]): RSAKey.import_key(dict(jwk))
            for jwk in document.get("keys", ())
            if jwk.get("kty") == "RSA" and "kid" in jwk
        }
