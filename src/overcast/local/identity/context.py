"""What every user pool operation works with, built once by the provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from overcast.local.identity import srp
from overcast.local.identity.codes import ConfirmationCodes
from overcast.local.identity.passwords import SecretHasher
from overcast.local.identity.pools import PoolDirectory
from overcast.local.identity.store import UserPoolStore
from overcast.local.identity.tokens import TokenIssuer
from overcast.ports.mail import Mailer


@dataclass(frozen=True)
class StoredPassword:
    """A password as a user's row keeps it: its scrypt hash and its SRP verifier."""

    hash: str = field(repr=False)
    srp_verifier: str = field(repr=False)


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

    def stored_password(self, pool_id: str, sub: str, password: str) -> StoredPassword:
        """What to store for ``password`` of user ``sub``: every place a password is set
        stores both, so the user can sign in with USER_PASSWORD_AUTH and USER_SRP_AUTH."""
        verifier = srp.new_verifier(srp.pool_name(pool_id), sub, password)
        return StoredPassword(self.hasher.hash(password), verifier.encode())
