"""The local cloud's Cognito-compatible user pools: what ``overcast up`` composes.

:class:`IdentityProvider` owns the store, registers each declared pool (creating
its ids and signing key the first time and reading them back afterwards, so ids
and tokens are stable across restarts) and serves every pool through one ASGI app.

Ids look like Cognito's: a pool id is ``<region>_<9 alphanumerics>``, an app
client id 26 lowercase alphanumerics; the pool's ARN is
``arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>`` and its issuer
``<public base URL>/<pool id>``.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from overcast import spec
from overcast.local.auth.sigv4 import Credentials, SigV4Verifier
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.identity.admin_access import AdminAccess, SessionLookup
from overcast.local.identity.administration import Administration
from overcast.local.identity.authentication import Authentication
from overcast.local.identity.context import IdentityContext
from overcast.local.identity.keys import SigningKey, new_private_jwk
from overcast.local.identity.operations import UserPools
from overcast.local.identity.passwords import ScryptCost, SecretHasher
from overcast.local.identity.pools import ActivePool, PoolDirectory
from overcast.local.identity.protocol import CognitoProtocol
from overcast.local.identity.registration import Registration
from overcast.local.identity.store import UserPoolStore
from overcast.ports.mail import Mailer

SERVICE = "cognito-idp"


@dataclass(frozen=True)
class RegisteredPool:
    """A pool as the rest of the local cloud sees it (gateway authorizers, ``overcast env``)."""

    service: str
    name: str
    pool_id: str
    arn: str
    issuer: str
    client_ids: Mapping[str, str]  # client name -> client id
    jwks: Mapping[str, Any]


def new_pool_id(region: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return f"{region}_" + "".join(secrets.choice(alphabet) for _ in range(9))


def new_client_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(26))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IdentityProvider:
    """Cognito user pools for the local cloud, persisted in one SQLite file.

    ``password_cost`` lowers scrypt's cost for tests, and ``hasher`` replaces the
    hasher outright (tests hold it to interleave threads); leave both unset otherwise.
    ``sessions`` finds the session of an access key (root and temporary ones): with
    it, admin operations accept any valid session and are authorized by its IAM
    policies; without it, only ``root_credentials`` may call them.
    """

    def __init__(
        self,
        store_path: Path,
        mailer: Mailer,
        *,
        public_base_url: str,
        region: str,
        root_credentials: Credentials,
        clock: Callable[[], datetime] = _utc_now,
        account_id: str = "000000000000",
        password_cost: ScryptCost | None = None,
        hasher: SecretHasher | None = None,
        sessions: SessionLookup | None = None,
    ) -> None:
        self._base_url = public_base_url.rstrip("/")
        self._region = region
        self._account_id = account_id
        self._store = UserPoolStore(store_path)
        self._directory = PoolDirectory()
        hasher = hasher or SecretHasher(password_cost)
        context = IdentityContext(self._store, self._directory, hasher, mailer, clock)
        self.user_pools = UserPools(
            Registration(context), Authentication(context), Administration(context)
        )
        access = None if sessions is None else AdminAccess(sessions, PolicyEvaluator(clock), clock)

        def credentials(key_id: str) -> Credentials | None:
            if access is not None:
                return access.credentials(key_id)
            return root_credentials if key_id == root_credentials.access_key_id else None

        verifier = SigV4Verifier(credentials, service=SERVICE, region=region, clock=clock)
        authorize = None if access is None else access.authorize
        self._app = CognitoProtocol(self.user_pools, self._directory, verifier, authorize)

    def register(self, service: str, pool: spec.UserPool) -> RegisteredPool:
        """Serve ``pool`` of ``service``; the same ids every time, across restarts."""
        pool_id = self._store.pool_id(service, pool.name, lambda: new_pool_id(self._region))
        client_ids = {
            client.name: self._store.client_id(pool_id, client.name, new_client_id)
            for client in pool.clients
        }
        key = SigningKey(self._store.signing_key(pool_id, new_private_jwk))
        secret = self._store.pool_secret(pool_id, lambda: secrets.token_hex(32))
        active = ActivePool(
            declaration=pool,
            pool_id=pool_id,
            arn=f"arn:aws:{SERVICE}:{self._region}:{self._account_id}:userpool/{pool_id}",
            issuer=f"{self._base_url}/{pool_id}",
            key=key,
            clients={client_ids[client.name]: client for client in pool.clients},
            secret=bytes.fromhex(secret),
        )
        self._directory.add(active)
        return RegisteredPool(
            service=service,
            name=pool.name,
            pool_id=pool_id,
            arn=active.arn,
            issuer=active.issuer,
            client_ids=client_ids,
            jwks=key.jwks(),
        )

    @property
    def asgi_app(self) -> ASGIApp:
        """The ``cognito-idp`` endpoint: JSON protocol and well-known documents."""
        return self._app

    def close(self) -> None:
        """Close the store."""
        self._store.close()
