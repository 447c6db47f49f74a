"""The local cloud's mail: the embedded SMTP sink and the mailbox it delivers to."""

from overcast.local.mail.mailbox import Mailbox, MailNotFound, MailSummary, StoredMail
from overcast.local.mail.sink import SmtpSink

__all__ = ["MailNotFound", "MailSummary", "Mailbox", "SmtpSink", "StoredMail"]
