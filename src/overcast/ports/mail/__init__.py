"""The mail port: send a message."""

from overcast.ports.mail.base import Email, Mailer
from overcast.ports.mail.exceptions import InvalidMessage, MailError, MailUnavailable

__all__ = ["Email", "InvalidMessage", "MailError", "MailUnavailable", "Mailer"]
