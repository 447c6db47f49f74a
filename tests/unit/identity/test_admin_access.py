"""IAM authorization of the user pools' admin operations (sessions, expiry, root)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overcast import policies
from overcast.local.auth.sigv4 import Credentials
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.roles import Role, Roles, role_arn
from overcast.local.iam.sessions import SessionStore
from overcast.local.identity.admin_access import AccessDenied, AdminAccess, ExpiredToken

ROOT = Credentials("AKIAOVERCASTROOT0001", "root-secret")
POOL = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_abc"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def setup(tmp_path: Path) -> tuple[SessionStore, AdminAccess, Clock, Roles]:
    clock = Clock()
    roles = Roles()
    store = SessionStore(
        tmp_path / "sessions.sqlite3", roles, root=ROOT, account_id="000000000000", clock=clock
    )
    return store, AdminAccess(store.lookup, PolicyEvaluator(clock), clock), clock, roles


def _role(roles: Roles, name: str, pools: list[str]) -> Role:
    document = policies.function_policy(user_pool_arns=pools)
    role = Role(
        name,
        role_arn("000000000000", name),
        (Policy.parse(document),) if document["Statement"] else (),
        Policy.parse(policies.lambda_trust_policy()),
    )
    roles.add(role)
    return role


def test_a_session_whose_role_grants_the_pool_is_allowed_until_it_expires(
    setup: tuple[SessionStore, AdminAccess, Clock, Roles],
) -> None:
    store, access, clock, roles = setup
    session = store.issue(
        _role(roles, "fn", [POOL]), session_name="fn", context={}, duration_seconds=60
    )
    key = session.credentials.access_key_id

    access.authorize(key, "AdminCreateUser", POOL)
    clock.now += timedelta(seconds=61)

    with pytest.raises(ExpiredToken):
        access.authorize(key, "AdminCreateUser", POOL)
    assert access.credentials(key) == session.credentials


def test_a_role_without_the_pool_is_denied_and_root_is_allowed(
    setup: tuple[SessionStore, AdminAccess, Clock, Roles],
) -> None:
    store, access, _, roles = setup
    session = store.issue(
        _role(roles, "other", []), session_name="other", context={}, duration_seconds=60
    )

    with pytest.raises(AccessDenied, match="cognito-idp:AdminInitiateAuth"):
        access.authorize(session.credentials.access_key_id, "AdminInitiateAuth", POOL)
    access.authorize(ROOT.access_key_id, "AdminInitiateAuth", POOL)
    assert access.credentials("ASIAUNKNOWN000000000") is None
