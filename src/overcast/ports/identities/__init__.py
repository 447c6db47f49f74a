"""The identity directory port: the identity-pool identity of a signed-in user."""

from overcast.ports.identities.base import IdentityDirectory
from overcast.ports.identities.exceptions import (
    IdentityError,
    IdentityRefused,
    IdentityUnavailable,
)

__all__ = ["IdentityDirectory", "IdentityError", "IdentityRefused", "IdentityUnavailable"]
