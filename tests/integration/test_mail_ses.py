"""SesMailer against moto's SES v2: what is sent, what SES refuses, and how it fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import Message, ses_backends

from overcast.ports.mail import Email, InvalidMessage, MailUnavailable
from overcast.ports.mail.ses import SesMailer, send_email_request

REGION = "us-east-1"


@pytest.fixture
def sesv2() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sesv2", region_name=REGION)
        client.create_email_identity(EmailIdentity="blog.example.com")  # verified, in moto
        yield client


def sent_messages() -> list[Message]:
    """What moto's SES recorded (SES v2 sends through moto's SES backend)."""
    messages: list[Message] = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    return messages


def welcome(**changes: Any) -> Email:
    fields: dict[str, Any] = {
        "sender": "hello@blog.example.com",
        "to": ("zoe@example.com", "bob@bücher.example"),
        "subject": "Bienvenue — café ☕",
        "text": "Hello Zoë,\nthanks for subscribing.\n",
        "html": "<p>Hello Zoë, <b>thanks</b> for subscribing.</p>",
    }
    fields.update(changes)
    return Email(**fields)


class Failing:
    """An SES v2 client whose every request fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def send_email(self, **request: Any) -> Any:
        raise self.error


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "SendEmail")


def test_a_message_from_a_verified_identity_is_sent_once_with_ses_message_id(sesv2: Any) -> None:
    message_id = SesMailer(sesv2).send(welcome())

    [sent] = sent_messages()
    assert sent.id == message_id
    assert sent.source == "hello@blog.example.com"
    assert sent.destinations == {"ToAddresses": ["zoe@example.com", "bob@xn--bcher-kva.example"]}
    assert sent.subject == "Bienvenue — café ☕"
    assert sent.body == "<p>Hello Zoë, <b>thanks</b> for subscribing.</p>"  # moto keeps the HTML


def test_a_text_only_message_is_sent_as_text(sesv2: Any) -> None:
    SesMailer(sesv2).send(welcome(html=None))

    [sent] = sent_messages()
    assert sent.body == "Hello Zoë,\nthanks for subscribing.\n"


def test_the_request_carries_utf8_simple_content_and_the_configuration_set() -> None:
    request = send_email_request(welcome(), "welcome-emails")

    assert request["ConfigurationSetName"] == "welcome-emails"
    simple = request["Content"]["Simple"]
    assert simple["Subject"] == {"Data": "Bienvenue — café ☕", "Charset": "UTF-8"}
    assert simple["Body"]["Text"]["Charset"] == simple["Body"]["Html"]["Charset"] == "UTF-8"
    assert "ConfigurationSetName" not in send_email_request(welcome())


def test_an_unverified_sender_is_refused_and_nothing_is_sent(sesv2: Any) -> None:
    with pytest.raises(InvalidMessage, match="MessageRejected"):
        SesMailer(sesv2).send(welcome(sender="someone@elsewhere.example"))

    assert sent_messages() == []


def test_an_address_ses_cannot_carry_is_refused_before_sending(sesv2: Any) -> None:
    with pytest.raises(InvalidMessage, match="ASCII"):
        SesMailer(sesv2).send(welcome(to=("zoë@example.com",)))

    assert sent_messages() == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("TooManyRequestsException"), MailUnavailable),
        (client_error("SendingPausedException"), MailUnavailable),
        (client_error("BadRequestException"), InvalidMessage),
        (EndpointConnectionError(endpoint_url="https://email"), MailUnavailable),
    ],
    ids=["throttled", "paused", "bad-request", "unreachable"],
)
def test_ses_errors_become_the_ports_own(error: Exception, expected: type) -> None:
    with pytest.raises(expected) as raised:
        SesMailer(Failing(error)).send(welcome())

    assert isinstance(raised.value.__cause__, type(error))
