"""A user pool's token signing key and the JWKS document that publishes it.

Cognito signs ID and access tokens with RS256 using one of the pool's RSA-2048 keys
and publishes the public halves at ``/<pool id>/.well-known/jwks.json`` as
``{"keys": [{"alg": "RS256", "e", "kid", "kty": "RSA", "n", "use": "sig"}]}``. Here
each pool has one key, created on first start and kept in the store so that tokens
issued before a restart still verify after it. Its ``kid`` is the key's RFC 7638
thumbprint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

ALGORITHM = "RS256"


def new_private_jwk() -> str:
    """A fresh RSA-2048 signing key, as a private JWK in JSON."""
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
    return json.dumps(key.as_dict(private=True))


class SigningKey:
    """Signs a pool's tokens and checks tokens it signed."""

    def __init__(self, private_jwk: str) -> None:
        self._key = RSAKey.import_key(json.loads(private_jwk))
        self._key.ensure_kid()
        kid = self._key.kid
        assert kid is not None
        self.kid: str = kid

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A compact JWS of ``claims`` with Cognito's header (``kid``, ``alg``; no ``typ``)."""
        header = {"kid": self.kid, "alg": ALGORITHM}
        return jwt.encode(
            header, dict(claims), self._key, algorithms=[ALGORITHM], default_type=None
        )

    def verified_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of ``token`` if this key signed it (RS256 only), else ``None``."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        if decoded.header.get("kid") != self.kid:
            return None
        return dict(decoded.claims)

    def public_jwk(self) -> dict[str, Any]:
        """The public key as Cognito lists it in the JWKS."""
        public = self._key.as_dict(private=False)
        return {
            "alg": ALGORITHM,
            "e": public["e"],
            "kid": self.kid,
            "kty": "RSA",
            "n": public["n"],
            "use": "sig",
        }

    def jwks(self) -> dict[str, Any]:
        """The pool's JWKS document."""
        return {"keys": [self.public_jwk()]}
