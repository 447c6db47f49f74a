"""The mail port's exceptions.

MailError
├── InvalidMessage    an address or field that cannot be sent; nothing was sent
└── MailUnavailable   the mail server refused or could not be reached
"""


class MailError(Exception):
    """Base of every error the mail port raises."""


class InvalidMessage(MailError, ValueError):
    """The message cannot be sent as it is (bad address, empty recipients, ...)."""


class MailUnavailable(MailError):
    """The mail backend failed; the message may be retried."""
