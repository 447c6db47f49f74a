"""The session store: temporary credentials, who they stand for, and how long."""

from __future__ import annotations

import re
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overcast.local.auth.sigv4 import Credentials
from overcast.local.iam.policy import Policy
from overcast.local.iam.roles import Role, Roles, role_arn
from overcast.local.iam.sessions import SessionStore
from overcast.policies import identity_pool_trust_policy, user_folder_policy

ACCOUNT = "123456789012"
ROOT = Credentials("AKIAROOTROOTROOT0001", "root-secret")
POOL_ID = "us-east-1:11111111-2222-3333-4444-555555555555"
IDENTITY = "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
OTHER_IDENTITY = "us-east-1:ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_role(name: str = "todo-files-authenticated", bucket: str = "todo-files") -> Role:
    return Role(
        name=name,
        arn=role_arn(ACCOUNT, name),
        policies=(Policy.parse(user_folder_policy(bucket)),),
        trust_policy=Policy.parse(identity_pool_trust_policy(POOL_ID)),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def roles() -> Roles:
    registry = Roles()
    registry.add(make_role())
    return registry


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "iam" / "sessions.sqlite3"


def open_store(path: Path, roles: Roles, clock: Clock) -> SessionStore:
    return SessionStore(path, roles, root=ROOT, account_id=ACCOUNT, clock=clock)


@pytest.fixture
def store(path: Path, roles: Roles, clock: Clock) -> SessionStore:
    return open_store(path, roles, clock)


def issue(store: SessionStore, identity: str = IDENTITY, seconds: int = 3600) -> Credentials:
    role = make_role()
    session = store.issue(
        role,
        session_name="CognitoIdentityCredentials",
        context={"cognito-identity.amazonaws.com:sub": identity},
        duration_seconds=seconds,
    )
    return session.credentials


def test_issued_credentials_look_like_sts_temporary_credentials(store: SessionStore) -> None:
    credentials = issue(store)

    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials.access_key_id)
    assert len(credentials.secret_access_key) == 40
    assert credentials.session_token is not None
    assert len(credentials.session_token) >= 300
    assert issue(store).access_key_id != credentials.access_key_id


def test_a_session_stands_for_the_assumed_role_of_its_identity(
    store: SessionStore, clock: Clock
) -> None:
    credentials = issue(store, seconds=900)

    session = store.lookup(credentials.access_key_id)

    assert session is not None
    assert session.credentials == credentials
    principal = session.principal
    role = make_role()
    assert principal.arn == role.arn
    assert principal.session_arn == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/todo-files-authenticated/CognitoIdentityCredentials"
    )
    assert re.fullmatch(r"AROA[A-Z2-7]{16}:CognitoIdentityCredentials", principal.user_id)
    assert principal.account_id == ACCOUNT
    assert not principal.is_root
    assert principal.policies == role.policies
    assert principal.context == {
        "cognito-identity.amazonaws.com:sub": IDENTITY,
        "aws:userid": principal.user_id,
    }
    assert session.expires_at == (clock.now + timedelta(seconds=900)).replace(microsecond=0)


def test_the_role_id_in_the_user_id_is_stable_for_a_role(store: SessionStore) -> None:
    first = store.lookup(issue(store).access_key_id)
    second = store.lookup(issue(store, OTHER_IDENTITY).access_key_id)

    assert first is not None

    assert second is not None
    assert first.principal.user_id == second.principal.user_id
    assert first.principal.user_id.startswith(make_role().unique_id + ":")


def test_root_credentials_are_the_account_root_and_never_expire(
    store: SessionStore, clock: Clock
) -> None:
    session = store.lookup(ROOT.access_key_id)

    assert session is not None
    assert session.credentials == ROOT
    assert session.principal.arn == f"arn:aws:iam::{ACCOUNT}:root"
    assert session.principal.is_root
    clock.advance(10 * 365 * 86400)
    assert not session.expired(clock.now)


def test_an_unknown_access_key_has_no_session(store: SessionStore) -> None:
    assert store.lookup("ASIAUNKNOWNUNKNOWN00") is None


