"""Identity declarations: Cognito user pools, their app clients, identity pools, and
API Gateway's Cognito authorizer.

A :class:`UserPool` signs users up and in (the local cloud's embedded Cognito,
``overcast.ports.identity``; a Cognito user pool on AWS), with Cognito's limits checked
when built. A :class:`CognitoAuthorizer` puts a route behind the pool's ID tokens; an
:class:`IdentityPool` exchanges them for temporary AWS credentials.

Import these from :mod:`overcast.spec` (``spec.UserPool``); this module only keeps
``spec.py`` small. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from overcast.spec_base import DeclarationError, check_name

AuthFlow = Literal[
    "USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH", "USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH"
]


@dataclass(frozen=True)
class PasswordPolicy:
    """Cognito's default password policy unless told otherwise."""

    minimum_length: int = 8
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_digits: bool = True
    require_symbols: bool = True

    def __post_init__(self) -> None:
        if not 6 <= self.minimum_length <= 99:
            raise DeclarationError("PasswordPolicy.minimum_length must be 6-99, as in Cognito.")


@dataclass(frozen=True)
class UserPoolClient:
    """An app client of a user pool (public: no client secret)."""

    name: str
    auth_flows: tuple[AuthFlow, ...] = ("USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH")

    def __post_init__(self) -> None:
        check_name("UserPoolClient", self.name)


@dataclass(frozen=True)
class UserPool:
    """A Cognito user pool: users sign up with their email address as username."""

    name: str
    # Built per pool, not at import: a client checks its name with overcast.spec's helper.
    clients: tuple[UserPoolClient, ...] = field(default_factory=lambda: (UserPoolClient("web"),))
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    verification_subject: str = "Your verification code"
    verification_message: str = "Your verification code is {####}."
    from_address: str = "no-reply@overcast.local"
    id_token_minutes: int = 60
    access_token_minutes: int = 60
    refresh_token_days: int = 30

    def __post_init__(self) -> None:
        check_name("UserPool", self.name)
        if "{####}" not in self.verification_message:
            raise DeclarationError(
                f"UserPool {self.name!r}: verification_message must contain the "
                "placeholder {####}, as Cognito requires."
            )
        # Cognito: ID and access tokens last 5 minutes to 1 day; refresh tokens 1 hour to 10 years.
        for minutes in (self.id_token_minutes, self.access_token_minutes):
            if not 5 <= minutes <= 24 * 60:
                raise DeclarationError("Token validity must be 5 minutes to 1 day, as in Cognito.")
        if not 1 <= self.refresh_token_days <= 3650:
            raise DeclarationError("Refresh token validity must be 1 to 3650 days, as in Cognito.")
        if not self.clients:
            raise DeclarationError(f"UserPool {self.name!r} needs at least one client.")

    def client(self, name: str) -> UserPoolClient:
        for client in self.clients:
            if client.name == name:
                return client
        raise DeclarationError(f"UserPool {self.name!r} has no client {name!r}.")


@dataclass(frozen=True)
class CognitoAuthorizer:
    """API Gateway's Cognito user pool authorizer: requires a valid ID token.

    The token comes from the ``Authorization`` header (``Bearer`` prefix optional).
    Verified tokens are cached for ``ttl_seconds`` (API Gateway's default: 300).
    """

    user_pool: UserPool
    ttl_seconds: int = 300

    def __post_init__(self) -> None:
        if not 0 <= self.ttl_seconds <= 3600:
            raise DeclarationError("Authorizer TTL must be 0-3600 seconds, as in API Gateway.")


@dataclass(frozen=True)
class IdentityPool:
    """A Cognito identity pool: users signed in to ``user_pool`` exchange their ID token
    for temporary AWS credentials of the pool's authenticated role.

    Guests (unauthenticated identities) are not supported. The role's permissions
    come from the declarations that name the pool, e.g. a :class:`Bucket` with
    ``user_folders=`` this pool.
    """

    name: str
    user_pool: UserPool

    def __post_init__(self) -> None:
        check_name("IdentityPool", self.name)
