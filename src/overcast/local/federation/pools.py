"""The registered identity pools, as the operations look them up.

An identity pool id looks like Cognito's, ``<region>:<uuid>``; its ARN is
``arn:aws:cognito-identity:<region>:<account>:identitypool/<id>``. Each local pool
trusts one user pool (every app client of it) and has one authenticated role;
guests are not enabled. Only pools registered in this process exist for clients:
an unknown id is ``ResourceNotFoundException: IdentityPool '<id>' not found.``
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from overcast.local.federation.errors import ResourceNotFound
from overcast.local.federation.logins import LoginProvider
from overcast.local.iam.roles import Role


def new_identity_pool_id(region: str) -> str:
    return f"{region}:{uuid.uuid4()}"


@dataclass(frozen=True)
class ActiveIdentityPool:
    """A registered identity pool: ids, login providers (by name) and its role."""

    pool_id: str
    name: str
    arn: str
    providers: Mapping[str, LoginProvider]
    role: Role


class IdentityPoolDirectory:
    """Finds registered identity pools by id, and lists them."""

    def __init__(self) -> None:
        self._pools: dict[str, ActiveIdentityPool] = {}

    def add(self, pool: ActiveIdentityPool) -> None:
        self._pools[pool.pool_id] = pool

    def pool(self, pool_id: str) -> ActiveIdentityPool:
        found = self._pools.get(pool_id)
        if found is None:
            raise ResourceNotFound(f"IdentityPool '{pool_id}' not found.")
        return found

    def find(self, pool_id: str) -> ActiveIdentityPool | None:
        return self._pools.get(pool_id)

    def all(self) -> list[ActiveIdentityPool]:
        """Every pool, ordered by id (the order ``ListIdentityPools`` pages through)."""
        return sorted(self._pools.values(), key=lambda pool: pool.pool_id)
