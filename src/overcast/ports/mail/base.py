"""The mail port: send one message. Locally SMTP, on AWS SES v2."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from overcast.ports.mail.exceptions import InvalidMessage

# Deliberately simple: one @, no spaces, a dot in the domain. Real validation is delivery.
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class Email:
    """A message: plain text always, HTML optionally."""

    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None


class Mailer(ABC):
    """Sends email. ``send`` validates, then hands the message to the adapter."""

    def send(self, email: Email) -> str:
        """Send ``email``; return the backend's message id."""
        if not email.to:
            raise InvalidMessage("A message needs at least one recipient.")
        for address in (email.sender, *email.to):
            if not _ADDRESS.match(address):
                raise InvalidMessage(f"{address!r} is not an email address.")
        if "\n" in email.subject or "\r" in email.subject:
            raise InvalidMessage("A subject cannot contain line breaks.")
        return self._send(email)

    @abstractmethod
    def _send(self, email: Email) -> str: ...
