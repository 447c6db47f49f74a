"""Bad input over real HTTPS: each gets the right status, a clear message, and changes nothing."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from overcast.local.endpoints import Endpoints
from overcast.local.identity.keys import SigningKey
from overcast.local.identity.store import UserPoolStore
from tests.cloud_process import CloudProcess
from tests.e2e.conftest import Session, Users, bearer, todo_url


@pytest.fixture(scope="module")
def alice(users: Users) -> Session:
    return users.sign_up_and_in()


@pytest.fixture
def unchanged(endpoints: Endpoints, alice: Session, https: httpx.Client) -> Iterator[None]:
    """Asserts that the test left alice's to-dos exactly as they were."""
    before = https.get(todo_url(endpoints), headers=bearer(alice)).json()
    yield
    assert https.get(todo_url(endpoints), headers=bearer(alice)).json() == before


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ('{"title": "unterminated', 400, None),
        ('{"title": 42}', 422, "title"),
        ('{"title": "ok", "completed": "yes"}', 422, "completed"),
        ("{}", 422, "title"),
        ('{"title": "ok", "owner": "someone-else"}', 422, "owner"),
        ('{"title": ""}', 422, "title"),
        (json.dumps({"title": "x" * 501}), 422, "title"),
        ("[1, 2, 3]", 422, None),
    ],
)
def test_malformed_or_invalid_bodies_are_refused(
    endpoints: Endpoints,
    alice: Session,
    https: httpx.Client,
    body: str,
    status: int,
    field: str | None,
) -> None:
    response = https.post(
        todo_url(endpoints),
        content=body,
        headers={**bearer(alice), "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert response.json()["message"]
    if field:
        assert field in response.json()["message"]


@pytest.mark.usefixtures("unchanged")
def test_a_20_mb_body_is_refused_by_the_gateway(
    endpoints: Endpoints, alice: Session, https: httpx.Client
) -> None:
    body = json.dumps({"title": "big", "notes": "x" * (20 * 1024 * 1024)})
    response = https.post(todo_url(endpoints), content=body, headers=bearer(alice))
    assert response.status_code == 413
    assert "message" in response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nothing-here"), ("DELETE", "/todos"), ("POST", "/todos/abc"), ("GET", "/")],
)
def test_unknown_routes_and_methods_get_api_gateways_403(
    endpoints: Endpoints, alice: Session, https: httpx.Client, method: str, path: str
) -> None:
    response = https.request(method, todo_url(endpoints, path), headers=bearer(alice))
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_a_wrong_stage_is_unknown(endpoints: Endpoints, https: httpx.Client) -> None:
    api = endpoints.services["todo"].api
    assert api is not None
    response = https.get(api.rsplit("/", 1)[0] + "/prod/todos")
    assert response.status_code == 403


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def _alg_none(token: str) -> str:
    _, payload, _ = token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    return f"{header}.{payload}."


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda s: None, id="missing"),
        pytest.param(lambda s: "garbage", id="garbage"),
        pytest.param(lambda s: s.access_token, id="access-token-not-id-token"),
        pytest.param(lambda s: _tampered(s.id_token), id="tampered-payload"),
        pytest.param(lambda s: _alg_none(s.id_token), id="alg-none"),
    ],
)
def test_bad_tokens_are_unauthorized(
    endpoints: Endpoints, alice: Session, https: httpx.Client, make_token: object
) -> None:
    assert callable(make_token)
    token = make_token(alice)
    headers = {"Authorization": token} if token else {}
    for method, path in (("GET", "/todos"), ("POST", "/todos")):
        response = https.request(
            method, todo_url(endpoints, path), headers=headers, json={"title": "sneaky"}
        )
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    claims: dict[str, object] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def _pool_key(cloud: CloudProcess, endpoints: Endpoints) -> SigningKey:
    """The todo pool's real signing key, read from the data directory, to mint test tokens."""
    store = UserPoolStore(cloud.data_dir / "identity" / "userpools.sqlite3")
    try:
        pool_id = endpoints.services["todo"].user_pools["users"].id
        return SigningKey(store.signing_key(pool_id, new_key=_no_new_key))
    finally:
        store.close()


def _no_new_key() -> str:
    raise AssertionError("the pool must already have a key")


@pytest.mark.usefixtures("unchanged")
def test_an_expired_token_is_refused(
    cloud: CloudProcess, endpoints: Endpoints, alice: Session, https: httpx.Client
) -> None:
    # Given a token the pool really signed, whose hour has passed
    claims = _claims(alice.id_token)
    now = int(time.time())
    expired = _pool_key(cloud, endpoints).sign({**claims, "iat": now - 3700, "exp": now - 100})

    response = https.post(
        todo_url(endpoints), json={"title": "late"}, headers={"Authorization": expired}
    )

    assert response.status_code == 401
    assert response.json() == {"message": "The incoming token has expired"}


@pytest.mark.usefixtures("unchanged")
def test_a_token_signed_by_another_key_is_refused(
    cloud: CloudProcess, endpoints: Endpoints, alice: Session, https: httpx.Client
) -> None:
    # Given the same claims and the pool's own kid, signed with an attacker's key
    kid = _pool_key(cloud, endpoints).kid
    attacker = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256", "kid": kid}, _claims(alice.id_token), attacker)

    response = https.get(todo_url(endpoints), headers={"Authorization": forged})

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
