"""Registering pools: Cognito-like ids, stable across restarts, every declared flow served."""

from __future__ import annotations

import re
from pathlib import Path

from overcast import spec
from overcast.local.identity.srp_sign_in import PasswordVerifierChallenge
from overcast.ports.mail.memory import MemoryMailer
from tests.unit.identity.conftest import POOL, FakeClock, World, build_provider


def test_ids_arn_and_issuer_look_like_cognitos(world: World) -> None:
    pool = world.pool

    assert re.fullmatch(r"us-east-1_[A-Za-z0-9]{9}", pool.pool_id)
    assert all(re.fullmatch(r"[a-z0-9]{26}", cid) for cid in pool.client_ids.values())
    assert pool.arn == f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool.pool_id}"
    assert pool.issuer == f"https://127.0.0.1:4566/{pool.pool_id}"
    (key,) = pool.jwks["keys"]
    assert (key["kty"], key["alg"], key["use"], key["e"]) == ("RSA", "RS256", "sig", "AQAB")
    assert "d" not in key


def test_registering_again_gives_the_same_pool(world: World) -> None:
    assert world.provider.register("todo", POOL) == world.pool


def test_each_service_and_pool_gets_its_own_ids_and_key(world: World) -> None:
    other = world.provider.register("blog", POOL)

    assert other.pool_id != world.pool.pool_id
    assert set(other.client_ids.values()).isdisjoint(world.pool.client_ids.values())
    assert other.jwks != world.pool.jwks


def test_a_pool_is_stable_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "userpools.sqlite3"
    first = build_provider(path, MemoryMailer(), FakeClock())
    before = first.register("todo", POOL)
    first.close()

    second = build_provider(path, MemoryMailer(), FakeClock())
    after = second.register("todo", POOL)
    second.close()

    assert after == before


def test_a_client_enabling_only_srp_is_served(world: World) -> None:
    srp = spec.UserPool("srp", clients=(spec.UserPoolClient("app", auth_flows=("USER_SRP_AUTH",)),))

    registered = world.provider.register("todo", srp)

    assert set(registered.client_ids) == {"app"}
    challenge = world.pools.authentication.initiate_auth(
        registered.client_ids["app"], "USER_SRP_AUTH", {"USERNAME": "a@example.com", "SRP_A": "2"}
    )
    assert isinstance(challenge, PasswordVerifierChallenge)
