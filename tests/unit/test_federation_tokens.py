"""Login tokens an identity pool accepts, and the OpenID tokens it issues."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from overcast.local.federation import errors
from overcast.local.federation.errors import NotAuthorized
from overcast.local.federation.logins import LoginProvider, VerifiedLogin, provider_name
from overcast.local.federation.openid import (
    ExpiredOpenIdToken,
    InvalidOpenIdToken,
    OpenIdClaims,
    OpenIdTokens,
    sign_in_amr,
)
from overcast.local.identity.keys import SigningKey, new_private_jwk

NOW = 1_750_000_000
ISSUER = "https://127.0.0.1:4566/us-east-1_Abc123xyz"
CLIENT = "3n4b5urk1ft4fl3mg5e62d9ado"
PROVIDER = provider_name("us-east-1", "us-east-1_Abc123xyz")
POOL_ID = "us-east-1:11111111-2222-3333-4444-555555555555"
IDENTITY = "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

USER_POOL_KEY = SigningKey(new_private_jwk())
OTHER_KEY = SigningKey(new_private_jwk())


def id_claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "5f1c5d7e-0000-4000-8000-000000000001",
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "iat": NOW - 60,
        "exp": NOW + 3540,
        "email": "alice@example.com",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def segment(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def unsigned_token() -> str:
    header = {"alg": "none", "kid": USER_POOL_KEY.kid}
    return f"{segment(header)}.{segment(id_claims())}."


def hmac_with_public_key() -> str:
    public = json.dumps(USER_POOL_KEY.public_jwk()).encode()
    header = {"alg": "HS256", "kid": USER_POOL_KEY.kid}
    return jwt.encode(header, id_claims(), OctKey.import_key(public), algorithms=["HS256"])


provider = LoginProvider(PROVIDER, ISSUER, [CLIENT], USER_POOL_KEY.jwks())


def test_a_valid_id_token_proves_its_user() -> None:
    login = provider.verify(USER_POOL_KEY.sign(id_claims()), NOW)

    assert login == VerifiedLogin(PROVIDER, "5f1c5d7e-0000-4000-8000-000000000001")
    assert PROVIDER == "cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123xyz"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        pytest.param("not-a-jwt", errors.NOT_A_TOKEN, id="not-a-jwt"),
        pytest.param("a.!!!.c", errors.NOT_A_TOKEN, id="payload-not-base64-json"),
        pytest.param(
            USER_POOL_KEY.sign(id_claims(iss="https://elsewhere/us-east-1_Other")),
            errors.WRONG_ISSUER,
            id="other-issuer",
        ),
        pytest.param(OTHER_KEY.sign(id_claims()), errors.BAD_SIGNATURE, id="other-key"),
        pytest.param(unsigned_token(), errors.BAD_SIGNATURE, id="alg-none"),
        pytest.param(hmac_with_public_key(), errors.BAD_SIGNATURE, id="hs256-with-public-key"),
        pytest.param(
            USER_POOL_KEY.sign(id_claims(aud=None, token_use="access", client_id=CLIENT)),
            errors.MISSING_AUDIENCE,
            id="access-token",
        ),
        pytest.param(
            USER_POOL_KEY.sign(id_claims(token_use="access")),
            errors.NOT_A_TOKEN,
            id="not-an-id-token",
        ),
        pytest.param(
            USER_POOL_KEY.sign(id_claims(aud="someotherclient")),
            errors.UNSUPPORTED_PROVIDER,
            id="other-app-client",
        ),
        pytest.param(
            USER_POOL_KEY.sign(id_claims(exp=NOW)),
            f"Invalid login token. Token expired: {NOW} >= {NOW}",
            id="expired",
        ),
    ],
)
def test_a_bad_login_token_is_refused_with_cognitos_reason(token: str, message: str) -> None:
    with pytest.raises(NotAuthorized) as refused:
        provider.verify(token, NOW)

    assert refused.value.message == message
    assert refused.value.code == "NotAuthorizedException"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.fromtimestamp(NOW, UTC)

    def __call__(self) -> datetime:
        return self.now


def test_an_open_id_token_carries_pool_identity_and_sign_in() -> None:
    tokens = OpenIdTokens(OTHER_KEY, Clock())
    amr = sign_in_amr(PROVIDER, "5f1c5d7e")

    token = tokens.issue(POOL_ID, IDENTITY, amr)

    assert tokens.verify(token) == OpenIdClaims(POOL_ID, IDENTITY, amr)
    claims = OTHER_KEY.verified_claims(token)
    assert claims is not None
    assert claims["iss"] == "https://cognito-identity.amazonaws.com"
    assert (claims["aud"], claims["sub"]) == (POOL_ID, IDENTITY)
    assert claims["amr"] == ["authenticated", PROVIDER, f"{PROVIDER}:CognitoSignIn:5f1c5d7e"]
    assert claims["exp"] - claims["iat"] == 600


def test_an_open_id_token_expires_after_ten_minutes() -> None:
    clock = Clock()
    tokens = OpenIdTokens(OTHER_KEY, clock)
    token = tokens.issue(POOL_ID, IDENTITY, ("authenticated",))
    clock.now += timedelta(seconds=600)

    with pytest.raises(ExpiredOpenIdToken) as expired:
        tokens.verify(token)

    assert re.fullmatch(
        r"Token expired: current date/time \d+ must be before the expiration date/time\d+",
        str(expired.value),
    )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            USER_POOL_KEY.sign({"iss": "https://cognito-identity.amazonaws.com"}), id="other-key"
        ),
        pytest.param(
            OTHER_KEY.sign(
                {"iss": ISSUER, "aud": POOL_ID, "sub": IDENTITY, "amr": [], "exp": NOW + 60}
            ),
            id="user-pool-issuer",
        ),
        pytest.param(
            OTHER_KEY.sign(
                {
                    "iss": "https://cognito-identity.amazonaws.com",
                    "aud": POOL_ID,
                    "sub": IDENTITY,
                    "amr": "authenticated",
                    "exp": NOW + 60,
                }
            ),
            id="amr-not-a-list",
        ),
        pytest.param("garbage", id="garbage"),
    ],
)
def test_a_token_that_is_not_the_pools_own_is_invalid(token: str) -> None:
    with pytest.raises(InvalidOpenIdToken):
        OpenIdTokens(OTHER_KEY, Clock()).verify(token)
