"""The mail port refuses messages it cannot send safely, before any adapter sees them."""

from __future__ import annotations

import pytest

from overcast.ports.mail import Email, InvalidMessage, MailError
from overcast.ports.mail.memory import MemoryMailer
from overcast.ports.mail.smtp import SmtpMailer


def email(**changes: object) -> Email:
    fields: dict[str, object] = {
        "sender": "no-reply@example.com",
        "to": ("reader@example.com",),
        "subject": "Your verification code",
        "text": "Your code is 123456.",
    }
    fields.update(changes)
    return Email(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "address",
    [
        "",
        "reader",
        "reader@",
        "@example.com",
        "reader@localhost",
        "two@at@example.com",
        "with space@example.com",
        "reader@example.com\r\nBcc: victim@example.com",
        "reader@example.com\n",
        "reader@example.com\r\n",
        "Reader <reader@example.com>",
    ],
)
def test_a_malformed_recipient_is_refused_and_nothing_is_sent(address: str) -> None:
    mailer = MemoryMailer()

    with pytest.raises(InvalidMessage, match="not an email address"):
        mailer.send(email(to=("ok@example.com", address)))

    assert mailer.sent == []


@pytest.mark.parametrize("sender", ["no-reply", "no-reply@example.com\n"])
def test_a_malformed_sender_is_refused_and_nothing_is_sent(sender: str) -> None:
    mailer = MemoryMailer()

    with pytest.raises(InvalidMessage, match="not an email address"):
        mailer.send(email(sender=sender))

    assert mailer.sent == []


def test_a_message_without_recipients_is_refused() -> None:
    mailer = MemoryMailer()

    with pytest.raises(InvalidMessage, match="at least one recipient"):
        mailer.send(email(to=()))

    assert mailer.sent == []


@pytest.mark.parametrize(
    "subject",
    [
        "Hello\r\nBcc: victim@example.com",
        "Hello\nBcc: victim@example.com",
        "Hello\rBcc: victim@example.com",
        "\r\n\r\n<html>injected body",
        "Hello\n",
        "Hello\x0bBcc: victim@example.com",
        "Hello\x0cBcc: victim@example.com",
        "Hello\x1cBcc: victim@example.com",
        "Hello\x85Bcc: victim@example.com",
        "Hello\u2028Bcc: victim@example.com",
        "Hello\u2029Bcc: victim@example.com",
    ],
)
def test_a_subject_that_injects_headers_is_refused_and_nothing_is_sent(subject: str) -> None:
    mailer = MemoryMailer()

    with pytest.raises(InvalidMessage, match="line breaks"):
        mailer.send(email(subject=subject))

    assert mailer.sent == []


def test_invalid_message_is_both_a_mail_error_and_a_value_error() -> None:
    mailer = MemoryMailer()

    with pytest.raises(MailError) as caught:
        mailer.send(email(to=("nobody",)))

    assert isinstance(caught.value, ValueError)


def test_a_valid_message_with_unicode_is_sent() -> None:
    mailer = MemoryMailer()

    mailer.send(email(subject="Bienvenue, café ☕", to=("zoë@exemple.fr",)))

    assert [sent.subject for sent in mailer.sent] == ["Bienvenue, café ☕"]


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: victim@example.com", "Hi\u2028Bcc: x@example.com"])
def test_the_smtp_adapter_refuses_before_connecting(subject: str) -> None:
    # Port 9 on loopback has no server: reaching the network would raise MailUnavailable.
    mailer = SmtpMailer("127.0.0.1", 9, timeout=0.5)

    with pytest.raises(InvalidMessage, match="line breaks"):
        mailer.send(email(subject=subject))
