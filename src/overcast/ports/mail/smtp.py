"""The SMTP mail adapter: sends each message over one SMTP connection (``smtplib``).

Locally it talks to the embedded sink (:mod:`overcast.local.mail.sink`), but any
SMTP server works. The message is an :class:`email.message.EmailMessage` with the
``SMTP`` policy (CRLF lines, RFC 2047-encoded non-ASCII headers); it is
``multipart/alternative`` (text, then HTML) when the email has an HTML body.

Like SES's ``SendEmail``, ``send`` returns the message id; here it is the
``Message-ID`` header the adapter set, without its angle brackets.

Errors, mapped to the port's own (no ``smtplib`` type escapes):

- every recipient refused permanently (5xx), the sender refused permanently, the
  message refused as too large (552) or needing SMTPUTF8 the server lacks:
  :class:`InvalidMessage` — sending it again will not help;
- anything else (connection refused, timeout, 4xx, 421, a dropped connection):
  :class:`MailUnavailable` — the message may be retried.

As SES does, a message some (not all) of whose recipients the server refuses is
sent to the others, and ``send`` succeeds.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from overcast.ports.mail.base import Email, Mailer
from overcast.ports.mail.exceptions import InvalidMessage, MailUnavailable

# RFC 5321 4.2.3: 552 = "Requested mail action aborted: exceeded storage allocation".
_TOO_LARGE = 552


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_message(email: Email, message_id: str, date: datetime) -> EmailMessage:
    """The MIME message for ``email``: text, or text + HTML alternatives."""
    message = EmailMessage(policy=SMTP)
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


class SmtpMailer(Mailer):
    """Sends over SMTP to ``host:port``; one connection per message, so thread-safe.

    ``helo_name`` is the name given in EHLO (not the machine's FQDN, whose lookup
    can stall on DNS).
    """

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float = 10.0,
        *,
        helo_name: str = "localhost",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.helo_name = helo_name
        self._clock = clock

    def _send(self, email: Email) -> str:
        domain = email.sender.rpartition("@")[2]
        message_id = (
            f"<{_id_part(email.idempotency_key)}@{domain}>"
            if email.idempotency_key
            else make_msgid(domain=domain)
        )
        try:
            message = build_message(email, message_id, self._clock())
        except ValueError as exc:  # a header the email package refuses to write
            raise InvalidMessage(f"The message cannot be written as email: {exc}") from exc
        try:
            self._deliver(message, email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _recipients_refused(exc) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _refused(exc.smtp_code, exc.smtp_error, "the sender") from exc
        except smtplib.SMTPDataError as exc:
            raise _refused(exc.smtp_code, exc.smtp_error, "the message") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise InvalidMessage(f"The mail server cannot send this message: {exc}") from exc
        except OSError as exc:  # smtplib.SMTPException is an OSError
            raise MailUnavailable(
                f"Cannot send mail through {self.host}:{self.port}: {exc or type(exc).__name__}. "
                "Is the mail server (the local cloud's SMTP sink) running?"
            ) from exc
        return message_id.strip("<>")

    def _deliver(self, message: EmailMessage, email: Email) -> None:
        with smtplib.SMTP(
            self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout
        ) as connection:
            connection.send_message(message, from_addr=email.sender, to_addrs=list(email.to))


def _reply(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _recipients_refused(exc: smtplib.SMTPRecipientsRefused) -> InvalidMessage | MailUnavailable:
    replies = exc.recipients.items()
    described = "; ".join(f"{to}: {code} {_reply(text)}" for to, (code, text) in replies)
    if all(500 <= code < 600 for _, (code, _text) in replies):
        return InvalidMessage(f"The mail server refused every recipient ({described}).")
    return MailUnavailable(f"The mail server refused the recipients for now ({described}).")


def _refused(code: int, text: bytes | str, what: str) -> InvalidMessage | MailUnavailable:
    reply = f"{code} {_reply(text)}"
    if code == _TOO_LARGE:
        return InvalidMessage(f"The message is too large for the mail server ({reply}).")
    if 500 <= code < 600 and what == "the sender":
        return InvalidMessage(f"The mail server refused {what} ({reply}).")
    return MailUnavailable(f"The mail server refused {what} ({reply}).")


def _id_part(key: str) -> str:
    """``key`` as the left part of a Message-ID (RFC 5322 dot-atom characters only)."""
    return "".join(char if char.isascii() and (char.isalnum() or char in ".-_") else "-"
                   for char in key)  # fmt: skip
