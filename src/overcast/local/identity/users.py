"""Users as Cognito shows them: attributes, lookups, enrolment, masked addresses.

The pools use the email address as username (Cognito ``UsernameAttributes=
["email"]``): the user's Cognito username is their ``sub`` (a UUID), and either
the email address (case-insensitively) or the ``sub`` finds them. Attributes are
Cognito's standard ones; ``sub`` is never writable, and ``email_verified`` only
by the operator (a public client writing it gets ``A client attempted to write
unauthorized attribute``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from overcast.local.identity.errors import CodeDeliveryFailure, InvalidParameter, UsernameExists
from overcast.local.identity.records import User
from overcast.local.identity.store import DuplicateUser, UserPoolStore
from overcast.ports.mail.base import is_email_address

# OpenID Connect standard claims that Cognito offers as standard attributes.
STANDARD_ATTRIBUTES = frozenset(
    {
        "address", "birthdate", "family_name", "gender", "given_name", "locale",
        "middle_name", "name", "nickname", "phone_number", "picture",
        "preferred_username", "profile", "updated_at", "website", "zoneinfo",
    }
)  # fmt: skip
MAX_USERNAME_LENGTH = 128
T = TypeVar("T")


def find_user(store: UserPoolStore, pool_id: str, username: str) -> User | None:
    """The user named by their email address (any case) or by their ``sub``."""
    if "@" in username:
        return store.user_by_email(pool_id, username)
    return store.user_by_sub(pool_id, username)


def enroll(
    store: UserPoolStore, user: User, welcome: Callable[[], T], *, taken: str | None = None
) -> T:
    """Add ``user`` and send their first message (``welcome``); return what it returns.

    A taken address is :class:`UsernameExists` (with the message ``taken``); a
    message that cannot be delivered leaves no user behind.
    """
    try:
        store.add_user(user)
    except DuplicateUser:
        raise UsernameExists(taken) from None
    try:
        return welcome()
    except CodeDeliveryFailure:
        store.delete_user(user.pool_id, user.sub)
        raise


def mask_destination(email: str) -> str:
    """How Cognito shows where a code went: ``t***@e***`` for ``test@example.com``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def attribute_list(user: User) -> list[dict[str, str]]:
    """The user's attributes as Cognito lists them (``[{"Name", "Value"}]``)."""
    listed = [("sub", user.sub), ("email_verified", str(user.email_verified).lower())]
    listed += sorted(user.attributes.items())
    listed.append(("email", user.email))
    return [{"Name": name, "Value": value} for name, value in listed]


@dataclass(frozen=True)
class NewAttributes:
    """Attributes given at sign-up or creation, sorted into what the pool stores."""

    email: str | None
    email_verified: bool | None
    others: dict[str, str]


def parse_attributes(pairs: Iterable[tuple[str, str]], *, operator: bool) -> NewAttributes:
    """Check attribute names and values as Cognito's schema does."""
    email: str | None = None
    verified: bool | None = None
    others: dict[str, str] = {}
    for name, value in pairs:
        if name == "email":
            email = value
        elif name == "email_verified" and operator:
            if value not in ("true", "false"):
                raise InvalidParameter("Invalid email_verified value: use 'true' or 'false'.")
            verified = value == "true"
        elif name in ("email_verified", "sub"):
            raise InvalidParameter("A client attempted to write unauthorized attribute")
        elif name in STANDARD_ATTRIBUTES:
            others[name] = value
        else:
            raise InvalidParameter(
                f"Attributes did not conform to the schema: {name}: "
                "Attribute does not exist in the schema."
            )
    return NewAttributes(email, verified, others)


def email_for_username(username: str, attributes: NewAttributes) -> str:
    """The email address of a new user: their username, which must be one."""
    # The mail port's own check: an address accepted here is one the mailer will take.
    if len(username) > MAX_USERNAME_LENGTH or not is_email_address(username):
        raise InvalidParameter("Username should be an email.")
    if attributes.email is not None and attributes.email.lower() != username.lower():
        raise InvalidParameter(
            "The email attribute must match the username: this pool signs users up with "
            "their email address as username."
        )
    return username
