"""The mail port on Amazon SES, API v2 (``SendEmail`` with ``Simple`` content).

The message is SES's simple content: a UTF-8 subject, a text body and, when the email
has one, an HTML body; SES builds the MIME message (``multipart/alternative``) itself.
``send`` returns SES's ``MessageId``.

Addresses, as SES requires: "the email address string must be 7-bit ASCII. If you
want to send to or from email addresses that contain Unicode characters in the domain
part of an address, you must encode the domain using Punycode. Punycode is not
permitted in the local part". So a Unicode domain is sent IDNA-encoded, and an address
whose local part is not ASCII is :class:`InvalidMessage` (the SMTP sink accepts it
through SMTPUTF8; SES does not).

Errors, mapped to the port's own (no botocore type escapes):

- ``MessageRejected`` (e.g. a sender identity that is not verified, or a recipient
  the sandbox does not allow), ``BadRequestException``, ``InvalidParameterValue``,
  ``MailFromDomainNotVerifiedException``: :class:`InvalidMessage` — sending it again
  will not help;
- throttling (``TooManyRequestsException``, ``LimitExceededException``), a paused or
  suspended account, a missing configuration set, network and service failures:
  :class:`MailUnavailable`.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from overcast.ports.mail.base import Email, Mailer
from overcast.ports.mail.exceptions import InvalidMessage, MailError, MailUnavailable

_REFUSED = frozenset(
    {
        "MessageRejected",
        "BadRequestException",
        "InvalidParameterValue",
        "MailFromDomainNotVerifiedException",
    }
)


class SesMailer(Mailer):
    """Sends with SES v2. ``client`` is a boto3 ``sesv2`` client (typed ``Any``: the
    project installs no ``mypy-boto3-sesv2`` stubs), built lazily if not given;
    ``configuration_set`` names the SES configuration set each message goes through."""

    def __init__(self, client: Any = None, configuration_set: str | None = None) -> None:
        self._client = client
        self._client_lock = threading.Lock()
        self.configuration_set = configuration_set

    @property
    def client(self) -> Any:
        """The boto3 SES v2 client, built on first use if none was given."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client("sesv2")
        return self._client

    def _send(self, email: Email) -> str:
        request = send_email_request(email, self.configuration_set)
        try:
            answer = self.client.send_email(**request)
        except ClientError as exc:
            raise _translated(exc) from exc
        except BotoCoreError as exc:
            raise MailUnavailable(f"SES could not be reached: {exc}") from exc
        return str(answer["MessageId"])


def send_email_request(email: Email, configuration_set: str | None = None) -> dict[str, Any]:
    """SES v2 ``SendEmail``'s parameters for ``email``."""
    body: dict[str, Any] = {"Text": _content(email.text)}
    if email.html is not None:
        body["Html"] = _content(email.html)
    request: dict[str, Any] = {
        "FromEmailAddress": ses_address(email.sender),
        "Destination": {"ToAddresses": [ses_address(to) for to in email.to]},
        "Content": {"Simple": {"Subject": _content(email.subject), "Body": body}},
    }
    if configuration_set is not None:
        request["ConfigurationSetName"] = configuration_set
    return request


def ses_address(address: str) -> str:
    """``address`` as SES accepts it: ASCII, its domain in Punycode."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise InvalidMessage(
            f"{address!r}: SES sends only to and from addresses whose part before the @ "
            "is ASCII (it does not support SMTPUTF8)."
        )
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidMessage(f"{address!r}: its domain is not a valid domain name.") from exc
    return f"{local}@{ascii_domain}"


def _content(text: str) -> dict[str, str]:
    return {"Data": text, "Charset": "UTF-8"}


def _translated(error: ClientError) -> MailError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")) or code
    if code in _REFUSED:
        return InvalidMessage(f"SES refused the message ({code}): {message}")
    return MailUnavailable(f"SES could not send the message ({code or 'unknown error'}): {message}")
