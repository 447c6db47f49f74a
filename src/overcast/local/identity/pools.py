"""The registered user pools and their app clients, as the operations look them up.

Cognito finds the pool of the public operations through the app client id, and
answers an unknown one with ``ResourceNotFoundException: User pool client <id>
does not exist.``; the operator operations name the pool (``User pool <id> does
not exist.``). Only pools registered in this process are served: a pool that is
still in the store but no longer declared does not exist for clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from overcast import spec
from overcast.local.identity.errors import ResourceNotFound
from overcast.local.identity.keys import SigningKey


@dataclass(frozen=True)
class ActivePool:
    """A registered pool: its declaration, ids, issuer, key and clients (by id).

    ``secret`` is the pool's own random secret: it makes the stand-in SRP answers
    for unknown users stable (see ``srp_sign_in``).
    """

    declaration: spec.UserPool
    pool_id: str
    arn: str
    issuer: str
    key: SigningKey
    clients: Mapping[str, spec.UserPoolClient]
    secret: bytes = field(repr=False)

    def allows(self, client_id: str, flow: spec.AuthFlow) -> bool:
        """Whether the app client enables ``flow`` (its ``ExplicitAuthFlows``)."""
        return flow in self.clients[client_id].auth_flows


class PoolDirectory:
    """Finds registered pools by id, by app client id, and by token issuer."""

    def __init__(self) -> None:
        self._pools: dict[str, ActivePool] = {}
        self._client_pools: dict[str, str] = {}

    def add(self, pool: ActivePool) -> None:
        """Serve ``pool`` (replacing an earlier registration of the same id)."""
        self._pools[pool.pool_id] = pool
        for client_id in pool.clients:
            self._client_pools[client_id] = pool.pool_id

    def pool(self, pool_id: str) -> ActivePool:
        found = self._pools.get(pool_id)
        if found is None:
            raise ResourceNotFound(f"User pool {pool_id} does not exist.")
        return found

    def pool_of_client(self, client_id: str) -> ActivePool:
        pool = self._pools.get(self._client_pools.get(client_id, ""))
        if pool is None or client_id not in pool.clients:
            raise ResourceNotFound(f"User pool client {client_id} does not exist.")
        return pool

    def client_of_pool(self, pool_id: str, client_id: str) -> ActivePool:
        """The pool ``pool_id``, checking that ``client_id`` is one of its clients."""
        pool = self.pool(pool_id)
        if client_id not in pool.clients:
            raise ResourceNotFound(f"User pool client {client_id} does not exist.")
        return pool

    def by_issuer(self, issuer: str) -> ActivePool | None:
        return next((pool for pool in self._pools.values() if pool.issuer == issuer), None)