def test_an_expired_session_is_still_found_and_knows_it_expired(
    store: SessionStore, clock: Clock
) -> None:
    credentials = issue(store, seconds=5)
    session = store.lookup(credentials.access_key_id)
    assert session is not None
    assert not session.expired(clock.now)

    clock.advance(6)

    expired = store.lookup(credentials.access_key_id)
    assert expired is not None
    assert expired.expired(clock.now)


def test_sessions_survive_a_new_store_on_the_same_file(
    store: SessionStore, path: Path, roles: Roles, clock: Clock
) -> None:
    credentials = issue(store)
    before = store.lookup(credentials.access_key_id)
    store.close()

    after = open_store(path, roles, clock).lookup(credentials.access_key_id)

    assert after is not None

    assert before is not None
    assert after.credentials == credentials
    assert after.principal == before.principal
    assert after.expires_at == before.expires_at


def test_role_policies_are_the_roles_at_lookup_time(
    store: SessionStore, roles: Roles, path: Path, clock: Clock
) -> None:
    credentials = issue(store)
    changed = Role(
        name="todo-files-authenticated",
        arn=make_role().arn,
        policies=(Policy.parse(user_folder_policy("elsewhere")),),
        trust_policy=make_role().trust_policy,
    )

    roles.add(changed)

    session = store.lookup(credentials.access_key_id)
    assert session is not None
    assert session.principal.policies == changed.policies
    store.close()
    unregistered = open_store(path, Roles(), clock).lookup(credentials.access_key_id)
    assert unregistered is not None
    assert unregistered.principal.policies == ()


def test_a_revoked_session_is_gone_even_after_a_restart(
    store: SessionStore, path: Path, roles: Roles, clock: Clock
) -> None:
    credentials = issue(store)
    kept = issue(store)

    assert store.revoke(credentials.access_key_id)

    assert store.lookup(credentials.access_key_id) is None
    assert not store.revoke(credentials.access_key_id)
    store.close()
    reopened = open_store(path, roles, clock)
    assert reopened.lookup(credentials.access_key_id) is None
    assert reopened.lookup(kept.access_key_id) is not None


def test_revoking_an_identity_revokes_its_sessions_only(store: SessionStore) -> None:
    mine = [issue(store), issue(store)]
    theirs = issue(store, OTHER_IDENTITY)

    assert store.revoke_identity(IDENTITY) == 2

    assert all(store.lookup(credentials.access_key_id) is None for credentials in mine)
    assert store.lookup(theirs.access_key_id) is not None


def test_long_expired_sessions_are_purged_and_recent_ones_kept(
    store: SessionStore, clock: Clock
) -> None:
    old = issue(store, seconds=900)
    clock.advance(900 + 86400 + 1)

    assert store.purge() == 1
    assert store.lookup(old.access_key_id) is None

    recent = issue(store, seconds=900)
    clock.advance(901)
    assert store.purge() == 0
    still = store.lookup(recent.access_key_id)
    assert still is not None
    assert still.expired(clock.now)


def test_issuing_purges_long_expired_sessions_now_and_then(
    store: SessionStore, clock: Clock
) -> None:
    old = issue(store, seconds=900)
    clock.advance(900 + 86400 + 1)

    issue(store)

    assert store.lookup(old.access_key_id) is None


def test_a_source_identity_becomes_a_condition_key(store: SessionStore) -> None:
    session = store.issue(
        make_role(),
        session_name="app",
        context={},
        duration_seconds=900,
        source_identity="alice",
    )

    found = store.lookup(session.credentials.access_key_id)
    assert found is not None
    assert found.principal.context["aws:SourceIdentity"] == "alice"


def test_the_database_file_is_readable_by_its_owner_only(store: SessionStore, path: Path) -> None:
    issue(store)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_known_session_is_looked_up_from_memory(store: SessionStore) -> None:
    credentials = issue(store)
    store.close()  # no SQLite from here on

    session = store.lookup(credentials.access_key_id)

    assert session is not None

    assert session.credentials == credentials


def test_sessions_issued_and_looked_up_from_many_threads(store: SessionStore) -> None:
    def round_trip(index: int) -> bool:
        credentials = issue(store, f"us-east-1:{index:08d}-0000-0000-0000-000000000000")
        session = store.lookup(credentials.access_key_id)
        return session is not None and session.credentials == credentials

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(round_trip, range(64)))
