"""The blog's own verification of RealWorld ``Token`` headers (ID tokens, JWKS)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from overcast.apps.blog.domain import Unauthorized
from overcast.apps.blog.tokens import TokenVerifier, bearer_token, cognito_issuer

ISSUER = "https://127.0.0.1:4566/us-east-1_abc"
NOW = 1_700_000_000.0


class Jwks:
    """A pool's JWKS document, counting fetches."""

    def __init__(self, key: RSAKey) -> None:
        self.key = key
        self.fetched: list[str] = []

    def __call__(self, url: str) -> Mapping[str, Any]:
        self.fetched.append(url)
        return {"keys": [self.key.as_dict(private=False)]}


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})


def _token(key: RSAKey, **overrides: Any) -> str:
    claims = {
        "sub": "sub-1",
        "iss": ISSUER,
        "aud": "client",
        "token_use": "id",
        "exp": int(NOW) + 60,
        **overrides,
    }
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def test_a_valid_id_token_gives_its_subject_and_the_jwks_is_fetched_once(key: RSAKey) -> None:
    jwks = Jwks(key)
    verify = TokenVerifier(ISSUER, "client", jwks, clock=lambda: NOW)

    assert verify(_token(key)) == "sub-1"
    assert verify(_token(key, sub="sub-2")) == "sub-2"
    assert jwks.fetched == [f"{ISSUER}/.well-known/jwks.json"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://elsewhere/us-east-1_abc"},
        {"aud": "another-client"},
        {"token_use": "access"},
        {"exp": int(NOW) - 1},
    ],
)
def test_tokens_of_another_issuer_client_use_or_expired_are_refused(
    key: RSAKey, overrides: dict[str, Any]
) -> None:
    verify = TokenVerifier(ISSUER, "client", Jwks(key), clock=lambda: NOW)

    with pytest.raises(Unauthorized):
        verify(_token(key, **overrides))


def test_a_token_signed_by_another_key_is_refused(key: RSAKey) -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    verify = TokenVerifier(ISSUER, "client", Jwks(key), clock=lambda: NOW)

    with pytest.raises(Unauthorized):
        verify(_token(other))
    with pytest.raises(Unauthorized):
        verify("not.a.jwt")


def test_unknown_kids_refetch_the_jwks_at_most_once_a_minute(key: RSAKey) -> None:
    jwks = Jwks(key)
    now = [NOW]
    verify = TokenVerifier(ISSUER, "client", jwks, clock=lambda: now[0])
    forged = jwt.encode({"alg": "RS256", "kid": "nope"}, {"sub": "x"}, key)

    for _ in range(3):
        with pytest.raises(Unauthorized):
            verify(forged)
    now[0] += 61
    with pytest.raises(Unauthorized):
        verify(forged)

    assert len(jwks.fetched) == 2


def test_token_and_bearer_schemes_are_read_and_others_refused() -> None:
    assert bearer_token("Token abc") == "abc"
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token(None) is None
    with pytest.raises(Unauthorized):
        bearer_token("Basic abc")


def test_the_issuer_is_the_pools_on_aws_or_the_local_endpoint() -> None:
    assert cognito_issuer("eu-west-1_x", "eu-west-1", None) == (
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x"
    )
    assert cognito_issuer("us-east-1_x", "us-east-1", "https://127.0.0.1:9/") == (
        "https://127.0.0.1:9/us-east-1_x"
    )
