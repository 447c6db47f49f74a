"""Registering identity pools: stable ids, the pool's role, and refused declarations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from overcast import spec
from overcast.local.auth.sigv4 import Credentials
from overcast.local.federation.provider import Federation, authenticated_role_name
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.roles import Roles
from overcast.local.iam.sessions import SessionStore
from overcast.local.identity.keys import SigningKey, new_private_jwk
from overcast.local.identity.provider import RegisteredPool
from overcast.policies import identity_pool_trust_policy, user_folder_policy

USERS = spec.UserPool("users")
FILES = spec.IdentityPool("files", USERS)
USER_POOL = RegisteredPool(
    service="todo",
    name="users",
    pool_id="us-east-1_Abc123xyz",
    arn="arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_Abc123xyz",
    issuer="https://127.0.0.1:4566/us-east-1_Abc123xyz",
    client_ids={"web": "3n4b5urk1ft4fl3mg5e62d9ado"},
    jwks=SigningKey(new_private_jwk()).jwks(),
)
FOLDERS = Policy.parse(user_folder_policy("todo-files"))


def utc_now() -> datetime:
    return datetime.now(UTC)


class Local:
    """A federation over files in one directory, reopened as often as asked."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.opened: list[tuple[Federation, SessionStore]] = []

    def open(self) -> tuple[Federation, Roles]:
        roles = Roles()
        sessions = SessionStore(
            self.directory / "sessions.sqlite3",
            roles,
            root=Credentials("AKIAROOTROOTROOT0001", "secret"),
            account_id="000000000000",
            clock=utc_now,
        )
        federation = Federation(
            self.directory / "identitypools.sqlite3",
            sessions,
            roles,
            PolicyEvaluator(utc_now),
            region="us-east-1",
            clock=utc_now,
        )
        self.opened.append((federation, sessions))
        return federation, roles


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    opened = Local(tmp_path)
    yield opened
    for federation, sessions in opened.opened:
        federation.close()
        sessions.close()


def test_a_pool_keeps_its_id_across_restarts_and_its_role_trusts_it(local: Local) -> None:
    federation, roles = local.open()
    first = federation.register("todo", FILES, USER_POOL, [FOLDERS])
    again, reopened_roles = local.open()

    second = again.register("todo", FILES, USER_POOL, [FOLDERS])

    assert second == first
    assert first.role_arn == "arn:aws:iam::000000000000:role/todo-files-authenticated"
    role = reopened_roles.get(first.role_arn)
    assert role is not None
    assert role.policies == (FOLDERS,)
    assert role.trust_policy == Policy.parse(identity_pool_trust_policy(first.id))
    assert roles.get(first.role_arn) is not None


def test_two_pools_get_two_ids_and_two_roles(local: Local) -> None:
    federation, _ = local.open()
    blog_users = replace(USER_POOL, service="blog")

    todo = federation.register("todo", FILES, USER_POOL, [FOLDERS])
    blog = federation.register("blog", FILES, blog_users, [])

    assert todo.id != blog.id
    assert todo.role_arn != blog.role_arn


def test_a_pool_given_a_user_pool_it_does_not_trust_is_refused(local: Local) -> None:
    federation, _ = local.open()
    elsewhere = spec.IdentityPool("files", spec.UserPool("authors"))

    with pytest.raises(spec.DeclarationError, match="trusts user pool 'authors'"):
        federation.register("todo", elsewhere, USER_POOL, [])


def test_a_role_name_longer_than_iam_allows_is_shortened_stably() -> None:
    service, pool = "a" * 40, "b" * 40

    name = authenticated_role_name(service, pool)

    assert len(name) == 64
    assert name == authenticated_role_name(service, pool)
    assert name != authenticated_role_name(service, "b" * 39 + "c")
    assert authenticated_role_name("todo", "files") == "todo-files-authenticated"
