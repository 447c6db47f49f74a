"""Cognito-compatible user pools for the local cloud (the ``cognito-idp`` endpoint)."""

from overcast.local.identity.provider import IdentityProvider, RegisteredPool

__all__ = ["IdentityProvider", "RegisteredPool"]
