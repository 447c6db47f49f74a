"""The mail port: send one message. Locally SMTP, on AWS SES v2."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from overcast.ports.mail.exceptions import InvalidMessage

# Deliberately simple: one @, no spaces, a dot in the domain. Real validation is delivery.
# \Z, not $: "$" also matches before a final newline, which would let "a@b.co\n" through.
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+\Z")


def is_email_address(value: str) -> bool:
    """Whether ``value`` passes the check every mailer makes of an address."""
    return _ADDRESS.match(value) is not None


@dataclass(frozen=True)
class Email:
    """A message: plain text always, HTML optionally.

    ``idempotency_key`` names the message for good: the SMTP adapter makes it the
    ``Message-ID``, so a resend after a lost acknowledgement is the same message, and
    a receiver that keeps one copy per Message-ID (the local mailbox, as Gmail does)
    shows it once. SES has no such key: there a resend is a second message.
    """

    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    idempotency_key: str | None = None


class Mailer(ABC):
    """Sends email. ``send`` validates, then hands the message to the adapter."""

    def send(self, email: Email) -> str:
        """Send ``email``; return the backend's message id."""
        if not email.to:
            raise InvalidMessage("A message needs at least one recipient.")
        for address in (email.sender, *email.to):
            if not is_email_address(address):
                raise InvalidMessage(f"{address!r} is not an email address.")
        # Any line break (str.splitlines: also \v, \f, \x1c-\x1e, \x85, \u2028, \u2029)
        # could start a new header; the email package refuses them all when it serializes.
        if "".join(email.subject.splitlines()) != email.subject:
            raise InvalidMessage("A subject cannot contain line breaks.")
        return self._send(email)

    @abstractmethod
    def _send(self, email: Email) -> str: ...
