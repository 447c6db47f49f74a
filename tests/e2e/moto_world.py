"""The AWS world of the e2e scenarios: moto's server and what its backends received.

The scenarios read mail through an ``inbox`` and items through ``blog_item`` (fixtures
of ``conftest.py``): with the AWS adapters they are moto's. ThreadedMotoServer runs in
the test process, so its SES backend's ``sent_messages`` are readable here. moto keeps
one body per message (the HTML one when there is one), so a message's text is its HTML
as a mail client shows it as plain text: tags dropped, each link's address after it
(once per address: the scenarios count links to distinct pages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

REGION = "us-east-1"


def moto_client(service: str, moto_server: str) -> Any:
    """A boto3 client of ``service`` on moto's server (any credentials do)."""
    return boto3.client(
        service,
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@dataclass(frozen=True)
class SentMail:
    """A message moto's SES accepted, shaped as the local mailbox's for the scenarios."""

    sender: str
    to: tuple[str, ...]
    subject: str
    text: str


class MotoInbox:
    """The mail moto's SES sent: ``find`` as :meth:`overcast.local.mail.Mailbox.find`."""

    def __init__(self, account_id: str = DEFAULT_ACCOUNT_ID, region: str = REGION) -> None:
        self._backend = ses_backends[account_id][region]

    def find(self, to: str | None = None, subject_contains: str | None = None) -> list[SentMail]:
        found = [_sent(message) for message in list(self._backend.sent_messages)]
        return [
            mail
            for mail in found
            if (to is None or to.casefold() in {a.casefold() for a in mail.to})
            and (subject_contains is None or subject_contains.casefold() in mail.subject.casefold())
        ]


def _sent(message: Any) -> SentMail:
    destinations: Mapping[str, list[str]] = message.destinations
    return SentMail(
        sender=message.source,
        to=tuple(address for addresses in destinations.values() for address in addresses),
        subject=message.subject,
        text=html_text(message.body),
    )


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.shown: set[str] = set()
        self._links: list[str | None] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "style", "script"):
            self._skip += 1
        if tag == "a":
            self._links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "script"):
            self._skip -= 1
        href = self._links.pop() if tag == "a" and self._links else None
        if href and href not in self.shown:
            self.shown.add(href)
            self.parts.append(f" {href} ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(body: str) -> str:
    """``body`` as plain text when it is HTML (a link's address after its text), else as is."""
    if "<html" not in body.lower():
        return body
    parser = _TextParser()
    parser.feed(body)
    parser.close()
    return "".join(parser.parts)  # the parser has replaced character references
