"""An in-memory identity directory for tests: tokens map to identities as given."""

from __future__ import annotations

from collections.abc import Mapping

from overcast.ports.identities.base import IdentityDirectory
from overcast.ports.identities.exceptions import IdentityRefused


class MemoryIdentityDirectory(IdentityDirectory):
    """Answers from ``identities`` (ID token -> identity id); counts the lookups it makes."""

    def __init__(self, identities: Mapping[str, str]) -> None:
        super().__init__()
        self._identities = dict(identities)
        self.lookups = 0

    def _get_id(self, id_token: str) -> str:
        self.lookups += 1
        try:
            return self._identities[id_token]
        except KeyError:
            raise IdentityRefused("Invalid login token.") from None
