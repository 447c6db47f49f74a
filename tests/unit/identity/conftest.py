"""A user pool provider built by its real constructor, with a fake clock and mailer,
and a hasher that can hold chosen secrets to interleave concurrent operations."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overcast import spec
from overcast.local.auth import Credentials
from overcast.local.identity import IdentityProvider, RegisteredPool
from overcast.local.identity.errors import CognitoError
from overcast.local.identity.operations import UserPools
from overcast.local.identity.passwords import ScryptCost, SecretHasher
from overcast.local.identity.tokens import Tokens
from overcast.ports.mail.memory import MemoryMailer

CHEAP = ScryptCost(n=2**4, r=1, p=1)
ROOT = Credentials("AKIAOVERCASTTEST0001", "root-secret")
PASSWORD = "Corr3ct-horse"
POOL = spec.UserPool(
    "users",
    clients=(
        spec.UserPoolClient(
            "web",
            auth_flows=(
                "USER_PASSWORD_AUTH",
                "USER_SRP_AUTH",
                "REFRESH_TOKEN_AUTH",
                "ADMIN_USER_PASSWORD_AUTH",
            ),
        ),
        spec.UserPoolClient("refresh-only", auth_flows=("REFRESH_TOKEN_AUTH",)),
    ),
    verification_subject="Your code",
    verification_message="Welcome! Your code is {####}.",
)


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class GatedHasher(SecretHasher):
    """The real hasher, except that hashing or checking a held secret waits for ``open``.

    ``waiting`` counts the calls that reached the gate since ``hold``.
    """

    def __init__(self) -> None:
        self._held: frozenset[str] = frozenset()
        self._gate = threading.Event()
        self._lock = threading.Lock()
        self.waiting = 0
        super().__init__(CHEAP)

    def hold(self, *secrets: str) -> None:
        self._held = frozenset(secrets)
        self.waiting = 0
        self._gate.clear()

    def open(self) -> None:
        self._gate.set()

    def hash(self, secret: str) -> str:
        self._pass(secret)
        return super().hash(secret)

    def verify(self, secret: str, encoded: str) -> bool:
        self._pass(secret)
        return super().verify(secret, encoded)

    def _pass(self, secret: str) -> None:
        if secret in self._held:
            with self._lock:
                self.waiting += 1
            if not self._gate.wait(10):
                raise TimeoutError("the hasher's gate was never opened")


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.005)


def outcome(call: Callable[[], object]) -> str:
    """``ok``, or the Cognito error ``call`` raised, as ``Code: message``."""
    try:
        call()
    except CognitoError as error:
        return f"{error.code}: {error.message}"
    return "ok"


@dataclass
class World:
    provider: IdentityProvider
    mailer: MemoryMailer
    clock: FakeClock
    pool: RegisteredPool
    hasher: GatedHasher

    @property
    def pools(self) -> UserPools:
        return self.provider.user_pools

    @property
    def client_id(self) -> str:
        return self.pool.client_ids["web"]

    def last_code(self) -> str:
        match = re.search(r"\d{6}", self.mailer.sent[-1].text)
        assert match is not None
        return match.group()

    def confirmed_user(self, email: str = "alice@example.com", password: str = PASSWORD) -> str:
        result = self.pools.registration.sign_up(self.client_id, email, password)
        self.pools.registration.confirm_sign_up(self.client_id, email, self.last_code())
        return result.user_sub

    def sign_in(self, email: str = "alice@example.com", password: str = PASSWORD) -> Tokens:
        outcome = self.pools.authentication.initiate_auth(
            self.client_id, "USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": password}
        )
        assert isinstance(outcome, Tokens)
        return outcome


def build_provider(
    path: Path, mailer: MemoryMailer, clock: FakeClock, hasher: SecretHasher | None = None
) -> IdentityProvider:
    return IdentityProvider(
        path,
        mailer,
        public_base_url="https://127.0.0.1:4566/",
        region="us-east-1",
        root_credentials=ROOT,
        clock=clock,
        password_cost=CHEAP,
        hasher=hasher,
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    mailer = MemoryMailer()
    clock = FakeClock()
    hasher = GatedHasher()
    provider = build_provider(tmp_path / "userpools.sqlite3", mailer, clock, hasher)
    pool = provider.register("todo", POOL)
    yield World(provider, mailer, clock, pool, hasher)
    provider.close()
