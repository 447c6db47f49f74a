"""The Cognito authorizer accepts only the pool's valid ID tokens, as API Gateway does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from overcast.local.gateway.authorizer import CognitoAuthorizer, java_date, render_claims
from overcast.local.gateway.responses import TokenExpired, Unauthorized

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"
CLIENT = "web-client-id"
NOW = 1_700_000_000.0
KEY = RSAKey.generate_key(2048, parameters={"kid": "key-1"}, private=True)
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "key-1"}, private=True)
JWKS = KeySet([KEY]).as_dict(private=False)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def id_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "user-1",
        "aud": CLIENT,
        "iss": ISSUER,
        "token_use": "id",
        "email": "user@example.com",
        "email_verified": True,
        "auth_time": int(NOW) - 60,
        "iat": int(NOW) - 60,
        "exp": int(NOW) + 3600,
        "cognito:username": "user-1",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: RSAKey = KEY, kid: str = "key-1") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def segment(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def authorizer(clock: Clock | None = None, ttl: int = 300, **options: Any) -> CognitoAuthorizer:
    return CognitoAuthorizer(ISSUER, [CLIENT, "other-app"], JWKS, ttl, clock or Clock(), **options)


def test_valid_id_token_yields_claims_as_strings() -> None:
    claims = authorizer().authorize("Bearer " + sign(id_claims()))

    assert claims["sub"] == "user-1"
    assert claims["email_verified"] == "true"
    assert claims["auth_time"] == str(int(NOW) - 60)
    assert claims["exp"] == java_date(NOW + 3600)
    assert all(isinstance(value, str) for value in claims.values())


def test_token_is_accepted_without_bearer_prefix() -> None:
    assert authorizer().authorize(sign(id_claims()))["sub"] == "user-1"


def test_missing_or_empty_header_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        authorizer().authorize(None)
    with pytest.raises(Unauthorized):
        authorizer().authorize("Bearer ")


def test_expired_token_gets_api_gateways_expired_message() -> None:
    with pytest.raises(TokenExpired) as caught:
        authorizer().authorize(sign(id_claims(exp=int(NOW) - 1)))

    assert caught.value.status == 401
    assert caught.value.body == b'{"message":"The incoming token has expired"}'


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(sign(id_claims(), key=OTHER_KEY), id="signed-by-another-key"),
        pytest.param(sign(id_claims(), kid="unknown"), id="unknown-kid"),
        pytest.param(sign(id_claims(iss="https://evil.example")), id="other-issuer"),
        pytest.param(sign(id_claims(aud="someone-elses-app")), id="other-audience"),
        pytest.param(
            sign(id_claims(token_use="access", aud=None, client_id=CLIENT)), id="access-token"
        ),
        pytest.param(sign(id_claims(exp=None)), id="no-exp"),
        pytest.param("not.a.jwt", id="garbage"),
        pytest.param("garbage", id="one-segment"),
    ],
)
def test_bad_tokens_are_unauthorized(token: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        authorizer().authorize(token)

    assert type(caught.value) is Unauthorized
    assert caught.value.body == b'{"message":"Unauthorized"}'


def test_unsigned_alg_none_token_is_refused() -> None:
    token = f"{segment({'alg': 'none', 'kid': 'key-1'})}.{segment(id_claims())}."

    with pytest.raises(Unauthorized):
        authorizer().authorize(token)


def test_hs256_token_keyed_with_the_public_key_is_refused() -> None:
    public_pem = KEY.as_pem(private=False)
    signing_input = f"{segment({'alg': 'HS256', 'kid': 'key-1'})}.{segment(id_claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    with pytest.raises(Unauthorized):
        authorizer().authorize(token)


def test_tampered_payload_is_refused() -> None:
    header, _, signature = sign(id_claims()).split(".")
    forged = f"{header}.{segment(id_claims(sub='admin'))}.{signature}"

    with pytest.raises(Unauthorized):
        authorizer().authorize(forged)


def test_repeated_token_is_served_from_cache_within_ttl() -> None:
    clock = Clock()
    gate = authorizer(clock)
    token = sign(id_claims())

    first = gate.authorize(token)
    clock.now += 299
    second = gate.authorize(token)
    clock.now += 2
    third = gate.authorize(token)

    assert second is first
    assert third == first
    assert third is not first


def test_cache_never_outlives_the_token() -> None:
    clock = Clock()
    gate = authorizer(clock, ttl=3600)
    token = sign(id_claims(exp=int(NOW) + 10))
    gate.authorize(token)

    clock.now += 11

    with pytest.raises(TokenExpired):
        gate.authorize(token)


def test_ttl_zero_disables_the_cache() -> None:
    gate = authorizer(ttl=0)
    token = sign(id_claims())

    assert gate.authorize(token) is not gate.authorize(token)


def test_cache_is_bounded_and_drops_the_oldest_token() -> None:
    gate = authorizer(max_cached=2)
    tokens = [sign(id_claims(sub=f"user-{n}")) for n in range(3)]
    first = gate.authorize(tokens[0])
    for token in tokens[1:]:
        gate.authorize(token)

    assert gate.authorize(tokens[0]) is not first


def test_claims_render_as_the_rest_authorizer_does() -> None:
    rendered = render_claims(
        {
            "exp": 1625315624,
            "iat": 1625312024,
            "auth_time": 1625312000,
            "email_verified": False,
            "cognito:groups": ["admins", "editors"],
            "custom:score": 4.5,
        }
    )

    assert rendered == {
        "exp": "Sat Jul 03 12:33:44 UTC 2021",
        "iat": "Sat Jul 03 11:33:44 UTC 2021",
        "auth_time": "1625312000",
        "email_verified": "false",
        "cognito:groups": "[admins editors]",
        "custom:score": "4.5",
    }
