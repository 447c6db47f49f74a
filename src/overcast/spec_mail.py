"""The mail a function sends: an Amazon SES identity (part of :mod:`overcast.spec`).

SES sends mail only from a verified identity: a domain (any address of it may send,
once its DKIM records are in DNS) or one email address (verified by a link sent to
it). A function that sends mail declares the identity it sends from
(``spec.Function(mail=...)``); on AWS the stack creates that identity once and lets
only the declaring functions send from it (:mod:`overcast.aws.mail`). Locally nothing
changes: every mail goes to the local cloud's SMTP sink, whatever its From address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from overcast.spec_base import DeclarationError

# A DNS domain of two labels or more, as SES verifies it.
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class MailIdentity:
    """An SES identity: a domain (``myblog.com``) or one address (``news@myblog.com``)."""

    identity: str

    def __post_init__(self) -> None:
        local, _, domain = self.identity.rpartition("@")
        if not _DOMAIN.match(domain) or (self.is_address and not _valid_local_part(local)):
            raise DeclarationError(
                f"MailIdentity {self.identity!r} is neither a domain such as 'example.com' "
                "nor an email address such as 'news@example.com' (lowercase)."
            )

    @property
    def is_address(self) -> bool:
        """Whether the identity is one email address (else a whole domain)."""
        return "@" in self.identity

    @property
    def domain(self) -> str:
        return self.identity.rpartition("@")[2]

    def allows(self, sender: str) -> bool:
        """Whether SES lets this identity send From ``sender`` (an address, maybe with a
        display name: ``Blog <news@myblog.com>``)."""
        address = sender.rpartition("<")[2].rstrip(">").strip().lower()
        if self.is_address:
            return address == self.identity
        return address.rpartition("@")[2] == self.identity


def _valid_local_part(local: str) -> bool:
    return bool(local) and len(local) <= 64 and not any(c.isspace() or c in "<>@" for c in local)
