"""What every user pool operation works with, built once by the provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from overcast.local.identity.codes import ConfirmationCodes
from overcast.local.identity.passwords import SecretHasher
from overcast.local.identity.pools import PoolDirectory
from overcast.local.identity.store import UserPoolStore
from overcast.local.identity.tokens import TokenIssuer
from overcast.ports.mail import Mailer


@dataclass(frozen=True)
class IdentityContext:
    """The store, the registered pools, and the collaborators the operations share."""

    store: UserPoolStore
    pools: PoolDirectory
    hasher: SecretHasher
    mailer: Mailer
    clock: Callable[[], datetime]

    @property
    def codes(self) -> ConfirmationCodes:
        return ConfirmationCodes(self.store, self.hasher, self.mailer, self.clock)

    @property
    def tokens(self) -> TokenIssuer:
        return TokenIssuer(self.store, self.clock)
