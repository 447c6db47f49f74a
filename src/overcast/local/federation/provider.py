"""The local cloud's identity pools and STS: what ``overcast up`` composes.

:class:`Federation` owns the identity pools' store, registers each declared pool
(its id created the first time and read back afterwards, so ids are stable
across restarts), creates the pool's authenticated role, and serves two ASGI
apps: Cognito Identity's JSON protocol and STS's query protocol.

The role of a pool is ``arn:aws:iam::<account>:role/<service>-<pool>-authenticated``
with the declarations' policies (e.g. a bucket's per-user folders) and Cognito's
documented trust policy for the pool (``overcast.policies``). Sessions live in the
:class:`SessionStore` given, which S3 shares to authenticate requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.types import ASGIApp

from overcast import spec
from overcast.local.auth.sigv4 import Credentials, SigV4Verifier
from overcast.local.federation.identities import IdentityPools
from overcast.local.federation.logins import LoginProvider, provider_name
from overcast.local.federation.openid import OpenIdTokens
from overcast.local.federation.pools import (
    ActiveIdentityPool,
    IdentityPoolDirectory,
    new_identity_pool_id,
)
from overcast.local.federation.protocol import CognitoIdentityProtocol
from overcast.local.federation.store import IdentityStore
from overcast.local.federation.trust import WebIdentityTrust
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.roles import DEFAULT_MAX_SESSION_SECONDS, Role, Roles, role_arn
from overcast.local.iam.sessions import SessionStore
from overcast.local.identity.keys import SigningKey, new_private_jwk
from overcast.local.identity.provider import RegisteredPool
from overcast.local.sts.operations import SecurityTokenService
from overcast.local.sts.protocol import StsProtocol
from overcast.policies import identity_pool_trust_policy

SERVICE = "cognito-identity"
DEFAULT_CREDENTIAL_SECONDS = 3600  # Cognito's credentials last one hour
_ROLE_NAME_LIMIT = 64  # IAM role names: at most 64 characters


@dataclass(frozen=True)
class RegisteredIdentityPool:
    """An identity pool as the rest of the local cloud sees it."""

    id: str
    name: str
    role_arn: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


def authenticated_role_name(service: str, pool: str) -> str:
    """``<service>-<pool>-authenticated``, shortened with a digest past 64 characters."""
    name = f"{service}-{pool}-authenticated"
    if len(name) <= _ROLE_NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _ROLE_NAME_LIMIT - 9]}-{digest}"


class Federation:
    """Cognito identity pools and STS for the local cloud.

    ``credential_seconds`` is how long ``GetCredentialsForIdentity``'s credentials
    last (Cognito: one hour); tests shorten it.
    """

    def __init__(
        self,
        store_path: Path,
        sessions: SessionStore,
        roles: Roles,
        evaluator: PolicyEvaluator,
        *,
        region: str,
        account_id: str = "000000000000",
        clock: Callable[[], datetime] = _utc_now,
        credential_seconds: int = DEFAULT_CREDENTIAL_SECONDS,
    ) -> None:
        self._region = region
        self._account_id = account_id
        self._credential_seconds = credential_seconds
        self._roles = roles
        self._store = IdentityStore(store_path)
        self._directory = IdentityPoolDirectory()
        tokens = OpenIdTokens(SigningKey(self._store.signing_key("openid", new_private_jwk)), clock)
        trust = WebIdentityTrust(evaluator, sessions, account_id)
        self.identity_pools = IdentityPools(
            self._directory, self._store, tokens, trust, clock, credential_seconds
        )

        def root_only(access_key_id: str) -> Credentials | None:
            session = sessions.lookup(access_key_id)
            return session.credentials if session and session.principal.is_root else None

        verifier = SigV4Verifier(root_only, service=SERVICE, region=region, clock=clock)
        self._identity_app = CognitoIdentityProtocol(self.identity_pools, verifier)
        sts = SecurityTokenService(roles, tokens, trust)
        self._sts_app = StsProtocol(sts, sessions, region=region, clock=clock)

    def register(
        self,
        service: str,
        pool: spec.IdentityPool,
        user_pool: RegisteredPool,
        policies: Sequence[Policy],
    ) -> RegisteredIdentityPool:
        """Serve ``pool`` of ``service``, trusting ``user_pool``; its role gets ``policies``."""
        if (user_pool.service, user_pool.name) != (service, pool.user_pool.name):
            raise spec.DeclarationError(
                f"Service {service!r}: identity pool {pool.name!r} trusts user pool "
                f"{pool.user_pool.name!r}, but user pool {user_pool.name!r} of "
                f"{user_pool.service!r} was given."
            )
        pool_id = self._store.pool_id(
            service, pool.name, lambda: new_identity_pool_id(self._region)
        )
        name = authenticated_role_name(service, pool.name)
        role = Role(
            name=name,
            arn=role_arn(self._account_id, name),
            policies=tuple(policies),
            trust_policy=Policy.parse(identity_pool_trust_policy(pool_id)),
            max_session_seconds=max(DEFAULT_MAX_SESSION_SECONDS, self._credential_seconds),
        )
        provider = LoginProvider(
            provider_name(self._region, user_pool.pool_id),
            user_pool.issuer,
            user_pool.client_ids.values(),
            user_pool.jwks,
        )
        self._roles.add(role)
        self._directory.add(
            ActiveIdentityPool(
                pool_id=pool_id,
                name=pool.name,
                arn=f"arn:aws:{SERVICE}:{self._region}:{self._account_id}:identitypool/{pool_id}",
                providers={provider.name: provider},
                role=role,
            )
        )
        return RegisteredIdentityPool(id=pool_id, name=pool.name, role_arn=role.arn)

    @property
    def cognito_identity_app(self) -> ASGIApp:
        """The ``cognito-identity`` endpoint (JSON protocol)."""
        return self._identity_app

    @property
    def sts_app(self) -> ASGIApp:
        """The ``sts`` endpoint (query protocol)."""
        return self._sts_app

    def close(self) -> None:
        """Close the identity pools' store (the session store belongs to the caller)."""
        self._store.close()
