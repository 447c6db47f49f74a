"""Identity pool operations without HTTP: identities, OpenID tokens and credentials.

What Cognito Identity does, for pools that trust a user pool and have no guests:

- ``GetId``: the logins are verified (see ``logins.py``); the identity of that
  user in that pool is created the first time and is the same ever after. No
  logins at all is a guest: ``NotAuthorizedException: Unauthenticated access is
  not supported for this identity pool.``
- ``GetOpenIdToken`` and ``GetCredentialsForIdentity`` name an identity, which
  must exist (``ResourceNotFoundException: Identity '<id>' not found.``) and be
  proven with its logins: none is ``Access to Identity '<id>' is forbidden.``,
  another user's ``Logins don't match. ...``.
- ``GetCredentialsForIdentity`` (the enhanced flow) assumes the pool's
  authenticated role with the session name ``CognitoIdentityCredentials``, as
  Cognito does through STS: a role whose trust policy does not trust the pool is
  ``InvalidIdentityPoolConfigurationException``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from overcast.local.federation import errors
from overcast.local.federation.errors import (
    InvalidIdentityPoolConfiguration,
    InvalidParameter,
    NotAuthorized,
    ResourceNotFound,
)
from overcast.local.federation.logins import VerifiedLogin
from overcast.local.federation.openid import OpenIdClaims, OpenIdTokens, sign_in_amr
from overcast.local.federation.pools import (
    ActiveIdentityPool,
    IdentityPoolDirectory,
    new_identity_pool_id,
)
from overcast.local.federation.store import Identity, IdentityStore
from overcast.local.federation.trust import WebIdentityTrust
from overcast.local.iam.principals import Session

SESSION_NAME = "CognitoIdentityCredentials"


class IdentityPools:
    """The identity pool operations; ``credential_seconds`` is the credentials' lifetime."""

    def __init__(
        self,
        directory: IdentityPoolDirectory,
        store: IdentityStore,
        tokens: OpenIdTokens,
        trust: WebIdentityTrust,
        clock: Callable[[], datetime],
        credential_seconds: int,
    ) -> None:
        self.directory = directory
        self._store = store
        self._tokens = tokens
        self._trust = trust
        self._clock = clock
        self._credential_seconds = credential_seconds

    def get_id(self, pool_id: str, logins: Mapping[str, str] | None) -> str:
        """The identity id of the user the logins prove, created on first use."""
        pool = self.directory.pool(pool_id)
        login = self._verified(pool, logins)
        region = pool.pool_id.partition(":")[0]
        return self._store.identity_id(
            pool.pool_id,
            login.provider,
            login.subject,
            lambda: new_identity_pool_id(region),  # identity ids have the same form
            self._clock(),
        )

    def open_id_token(self, identity_id: str, logins: Mapping[str, str] | None) -> str:
        """An OpenID token for the identity (the basic flow's first step)."""
        pool, identity = self._proven(identity_id, logins)
        return self._tokens.issue(pool.pool_id, identity_id, _amr(identity))

    def credentials(
        self,
        identity_id: str,
        logins: Mapping[str, str] | None,
        custom_role_arn: str | None = None,
    ) -> Session:
        """Temporary credentials of the pool's authenticated role for the identity."""
        pool, identity = self._proven(identity_id, logins)
        if custom_role_arn is not None and custom_role_arn != pool.role.arn:
            # Cognito picks among roles only with role mappings, which local pools lack.
            raise InvalidParameter(
                "CustomRoleArn is only allowed with rules-based role mapping, which this "
                "identity pool does not have."
            )
        claims = OpenIdClaims(pool.pool_id, identity_id, _amr(identity))
        if not self._trust.trusts(pool.role, claims):
            raise InvalidIdentityPoolConfiguration()
        return self._trust.assume(
            pool.role,
            claims,
            session_name=SESSION_NAME,
            duration_seconds=self._credential_seconds,
        )

    def _verified(
        self, pool: ActiveIdentityPool, logins: Mapping[str, str] | None
    ) -> VerifiedLogin:
        if not logins:
            raise NotAuthorized(errors.UNAUTHENTICATED)
        now = self._clock().timestamp()
        verified: list[VerifiedLogin] = []
        for name, token in logins.items():
            provider = pool.providers.get(name)
            if provider is None:
                raise NotAuthorized(errors.UNSUPPORTED_PROVIDER)
            verified.append(provider.verify(token, now))
        return verified[0]

    def _proven(
        self, identity_id: str, logins: Mapping[str, str] | None
    ) -> tuple[ActiveIdentityPool, Identity]:
        identity = self._store.identity(identity_id)
        pool = self.directory.find(identity.pool_id) if identity else None
        if identity is None or pool is None:
            raise ResourceNotFound(f"Identity '{identity_id}' not found.")
        if not logins:
            raise NotAuthorized(errors.identity_forbidden(identity_id))
        login = self._verified(pool, logins)
        if (login.provider, login.subject) != (identity.provider, identity.subject):
            raise NotAuthorized(errors.LOGINS_MISMATCH)
        return pool, identity


def _amr(identity: Identity) -> tuple[str, ...]:
    return sign_in_amr(identity.provider, identity.subject)
