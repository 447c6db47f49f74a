"""USER_SRP_AUTH, as Cognito answers it, driven by pycognito's client maths."""

from __future__ import annotations

import base64
import re
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from pycognito.aws_srp import AWSSRP

from overcast.local.identity import srp
from overcast.local.identity.authentication import NewPasswordChallenge
from overcast.local.identity.errors import InvalidParameter, NotAuthorized, UserNotConfirmed
from overcast.local.identity.records import User
from overcast.local.identity.srp_sign_in import PasswordVerifierChallenge
from overcast.local.identity.store import UserPoolStore
from overcast.local.identity.tokens import Tokens
from overcast.ports.mail.memory import MemoryMailer
from tests.unit.identity.conftest import PASSWORD, POOL, World, build_provider
from tests.unit.identity.srp_client import proof, srp_client, start

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
CHALLENGE_PARAMETERS = {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"}


@pytest.fixture(autouse=True)
def wall_clock(world: World) -> None:
    """pycognito signs with the wall clock: start the fake clock there."""
    world.clock.now = datetime.now(UTC).replace(microsecond=0)


def client(world: World, email: str = "alice@example.com", password: str = PASSWORD) -> AWSSRP:
    return srp_client(world.pool.pool_id, email, password)


def challenge_for(world: World, aws: AWSSRP) -> dict[str, str]:
    outcome = world.pools.authentication.initiate_auth(world.client_id, "USER_SRP_AUTH", start(aws))
    assert isinstance(outcome, PasswordVerifierChallenge)
    return dict(outcome.parameters)


def respond(world: World, responses: dict[str, str], client_id: str | None = None) -> Any:
    authentication = world.pools.authentication
    return authentication.respond_to_password_verifier(client_id or world.client_id, responses)


def srp_sign_in(world: World, email: str = "alice@example.com", password: str = PASSWORD) -> Any:
    aws = client(world, email, password)
    challenge = challenge_for(world, aws)
    return respond(world, aws.process_challenge(challenge, start(aws)))


def now_stamp(world: World, **shift: float) -> str:
    return srp.format_timestamp(world.clock.now + timedelta(**shift))


def stored_user(world: World, email: str = "alice@example.com") -> User:
    return world.pools.administration.get_user(world.pool.pool_id, email)


def test_a_user_signs_in_with_srp_and_gets_tokens_for_their_sub(world: World) -> None:
    sub = world.confirmed_user()
    aws = client(world)

    challenge = challenge_for(world, aws)
    tokens = respond(world, aws.process_challenge(challenge, start(aws)))

    assert set(challenge) == CHALLENGE_PARAMETERS
    assert challenge["USER_ID_FOR_SRP"] == challenge["USERNAME"] == sub
    assert isinstance(tokens, Tokens)
    keys = KeySet.import_key_set(dict(world.pool.jwks))
    claims = jwt.decode(tokens.id_token, keys, algorithms=["RS256"]).claims
    assert (claims["sub"], claims["email"], claims["aud"]) == (
        sub,
        "alice@example.com",
        world.client_id,
    )
    assert tokens.refresh_token


def test_a_user_keeps_their_salt_and_gets_a_new_b_each_time(world: World) -> None:
    world.confirmed_user()

    first, second = challenge_for(world, client(world)), challenge_for(world, client(world))

    assert first["SALT"] == second["SALT"]
    assert first["SRP_B"] != second["SRP_B"]
    assert first["SECRET_BLOCK"] != second["SECRET_BLOCK"]


def test_a_wrong_password_is_an_incorrect_username_or_password(world: World) -> None:
    world.confirmed_user()

    with pytest.raises(NotAuthorized, match=r"^Incorrect username or password\.$"):
        srp_sign_in(world, password="Wr0ng-password")


def test_an_unknown_user_gets_a_stable_stand_in_challenge_and_the_same_answer(
    world: World,
) -> None:
    aws = client(world, "nobody@example.com")

    first = challenge_for(world, aws)
    again = challenge_for(world, client(world, "NOBODY@example.com"))
    other = challenge_for(world, client(world, "someone@example.com"))

    assert set(first) == CHALLENGE_PARAMETERS
    assert UUID.fullmatch(first["USER_ID_FOR_SRP"])
    assert first["USERNAME"] == first["USER_ID_FOR_SRP"]
    assert (again["SALT"], again["USER_ID_FOR_SRP"]) == (first["SALT"], first["USER_ID_FOR_SRP"])
    assert (other["SALT"], other["USER_ID_FOR_SRP"]) != (first["SALT"], first["USER_ID_FOR_SRP"])
    with pytest.raises(NotAuthorized, match=r"^Incorrect username or password\.$"):
        respond(world, aws.process_challenge(first, start(aws)))


def test_the_stand_in_challenge_survives_a_restart(world: World, tmp_path: Path) -> None:
    before = challenge_for(world, client(world, "nobody@example.com"))
    world.provider.close()

    world.provider = build_provider(tmp_path / "userpools.sqlite3", MemoryMailer(), world.clock)
    world.provider.register("todo", POOL)
    after = challenge_for(world, client(world, "nobody@example.com"))

    assert (after["SALT"], after["USER_ID_FOR_SRP"]) == (before["SALT"], before["USER_ID_FOR_SRP"])


def test_a_secret_block_answers_once(world: World) -> None:
    world.confirmed_user()
    aws = client(world)
    responses = aws.process_challenge(challenge_for(world, aws), start(aws))

    assert isinstance(respond(world, responses), Tokens)
    with pytest.raises(NotAuthorized, match="Incorrect username or password"):
        respond(world, responses)


def test_a_secret_block_expires_after_three_minutes(world: World) -> None:
    world.confirmed_user()
    aws = client(world)
    challenge = challenge_for(world, aws)

    world.clock.advance(minutes=3)

    with pytest.raises(NotAuthorized, match="Incorrect username or password"):
        respond(world, proof(aws, challenge, now_stamp(world)))


def test_a_forged_or_foreign_secret_block_is_refused(world: World) -> None:
    world.confirmed_user()
    world.confirmed_user("bob@example.com")
    aws = client(world)
    other_client = world.pool.client_ids["refresh-only"]
    forged = {**challenge_for(world, aws), "SECRET_BLOCK": base64.b64encode(b"f" * 64).decode()}
    bobs = client(world, "bob@example.com")
    bobs_challenge = challenge_for(world, bobs)

    attempts = [
        proof(aws, forged, now_stamp(world)),
        {
            **proof(aws, challenge_for(world, aws), now_stamp(world)),
            "PASSWORD_CLAIM_SECRET_BLOCK": "!!",
        },
        {**proof(bobs, bobs_challenge, now_stamp(world)), "USERNAME": "alice@example.com"},
    ]
    for responses in attempts:
        with pytest.raises(NotAuthorized, match="Incorrect username or password"):
            respond(world, responses)
    with pytest.raises(NotAuthorized):
        respond(world, proof(aws, challenge_for(world, aws), now_stamp(world)), other_client)


@pytest.mark.parametrize(
    "timestamp",
    [
        "Sat Sep 5 07:02:08 UTC 2026",  # six minutes old
        "Sat Sep 5 07:14:10 UTC 2026",  # six minutes ahead
        "Sat Sep 05 07:08:09 UTC 2026",  # zero-padded day
        "Fri Sep 5 07:08:09 UTC 2026",  # wrong weekday
        "2026-09-05T07:08:09Z",
    ],
)
def test_a_proof_with_a_stale_or_malformed_timestamp_is_refused(
    world: World, timestamp: str
) -> None:
    world.clock.now = datetime(2026, 9, 5, 7, 8, 9, tzinfo=UTC)
    world.confirmed_user()
    aws = client(world)
    challenge = challenge_for(world, aws)

    with pytest.raises(NotAuthorized, match="Incorrect username or password"):
        respond(world, proof(aws, challenge, timestamp))
    assert stored_user(world).failed_sign_ins == 1


def test_a_timestamp_a_little_off_the_servers_clock_is_accepted(world: World) -> None:
    world.confirmed_user()
    aws = client(world)
    challenge = challenge_for(world, aws)

    assert isinstance(respond(world, proof(aws, challenge, now_stamp(world, minutes=-4))), Tokens)


def test_wrong_srp_proofs_count_toward_the_lockout(world: World) -> None:
    world.confirmed_user()
    for _ in range(5):
        with pytest.raises(NotAuthorized, match="Incorrect username or password"):
            srp_sign_in(world, password="Wr0ng-password")

    with pytest.raises(NotAuthorized, match="Password attempts exceeded"):
        srp_sign_in(world)
    with pytest.raises(NotAuthorized, match="Password attempts exceeded"):
        world.sign_in()
    world.clock.advance(seconds=1)
    assert isinstance(srp_sign_in(world), Tokens)
    assert stored_user(world).failed_sign_ins == 0


def test_an_unconfirmed_user_learns_it_only_with_the_right_password(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)

    with pytest.raises(NotAuthorized):
        srp_sign_in(world, password="Wr0ng-password")
    with pytest.raises(UserNotConfirmed):
        srp_sign_in(world)


def test_an_invited_user_chooses_a_password_after_proving_the_temporary_one(
    world: World,
) -> None:
    administration = world.pools.administration
    administration.create_user(
        world.pool.pool_id, "bob@example.com", temporary="Temp0rary!", message_action="SUPPRESS"
    )
    aws = client(world, "bob@example.com", "Temp0rary!")
    challenge = challenge_for(world, aws)

    answered = respond(world, aws.process_challenge(challenge, start(aws)))
    assert isinstance(answered, NewPasswordChallenge)
    world.pools.authentication.respond_to_new_password(
        world.client_id,
        answered.session,
        {"USERNAME": challenge["USERNAME"], "NEW_PASSWORD": "Ch0sen-password"},
    )

    assert isinstance(srp_sign_in(world, "bob@example.com", "Ch0sen-password"), Tokens)
    with pytest.raises(NotAuthorized):
        srp_sign_in(world, "bob@example.com", "Temp0rary!")


def test_a_password_changed_during_the_handshake_voids_it(world: World) -> None:
    world.confirmed_user()
    aws = client(world)
    challenge = challenge_for(world, aws)

    world.pools.administration.set_user_password(
        world.pool.pool_id, "alice@example.com", PASSWORD, permanent=True
    )

    with pytest.raises(NotAuthorized):
        respond(world, proof(aws, challenge, now_stamp(world)))


def verifier_fits(user: User, password: str) -> bool:
    verifier = srp.Verifier.decode(user.srp_verifier)
    assert verifier is not None
    pool = srp.pool_name(user.pool_id)
    return verifier == srp.new_verifier(pool, user.sub, password, salt=verifier.salt)


def test_every_way_to_set_a_password_stores_its_verifier(world: World) -> None:
    pool_id = world.pool.pool_id
    registration, administration = world.pools.registration, world.pools.administration
    world.confirmed_user()
    assert verifier_fits(stored_user(world), PASSWORD)

    registration.forgot_password(world.client_id, "alice@example.com")
    registration.confirm_forgot_password(
        world.client_id, "alice@example.com", world.last_code(), "F0rgotten-pass"
    )
    assert verifier_fits(stored_user(world), "F0rgotten-pass")
    administration.set_user_password(pool_id, "alice@example.com", "Perm4nent-pass", True)
    assert verifier_fits(stored_user(world), "Perm4nent-pass")
    administration.set_user_password(pool_id, "alice@example.com", "Temp0rary-pass", False)
    assert verifier_fits(stored_user(world), "Temp0rary-pass")

    administration.create_user(pool_id, "bob@example.com", temporary="Inv1ted-pass")
    assert verifier_fits(stored_user(world, "bob@example.com"), "Inv1ted-pass")
    administration.create_user(
        pool_id, "bob@example.com", temporary="Res3nt-pass", message_action="RESEND"
    )
    assert verifier_fits(stored_user(world, "bob@example.com"), "Res3nt-pass")
    invited = world.pools.authentication.initiate_auth(
        world.client_id,
        "USER_PASSWORD_AUTH",
        {"USERNAME": "bob@example.com", "PASSWORD": "Res3nt-pass"},
    )
    assert isinstance(invited, NewPasswordChallenge)
    world.pools.authentication.respond_to_new_password(
        world.client_id,
        invited.session,
        {"USERNAME": "bob@example.com", "NEW_PASSWORD": "Ch0sen-pass"},
    )
    assert verifier_fits(stored_user(world, "bob@example.com"), "Ch0sen-pass")


def test_a_user_from_before_srp_gets_a_verifier_at_their_next_password_sign_in(
    world: World, tmp_path: Path
) -> None:
    sub = world.confirmed_user()
    store = UserPoolStore(tmp_path / "userpools.sqlite3")
    store.update_user(world.pool.pool_id, sub, lambda user: replace(user, srp_verifier=None))
    store.close()

    with pytest.raises(NotAuthorized, match="Incorrect username or password"):
        srp_sign_in(world)
    assert stored_user(world).failed_sign_ins == 1
    world.sign_in()

    assert verifier_fits(stored_user(world), PASSWORD)
    assert isinstance(srp_sign_in(world), Tokens)


def test_a_store_written_before_srp_opens_with_its_users_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE users (pool_id TEXT NOT NULL, sub TEXT NOT NULL, email TEXT NOT NULL, "
            "email_key TEXT NOT NULL, status TEXT NOT NULL, email_verified INTEGER NOT NULL, "
            "password_hash TEXT NOT NULL, created_at REAL NOT NULL, modified_at REAL NOT NULL, "
            "attributes TEXT NOT NULL, password_expires_at REAL, failed_sign_ins INTEGER NOT NULL, "
            "last_failed_at REAL, locked_until REAL, PRIMARY KEY (pool_id, sub), "
            "UNIQUE (pool_id, email_key))"
        )
        old.execute(
            "INSERT INTO users VALUES ('p_1', 's', 'a@example.com', 'a@example.com', 'CONFIRMED', "
            "1, 'scrypt$...', 0, 0, '{}', NULL, 0, NULL, NULL)"
        )
    old.close()

    store = UserPoolStore(path)
    user = store.user_by_sub("p_1", "s")
    store.close()

    assert user is not None
    assert (user.email, user.srp_verifier) == ("a@example.com", None)


@pytest.mark.parametrize("srp_a", ["0", f"{srp.N:x}", f"{3 * srp.N:x}", "xyz", "-5", "1" * 800])
def test_an_unusable_srp_a_is_refused(world: World, srp_a: str) -> None:
    world.confirmed_user()

    with pytest.raises(InvalidParameter, match="SRP_A"):
        world.pools.authentication.initiate_auth(
            world.client_id, "USER_SRP_AUTH", {"USERNAME": "alice@example.com", "SRP_A": srp_a}
        )


def test_missing_parameters_are_named(world: World) -> None:
    authentication = world.pools.authentication

    with pytest.raises(InvalidParameter, match="Missing required parameter SRP_A"):
        authentication.initiate_auth(world.client_id, "USER_SRP_AUTH", {"USERNAME": "a@b.co"})
    with pytest.raises(InvalidParameter, match="Missing required parameter TIMESTAMP"):
        respond(
            world,
            {
                "USERNAME": "a@b.co",
                "PASSWORD_CLAIM_SECRET_BLOCK": "AAAA",
                "PASSWORD_CLAIM_SIGNATURE": "AAAA",
            },
        )


def test_the_verifier_is_never_shown(world: World) -> None:
    world.confirmed_user()
    user = stored_user(world)

    assert user.srp_verifier is not None
    assert user.srp_verifier not in repr(user)
    assert user.password_hash not in repr(user)
