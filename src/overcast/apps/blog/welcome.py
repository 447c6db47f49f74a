"""The welcome function: one welcome email per new subscriber, from the blog table's stream.

Triggered by the ``blog`` table's stream, filtered to subscriber INSERTs (see
``service.py``), with ``ReportBatchItemFailures``: Powertools' ``BatchProcessor``
handles each record on its own, and a record that fails (the mailer or the table is
down) is reported in ``batchItemFailures``, so only it and the records after it are
retried, in order.

Each welcome is recorded in the blog table: ``pk = SUBSCRIBER#<email>``,
``sk = WELCOMED`` (``sent_at``, ``message_id``), written with
``attribute_not_exists``. A record whose subscriber already has it sends nothing, so
retries, duplicate deliveries and redrives never send a second email. (The WELCOMED
item is itself a stream INSERT, but the trigger's filter only lets ``sk = SUBSCRIBER``
through: the function cannot trigger itself.)

**Send first, then record** — the order decides what a crash between the two does:

- Send, then record (chosen): a crash after the mail server stored the message and
  before the WELCOMED item commits leaves no record, so the redelivered record sends
  the email again — a duplicate. The window runs from the server storing the message
  to its ``250`` reaching the function, plus one SQLite commit: a few milliseconds
  (a kill -9 of the local cloud kills its SMTP sink, so it can land there). Records
  are delivered one batch at a time and sent one by one, so at most one email is
  in that window.
- Record, then send: the same crash leaves a WELCOMED item for an email never sent,
  and no retry would ever send it — a silent loss, for the whole SMTP conversation.

A duplicate welcome is visible and harmless; a lost one is neither, so this function
is at least once. Crashes anywhere else — before sending, or after recording but
before the stream's checkpoint — re-deliver the record and end with exactly one email.
The last window is closed by the message itself: its ``Message-ID`` is fixed per
subscriber (the mail port's ``idempotency_key``), so a resend is the same message,
and the local mailbox keeps one copy per Message-ID (as Gmail does). With SES, which
takes no such key, a resend in that window is a second email: at least once on AWS.

A message the mailer refuses for good (an address it cannot send to) is logged and
skipped; a mailer or table that is down fails the record, to be retried.

The subscriber is read again before sending: one who unsubscribed (or was deleted)
in the meantime gets nothing, and the unsubscribe link carries the current token.
The link is ``<API base URL>/api/subscriptions/unsubscribe?email=...&token=...``;
the API's base URL comes from the function's configuration (``API_BLOG``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jinja2
from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)

from overcast.apps.blog.batches import process_batch
from overcast.apps.blog.mailing import render, templates, unsubscribe_url
from overcast.apps.blog.service import blog_table
from overcast.ports.mail import Email, InvalidMessage, Mailer
from overcast.ports.tables import ConditionFailed, ItemNotExists, Table
from overcast.runtime import ColdStart, RuntimeConfig
from overcast.runtime.adapters import open_mailer, open_table

logger = logging.getLogger(__name__)

SENDER = "welcome@myblog.com"
SUBJECT = "Welcome to MyBlog.com"
WELCOMED = "WELCOMED"


@dataclass(frozen=True)
class Subscriber:
    """What a welcome email needs to know of a subscriber."""

    email: str
    token: str
    source: str
    name: str | None = None


class Welcomer:
    """Sends each subscriber one welcome email, and records that it did."""

    def __init__(
        self,
        table: Table,
        mailer: Mailer,
        api_url: str,
        *,
        environment: jinja2.Environment | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._table = table
        self._mailer = mailer
        self._api_url = api_url.rstrip("/")
        self._templates = environment or templates()
        self._clock = clock

    def welcome(self, email: str) -> bool:
        """Welcome the subscriber ``email`` unless already done; whether an email went out."""
        pk = f"SUBSCRIBER#{email.lower()}"
        if self._table.get({"pk": pk, "sk": WELCOMED}, consistent=True) is not None:
            return False  # a retry or duplicate delivery: already welcomed
        subscriber = self._subscriber(pk)
        if subscriber is None:
            return False
        try:
            message_id = self._mailer.send(self.message(subscriber))
        except InvalidMessage as exc:
            # Permanent: retrying cannot help, and would hold up the records behind it.
            logger.warning("Not welcoming %s: the mailer refuses the message: %s", email, exc)
            return False
        record = {"pk": pk, "sk": WELCOMED, "sent_at": self._clock().isoformat()}
        try:
            self._table.put({**record, "message_id": message_id}, condition=ItemNotExists())
        except ConditionFailed:
            logger.warning("Subscriber %s was welcomed twice (concurrent deliveries)", email)
        return True

    def message(self, subscriber: Subscriber) -> Email:
        """The welcome email, text and HTML, with the one-click unsubscribe link."""
        values = {
            "name": subscriber.name,
            "email": subscriber.email,
            "source": subscriber.source,
            "unsubscribe_url": unsubscribe_url(self._api_url, subscriber.email, subscriber.token),
        }
        text, html = render(self._templates, "welcome", values)
        return Email(
            sender=SENDER,
            to=(subscriber.email,),
            subject=SUBJECT,
            text=text,
            html=html,
            # One Message-ID per subscriber: a resend after a crash is the same message.
            idempotency_key=f"welcome-{hashlib.sha256(subscriber.email.encode()).hexdigest()[:32]}",
        )

    def _subscriber(self, pk: str) -> Subscriber | None:
        item = self._table.get({"pk": pk, "sk": "SUBSCRIBER"}, consistent=True)
        if item is None or item.get("status") != "subscribed" or "email" not in item:
            return None  # unsubscribed (or removed) before we got to it
        name = item.get("name")
        return Subscriber(
            email=str(item["email"]),
            token=str(item.get("unsubscribe_token", "")),
            source=str(item.get("source", "newsletter")),
            name=str(name) if name else None,
        )


class WelcomeFunction:
    """The handler's dependencies: the welcomer, behind Powertools' batch processor."""

    def __init__(self, welcomer: Welcomer) -> None:
        self.welcomer = welcomer

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_batch(event, context, self._record, EventType.DynamoDBStreams)

    def _record(self, record: DynamoDBRecord) -> None:
        image = record.dynamodb.new_image if record.dynamodb else {}
        email = image.get("email")
        if not isinstance(email, str) or not email:
            logger.warning("Skipping a subscriber record without an email: %s", record.event_id)
            return
        self.welcomer.welcome(email)


def bootstrap(config: RuntimeConfig) -> WelcomeFunction:
    """The composition root: the blog table, the mailer and the API's URL."""
    welcomer = Welcomer(
        open_table(blog_table, config), open_mailer(config), config.resource("API", "blog")
    )
    return WelcomeFunction(welcomer)


dependencies = ColdStart(bootstrap)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler (``overcast.apps.blog.welcome:handler``)."""
    return dependencies().handle(event, context)
