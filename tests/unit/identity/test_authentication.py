"""Sign-in, tokens, refresh, sign-out and lockout, as Cognito answers them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from overcast.local.identity.authentication import NewPasswordChallenge
from overcast.local.identity.errors import (
    InvalidParameter,
    NotAuthorized,
    ResourceNotFound,
    UserNotConfirmed,
    UserNotFound,
)
from overcast.local.identity.keys import SigningKey, new_private_jwk
from overcast.local.identity.tokens import Tokens
from overcast.ports.mail.memory import MemoryMailer
from tests.unit.identity.conftest import (
    PASSWORD,
    POOL,
    World,
    build_provider,
    outcome,
    wait_until,
)

ID_CLAIMS = {
    "sub", "email_verified", "iss", "cognito:username", "origin_jti", "aud", "event_id",
    "token_use", "auth_time", "exp", "iat", "jti", "email",
}  # fmt: skip
ACCESS_CLAIMS = {
    "sub", "iss", "client_id", "origin_jti", "event_id", "token_use", "scope", "auth_time",
    "exp", "iat", "jti", "username",
}  # fmt: skip


def claims(world: World, token: str) -> dict[str, Any]:
    decoded = jwt.decode(token, KeySet.import_key_set(dict(world.pool.jwks)), algorithms=["RS256"])
    assert decoded.header["kid"] == world.pool.jwks["keys"][0]["kid"]
    return dict(decoded.claims)


def test_signing_in_returns_cognito_shaped_id_and_access_tokens(world: World) -> None:
    sub = world.confirmed_user()

    tokens = world.sign_in()

    id_claims = claims(world, tokens.id_token)
    access = claims(world, tokens.access_token)
    assert set(id_claims) == ID_CLAIMS
    assert set(access) == ACCESS_CLAIMS
    now = int(world.clock.now.timestamp())
    assert id_claims["sub"] == id_claims["cognito:username"] == sub
    assert id_claims["iss"] == f"https://127.0.0.1:4566/{world.pool.pool_id}"
    assert (id_claims["aud"], id_claims["token_use"]) == (world.client_id, "id")
    assert (id_claims["email"], id_claims["email_verified"]) == ("alice@example.com", True)
    assert id_claims["auth_time"] == id_claims["iat"] == now
    assert id_claims["exp"] == now + 3600
    assert access["username"] == access["sub"] == sub
    assert (access["client_id"], access["token_use"]) == (world.client_id, "access")
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["origin_jti"] == id_claims["origin_jti"]
    assert tokens.expires_in == 3600
    assert tokens.refresh_token


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(world: World) -> None:
    world.confirmed_user()

    with pytest.raises(NotAuthorized) as wrong_password:
        world.sign_in(password="Wr0ng-password")
    with pytest.raises(NotAuthorized) as unknown_user:
        world.sign_in(email="nobody@example.com")

    assert wrong_password.value.message == unknown_user.value.message
    assert wrong_password.value.message == "Incorrect username or password."


def test_an_unconfirmed_user_with_a_wrong_password_is_not_told_they_exist(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)

    with pytest.raises(NotAuthorized):
        world.sign_in(password="Wr0ng-password")
    with pytest.raises(UserNotConfirmed):
        world.sign_in()


def test_five_failures_lock_the_user_out_for_a_second_then_two(world: World) -> None:
    world.confirmed_user()
    for _ in range(5):
        with pytest.raises(NotAuthorized, match="Incorrect username or password"):
            world.sign_in(password="Wr0ng-password")

    with pytest.raises(NotAuthorized, match="Password attempts exceeded"):
        world.sign_in()
    world.clock.advance(seconds=1)
    with pytest.raises(NotAuthorized, match="Incorrect username or password"):
        world.sign_in(password="Wr0ng-password")
    world.clock.advance(seconds=1.5)
    with pytest.raises(NotAuthorized, match="Password attempts exceeded"):
        world.sign_in()
    world.clock.advance(seconds=0.5)
    assert world.sign_in().access_token


def test_a_successful_sign_in_resets_the_failure_count(world: World) -> None:
    world.confirmed_user()
    for _ in range(4):
        with pytest.raises(NotAuthorized):
            world.sign_in(password="Wr0ng-password")
    world.sign_in()

    for _ in range(4):
        with pytest.raises(NotAuthorized, match="Incorrect"):
            world.sign_in(password="Wr0ng-password")
    assert world.sign_in().access_token


def test_fifteen_quiet_minutes_forget_earlier_failures(world: World) -> None:
    world.confirmed_user()
    for _ in range(5):
        with pytest.raises(NotAuthorized):
            world.sign_in(password="Wr0ng-password")
    world.clock.advance(minutes=15)

    with pytest.raises(NotAuthorized, match="Incorrect"):
        world.sign_in(password="Wr0ng-password")
    assert world.sign_in().access_token


def test_parallel_wrong_passwords_cannot_outrun_the_lockout(world: World) -> None:
    world.confirmed_user()
    guesses = [f"Wr0ng-guess-{i}" for i in range(8)]
    world.hasher.hold(*guesses)

    with ThreadPoolExecutor(len(guesses)) as threads:
        answers = [threads.submit(outcome, lambda g=g: world.sign_in(password=g)) for g in guesses]
        wait_until(lambda: world.hasher.waiting + sum(a.done() for a in answers) == len(guesses))
        world.hasher.open()

    assert world.hasher.waiting == 5  # only five passwords were ever checked
    assert (
        sorted(answer.result() for answer in answers)
        == ["NotAuthorizedException: Incorrect username or password."] * 5
        + ["NotAuthorizedException: Password attempts exceeded"] * 3
    )
    user = world.pools.administration.get_user(world.pool.pool_id, "alice@example.com")
    assert user.failed_sign_ins == 5
    assert user.locked_until == world.clock.now + timedelta(seconds=1)


def test_a_failed_sign_in_does_not_undo_a_password_reset_made_meanwhile(world: World) -> None:
    world.confirmed_user()
    registration = world.pools.registration
    registration.forgot_password(world.client_id, "alice@example.com")
    code = world.last_code()
    world.hasher.hold("Wr0ng-guess")

    with ThreadPoolExecutor(1) as threads:
        failing = threads.submit(outcome, lambda: world.sign_in(password="Wr0ng-guess"))
        wait_until(lambda: world.hasher.waiting == 1)
        registration.confirm_forgot_password(
            world.client_id, "alice@example.com", code, "N3w-password!"
        )
        world.hasher.open()

    assert failing.result() == "NotAuthorizedException: Incorrect username or password."
    assert world.sign_in(password="N3w-password!").access_token


def test_flows_the_client_does_not_enable_are_refused(world: World) -> None:
    world.confirmed_user()
    authentication = world.pools.authentication
    refresh_only = world.pool.client_ids["refresh-only"]
    credentials = {"USERNAME": "alice@example.com", "PASSWORD": PASSWORD}

    with pytest.raises(
        InvalidParameter, match="USER_PASSWORD_AUTH flow not enabled for this client"
    ):
        authentication.initiate_auth(refresh_only, "USER_PASSWORD_AUTH", credentials)
    with pytest.raises(InvalidParameter, match="USER_SRP_AUTH flow not enabled for this client"):
        authentication.initiate_auth(refresh_only, "USER_SRP_AUTH", {**credentials, "SRP_A": "2"})
    with pytest.raises(InvalidParameter, match="Initiate Auth method not supported"):
        authentication.initiate_auth(world.client_id, "ADMIN_USER_PASSWORD_AUTH", credentials)
    with pytest.raises(ResourceNotFound):
        authentication.initiate_auth("nosuchclient", "USER_PASSWORD_AUTH", credentials)


def test_missing_auth_parameters_are_named(world: World) -> None:
    with pytest.raises(InvalidParameter, match="Missing required parameter USERNAME"):
        world.pools.authentication.initiate_auth(world.client_id, "USER_PASSWORD_AUTH", {})
    with pytest.raises(InvalidParameter, match="Missing required parameter REFRESH_TOKEN"):
        world.pools.authentication.initiate_auth(world.client_id, "REFRESH_TOKEN_AUTH", {})


def test_refreshing_keeps_the_session_and_returns_no_new_refresh_token(world: World) -> None:
    world.confirmed_user()
    first = world.sign_in()
    world.clock.advance(minutes=10)

    refreshed = world.pools.authentication.initiate_auth(
        world.client_id, "REFRESH_TOKEN", {"REFRESH_TOKEN": first.refresh_token or ""}
    )

    assert isinstance(refreshed, Tokens)
    assert refreshed.refresh_token is None
    before, after = claims(world, first.id_token), claims(world, refreshed.id_token)
    assert after["origin_jti"] == before["origin_jti"]
    assert after["auth_time"] == before["auth_time"]
    assert after["iat"] == before["iat"] + 600
    assert after["jti"] != before["jti"]


def test_a_refresh_token_works_only_for_its_client_and_until_it_expires(world: World) -> None:
    world.confirmed_user()
    token = world.sign_in().refresh_token or ""
    authentication = world.pools.authentication
    other_client = world.pool.client_ids["refresh-only"]

    with pytest.raises(NotAuthorized, match="Invalid Refresh Token"):
        authentication.initiate_auth(other_client, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": token})
    with pytest.raises(NotAuthorized, match="Invalid Refresh Token"):
        authentication.initiate_auth(
            world.client_id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": token[:-4] + "AAAA"}
        )
    world.clock.advance(days=30, seconds=1)
    with pytest.raises(NotAuthorized, match="Refresh Token has expired"):
        authentication.initiate_auth(
            world.client_id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": token}
        )


def test_get_user_answers_with_the_users_attributes(world: World) -> None:
    sub = world.confirmed_user()

    user = world.pools.authentication.get_user(world.sign_in().access_token)

    assert (user.sub, user.email, user.email_verified) == (sub, "alice@example.com", True)


def test_expired_forged_and_id_tokens_are_not_access_tokens(world: World) -> None:
    world.confirmed_user()
    tokens = world.sign_in()
    authentication = world.pools.authentication
    header, payload, signature = tokens.access_token.split(".")

    with pytest.raises(NotAuthorized, match="Invalid Access Token"):
        authentication.get_user(tokens.id_token)
    with pytest.raises(NotAuthorized, match="Invalid Access Token"):
        authentication.get_user(f"{header}.{payload}.{signature[:-6]}AAAAAA")
    with pytest.raises(NotAuthorized, match="Invalid Access Token"):
        authentication.get_user("not-a-token")
    world.clock.advance(minutes=60)
    with pytest.raises(NotAuthorized, match="Access Token has expired"):
        authentication.get_user(tokens.access_token)


def test_a_token_signed_by_another_key_with_the_same_issuer_is_refused(world: World) -> None:
    world.confirmed_user()
    copied_claims = claims(world, world.sign_in().access_token)
    impostor = SigningKey(new_private_jwk())

    with pytest.raises(NotAuthorized, match="Invalid Access Token"):
        world.pools.authentication.get_user(impostor.sign(copied_claims))


def test_global_sign_out_revokes_refresh_and_access_tokens_of_every_session(world: World) -> None:
    world.confirmed_user()
    phone, laptop = world.sign_in(), world.sign_in()
    authentication = world.pools.authentication

    authentication.global_sign_out(phone.access_token)

    for session in (phone, laptop):
        with pytest.raises(NotAuthorized, match="Access Token has been revoked"):
            authentication.get_user(session.access_token)
        with pytest.raises(NotAuthorized, match="Refresh Token has been revoked"):
            authentication.initiate_auth(
                world.client_id,
                "REFRESH_TOKEN_AUTH",
                {"REFRESH_TOKEN": session.refresh_token or ""},
            )
    assert authentication.get_user(world.sign_in().access_token).email == "alice@example.com"


def test_a_deleted_users_tokens_stop_working(world: World) -> None:
    sub = world.confirmed_user()
    tokens = world.sign_in()

    world.pools.administration.delete_user(world.pool.pool_id, sub)

    with pytest.raises(UserNotFound):
        world.pools.authentication.get_user(tokens.access_token)
    with pytest.raises(NotAuthorized, match="Invalid Refresh Token"):
        world.pools.authentication.initiate_auth(
            world.client_id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": tokens.refresh_token or ""}
        )


def test_tokens_and_ids_survive_a_restart(world: World, tmp_path: Path) -> None:
    world.confirmed_user()
    tokens = world.sign_in()
    world.provider.close()

    restarted = build_provider(tmp_path / "userpools.sqlite3", MemoryMailer(), world.clock)
    again = restarted.register("todo", POOL)
    user = restarted.user_pools.authentication.get_user(tokens.access_token)
    world.provider = restarted

    assert again == world.pool
    assert user.email == "alice@example.com"


def admin_created(world: World, temporary: str = "Temp0rary!") -> str:
    user = world.pools.administration.create_user(
        world.pool.pool_id, "bob@example.com", temporary=temporary, message_action="SUPPRESS"
    )
    return user.sub


def test_an_invited_user_must_choose_a_new_password_first(world: World) -> None:
    sub = admin_created(world)
    authentication = world.pools.authentication

    challenge = authentication.initiate_auth(
        world.client_id,
        "USER_PASSWORD_AUTH",
        {"USERNAME": "bob@example.com", "PASSWORD": "Temp0rary!"},
    )
    assert isinstance(challenge, NewPasswordChallenge)
    assert challenge.parameters["USER_ID_FOR_SRP"] == sub
    assert '"email": "bob@example.com"' in challenge.parameters["userAttributes"]

    tokens = authentication.respond_to_new_password(
        world.client_id,
        challenge.session,
        {
            "USERNAME": "bob@example.com",
            "NEW_PASSWORD": "Ch0sen-password",
            "userAttributes.name": "Bob",
        },
    )

    assert isinstance(tokens, Tokens)
    assert claims(world, tokens.id_token)["name"] == "Bob"
    assert world.sign_in("bob@example.com", "Ch0sen-password").access_token


def test_a_new_password_session_is_single_use_and_short_lived(world: World) -> None:
    admin_created(world)
    authentication = world.pools.authentication
    credentials = {"USERNAME": "bob@example.com", "PASSWORD": "Temp0rary!"}
    answer = {"USERNAME": "bob@example.com", "NEW_PASSWORD": "Ch0sen-password"}

    late = authentication.initiate_auth(world.client_id, "USER_PASSWORD_AUTH", credentials)
    assert isinstance(late, NewPasswordChallenge)
    world.clock.advance(minutes=3)
    with pytest.raises(NotAuthorized, match="session is expired"):
        authentication.respond_to_new_password(world.client_id, late.session, answer)

    fresh = authentication.initiate_auth(world.client_id, "USER_PASSWORD_AUTH", credentials)
    assert isinstance(fresh, NewPasswordChallenge)
    with pytest.raises(NotAuthorized, match="Invalid session for the user"):
        authentication.respond_to_new_password(world.client_id, "x" * 40, answer)
    authentication.respond_to_new_password(world.client_id, fresh.session, answer)
    with pytest.raises(NotAuthorized, match="Invalid session for the user"):
        authentication.respond_to_new_password(world.client_id, fresh.session, answer)


def test_a_temporary_password_expires_after_seven_days(world: World) -> None:
    admin_created(world)
    world.clock.advance(days=7)

    with pytest.raises(NotAuthorized, match="Temporary password has expired"):
        world.sign_in("bob@example.com", "Temp0rary!")


def test_the_operator_signs_users_in_with_the_admin_flows(world: World) -> None:
    world.confirmed_user()
    authentication = world.pools.authentication
    credentials = {"USERNAME": "alice@example.com", "PASSWORD": PASSWORD}
    pool_id = world.pool.pool_id

    for flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
        outcome = authentication.admin_initiate_auth(pool_id, world.client_id, flow, credentials)
        assert isinstance(outcome, Tokens)
    with pytest.raises(InvalidParameter, match="Auth flow not enabled for this client"):
        authentication.admin_initiate_auth(
            pool_id, world.pool.client_ids["refresh-only"], "ADMIN_USER_PASSWORD_AUTH", credentials
        )
    with pytest.raises(InvalidParameter, match="Initiate Auth method not supported"):
        authentication.admin_initiate_auth(
            pool_id, world.client_id, "USER_PASSWORD_AUTH", credentials
        )
    with pytest.raises(ResourceNotFound, match="User pool us-east-1_nothere0 does not exist"):
        authentication.admin_initiate_auth(
            "us-east-1_nothere0", world.client_id, "ADMIN_USER_PASSWORD_AUTH", credentials
        )
