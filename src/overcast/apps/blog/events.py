"""The events function: the blog table's stream is the outbox of article events.

Triggered by the ``blog`` table's stream, filtered to article items (``sk = ARTICLE``;
INSERT, MODIFY, REMOVE) and profile changes (``sk = PROFILE``, MODIFY; see
``service.py``), with ``ReportBatchItemFailures`` and bisection. Each article record
becomes one message on the topic ``articles``:

    stream event   message                image it describes
    INSERT         ``ArticlePublished``   the new image
    MODIFY         ``ArticleUpdated``     the new image
    REMOVE         ``ArticleDeleted``     the old image

A profile change that renames its user is one ``AuthorRenamed`` message (``uid``,
the new ``username``): each of the user's article pages names the author, and the
pages function renders them again, a chunk per message (``pages.py``), however many
there are. Publishing one message per article here instead would make one stream
record's work grow with the author's articles: past the function's timeout, a record
that can never succeed, holding up every later change behind it. Any other profile
change (bio, image, email) publishes nothing.

The message carries the string attribute ``event`` (the type: what subscriptions'
filter policies match) and a JSON body::

    {"type": "ArticlePublished", "slug": "...", "title": "...", "description": "...",
     "author": "<username>", "occurredAt": "2026-01-01T12:00:00Z"}

``occurredAt`` is the stream record's ``ApproximateCreationDateTime`` (DynamoDB
rounds it down to the second), so a retry publishes the same body.

Why a stream and not a publish from the API: a table write and an SNS publish cannot
be one transaction, and a crash between them would lose the event (or announce a
write that never happened). The stream records every committed change, and a record
leaves it only once this function succeeded with it: an event is published at least
once. It may be published twice (a batch retried after a partial failure, a crash
after publishing); the consumers are idempotent. Powertools' ``BatchProcessor``
handles each record on its own; a record whose publish fails (the topic is down) is
reported in ``batchItemFailures``, so it and the records after it are retried, in
order. A record without a slug is logged and skipped: retrying cannot give it one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from overcast.apps.blog.batches import process_batch
from overcast.apps.blog.domain import NotFound
from overcast.apps.blog.people import People
from overcast.apps.blog.service import articles_topic, blog_table
from overcast.ports.queues import MessageAttribute
from overcast.ports.topics import MessageTopic
from overcast.runtime import ColdStart, RuntimeConfig
from overcast.runtime.adapters import open_table, open_topic

logger = logging.getLogger(__name__)

EVENT_ATTRIBUTE = "event"
PUBLISHED = "ArticlePublished"
UPDATED = "ArticleUpdated"
DELETED = "ArticleDeleted"
RENAMED = "AuthorRenamed"
PROFILE = "PROFILE"  # a user's profile item's sort key (people.py)
_TYPES = {"INSERT": PUBLISHED, "MODIFY": UPDATED, "REMOVE": DELETED}


@dataclass(frozen=True)
class ArticleEvent:
    """One change of an article, as the topic ``articles`` carries it."""

    type: str
    slug: str
    title: str
    description: str
    author: str  # the author's username
    occurred_at: str

    def body(self) -> str:
        """The message body: the event as JSON (camelCase, as the API speaks)."""
        return json.dumps(
            {
                "type": self.type,
                "slug": self.slug,
                "title": self.title,
                "description": self.description,
                "author": self.author,
                "occurredAt": self.occurred_at,
            }
        )

    @classmethod
    def parse(cls, body: str) -> ArticleEvent:
        """The event in a message body; ``ValueError`` if it is not one."""
        fields = json.loads(body)
        if not isinstance(fields, dict):
            raise ValueError("An article event is a JSON object.")
        values = [fields.get(name) for name in _BODY_FIELDS]
        if not all(isinstance(value, str) for value in values):
            raise ValueError(f"An article event has the string fields {_BODY_FIELDS}.")
        return cls(*(str(value) for value in values))


_BODY_FIELDS = ("type", "slug", "title", "description", "author", "occurredAt")


@dataclass(frozen=True)
class AuthorRenamed:
    """A user's new username, which each of their article pages must show.

    ``cursor`` is where re-rendering the pages goes on: absent when the events function
    publishes it, set on the continuations the pages function sends itself.
    """

    uid: str
    username: str
    occurred_at: str
    cursor: str | None = None

    type = RENAMED

    def body(self) -> str:
        fields = {
            "type": RENAMED,
            "uid": self.uid,
            "username": self.username,
            "occurredAt": self.occurred_at,
        }
        return json.dumps(fields if self.cursor is None else {**fields, "cursor": self.cursor})

    @classmethod
    def parse(cls, body: str) -> AuthorRenamed:
        """The event in a message body; ``ValueError`` if it is not one."""
        fields = json.loads(body)
        if not isinstance(fields, dict) or fields.get("type") != RENAMED:
            raise ValueError(f"Not an {RENAMED} event.")
        values = [fields.get(name) for name in ("uid", "username", "occurredAt")]
        cursor = fields.get("cursor")
        if not all(isinstance(v, str) and v for v in values) or not isinstance(cursor, str | None):
            raise ValueError(f"An {RENAMED} event has the string fields uid, username, occurredAt.")
        uid, username, occurred_at = (str(value) for value in values)
        return cls(uid, username, occurred_at, cursor)


BlogEvent = ArticleEvent | AuthorRenamed


def blog_event(record: SQSRecord) -> BlogEvent | None:
    """The article event or rename a queue message carries, or None (logged) if neither."""
    try:
        if '"AuthorRenamed"' in record.body:
            return AuthorRenamed.parse(record.body)
        return ArticleEvent.parse(record.body)
    except ValueError as exc:
        logger.warning("Skipping message %s: not a blog event: %s", record.message_id, exc)
        return None


def article_event(record: SQSRecord) -> ArticleEvent | None:
    """The event a queue message carries (raw delivery), or None if it is not one.

    A message that is not an article event is logged and skipped: retrying cannot
    change it (the subscriptions' filter keeps others out; one sent by hand is not
    trusted).
    """
    try:
        return ArticleEvent.parse(record.body)
    except ValueError as exc:
        logger.warning("Skipping message %s: not an article event: %s", record.message_id, exc)
        return None


class ArticleEvents:
    """Publishes each article change to the topic, with its type as an attribute."""

    def __init__(self, topic: MessageTopic, people: People) -> None:
        self._topic = topic
        self._people = people

    def publish(self, record: DynamoDBRecord) -> BlogEvent | None:
        """Publish the record's event; the event, or None for a record that has none."""
        keys = record.dynamodb.keys if record.dynamodb else None
        profile = (keys or {}).get("sk") == PROFILE
        event = self.renamed(record) if profile else self.event_of(record)
        if event is None:
            if not profile:  # a profile change that renames no one is no event: quietly
                logger.warning("Skipping stream record %s: not an article change.", record.event_id)
            return None
        attributes = {EVENT_ATTRIBUTE: MessageAttribute("String", event.type)}
        self._topic.publish(event.body(), attributes)
        return event

    def event_of(self, record: DynamoDBRecord) -> ArticleEvent | None:
        """The event a stream record stands for (None: not an article change)."""
        stream = record.dynamodb
        name = record.raw_event.get("eventName")
        if stream is None or name not in _TYPES:
            return None
        image = stream.old_image if name == "REMOVE" else stream.new_image
        slug = (image or {}).get("slug")
        if not isinstance(slug, str) or not slug:
            return None
        return ArticleEvent(
            type=_TYPES[name],
            slug=slug,
            title=str(image.get("title", "")),
            description=str(image.get("description", "")),
            author=self._username(str(image.get("author", ""))),
            occurred_at=_moment(stream.approximate_creation_date_time),
        )

    def renamed(self, record: DynamoDBRecord) -> AuthorRenamed | None:
        """The rename a profile change stands for, or None if the username is unchanged."""
        stream = record.dynamodb
        old, new = (stream.old_image, stream.new_image) if stream else (None, None)
        if not old or not new or old.get("username") == new.get("username"):
            return None
        assert stream is not None
        moment = _moment(stream.approximate_creation_date_time)
        return AuthorRenamed(str(new.get("uid", "")), str(new.get("username", "")), moment)

    def _username(self, uid: str) -> str:
        try:
            return self._people.get(uid).username
        except NotFound:
            return "unknown"


def _moment(epoch_seconds: int | None) -> str:
    moment = datetime.fromtimestamp(epoch_seconds or 0, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class EventsFunction:
    """The handler's dependencies: the publisher, behind Powertools' batch processor."""

    def __init__(self, events: ArticleEvents) -> None:
        self.events = events

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_batch(event, context, self.events.publish, EventType.DynamoDBStreams)


def bootstrap(config: RuntimeConfig) -> EventsFunction:
    """The composition root: the topic ``articles``, and the table (for usernames)."""
    people = People(open_table(blog_table, config))
    return EventsFunction(ArticleEvents(open_topic(articles_topic, config), people))


dependencies = ColdStart(bootstrap)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler (``overcast.apps.blog.events:handler``)."""
    return dependencies().handle(event, context)
