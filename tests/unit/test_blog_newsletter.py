"""The newsletter function emails every subscribed reader about each new article, once,
however often its message is delivered and wherever a try stops."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from overcast.apps.blog.articles import Articles
from overcast.apps.blog.domain import NewArticle, UpdateArticle
from overcast.apps.blog.events import ArticleEvent, ArticleEvents, EventsFunction
from overcast.apps.blog.newsletter import (
    CLAIM_LEASE,
    ClaimedElsewhere,
    Newsletter,
    NewsletterFunction,
    sent_key,
)
from overcast.apps.blog.people import People, Person
from overcast.apps.blog.service import (
    blog_table,
    events_function,
    newsletter_function,
    newsletter_queue,
    service,
)
from overcast.apps.blog.subscribers import Subscribers
from overcast.local.queues.events import QueueSource, sqs_event, sqs_record
from overcast.local.streams.events import StreamSource, stream_event, stream_record
from overcast.local.streams.filters import RecordFilter
from overcast.ports.mail import Email
from overcast.ports.mail.exceptions import MailUnavailable
from overcast.ports.mail.memory import MemoryMailer
from overcast.ports.queues import OutgoingMessage
from overcast.ports.queues.memory import MemoryMessaging
from overcast.ports.tables.memory import MemoryTable
from tests.todo_events import ManualClock

SITE = "https://127.0.0.1:4450/"
API = "https://127.0.0.1:4443/v1/"
SOURCE = StreamSource(
    "arn:aws:dynamodb:us-east-1:1:table/blog-blog/stream/x", "us-east-1", "NEW_AND_OLD_IMAGES"
)
TRIGGER = next(t for t in service.stream_triggers if t.function == events_function)
QUEUE = QueueSource("arn:aws:sqs:us-east-1:000000000000:blog-newsletter", "us-east-1")


class FlakyMailer(MemoryMailer):
    """A mailer that goes away after ``accepting`` more messages (None: never)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepting: int | None = None

    def _send(self, email: Email) -> str:
        if self.accepting is not None:
            if self.accepting == 0:
                raise MailUnavailable("the mail server went away")
            self.accepting -= 1
        return super()._send(email)


class Blog:
    """The blog table with an author and readers, its topic and queues, the functions."""

    def __init__(self) -> None:
        clock = ManualClock()
        self.table = MemoryTable(blog_table)
        self.articles = Articles(self.table, clock)
        self.subscribers = Subscribers(self.table, clock)
        People(self.table).save(Person("uid-ana", "ana", "ana@example.com"))
        self.messaging = MemoryMessaging()
        self.messaging.declare(service)
        self.queue = self.messaging.queue(service.queue_name(newsletter_queue))
        topic = self.messaging.topic("blog-articles")
        self.events = EventsFunction(ArticleEvents(topic, People(self.table)))
        self.mailer = FlakyMailer()
        newsletter = Newsletter(self.table, self.mailer, site_url=SITE, api_url=API)
        self.function = NewsletterFunction(newsletter)
        self._seen = 0

    def write(self, title: str = "Hello") -> str:
        fields = NewArticle(title=title, description="About <it>", body="b", tagList=[])
        return self.articles.create("uid-ana", fields).slug

    def changes(self) -> dict[str, Any]:
        """The SQS event the newsletter queue holds after the table's latest changes went
        through the events function and the topic (whose filter policy applies)."""
        records = self.table.stream_records(after=self._seen)
        if records:
            self._seen = records[-1].sequence
        found = [stream_record(record, SOURCE) for record in records]
        wanted = RecordFilter(TRIGGER.filter_patterns)
        changes = stream_event(record for record in found if wanted.matches(record))
        if changes["Records"]:
            self.events.handle(changes, None)
        return sqs_event(sqs_record(message, QUEUE) for message in self.queue.receive(10))

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.function.handle(event, None)

    def mailed(self) -> list[str]:
        return sorted(address for email in self.mailer.sent for address in email.to)


@pytest.fixture
def blog() -> Blog:
    blog = Blog()
    for reader in ("ana@example.com", "Bo@Example.com", "cy@example.com"):
        blog.subscribers.subscribe(reader, "newsletter")
    return blog


def test_each_subscribed_reader_gets_the_new_article_with_its_link_and_unsubscribe(
    blog: Blog,
) -> None:
    # Given three subscribed readers and a new article
    slug = blog.write("Hello world")
    # When its ArticlePublished reaches the newsletter function
    response = blog.deliver(blog.changes())
    # Then each reader gets one email, text and HTML, linking to the article's page
    assert response == {"batchItemFailures": []}
    assert blog.mailed() == ["Bo@Example.com", "ana@example.com", "cy@example.com"]
    email = next(e for e in blog.mailer.sent if e.to == ("ana@example.com",))
    assert email.sender == "newsletter@myblog.com"
    assert email.subject == "New on MyBlog.com: Hello world"
    link = f"https://127.0.0.1:4450/articles/{slug}"
    assert link in email.text
    assert "ana just published" in email.text
    assert "About <it>" in email.text
    assert email.html is not None
    assert f'href="{link}"' in email.html
    assert "About &lt;it&gt;" in email.html
    token = blog.table.get({"pk": "SUBSCRIBER#ana@example.com", "sk": "SUBSCRIBER"})
    assert token is not None
    unsubscribe = (
        "https://127.0.0.1:4443/v1/api/subscriptions/unsubscribe"
        f"?email=ana%40example.com&token={token['unsubscribe_token']}"
    )
    assert unsubscribe in email.text
    # And each email is recorded, with the mailer's message id
    sent = blog.table.get(sent_key(slug, "ana@example.com"))
    assert sent is not None
    assert sent["message_id"] in blog.mailer.ids


def test_a_message_delivered_twice_mails_each_reader_once(blog: Blog) -> None:
    blog.write()
    event = blog.changes()

    blog.deliver(event)
    response = blog.deliver(event)  # SQS delivers at least once

    assert response == {"batchItemFailures": []}
    assert blog.mailed() == ["Bo@Example.com", "ana@example.com", "cy@example.com"]


def test_a_duplicate_publish_mails_each_reader_once(blog: Blog) -> None:
    # Given the events function published one INSERT twice (a retried stream batch)
    blog.write()
    first = blog.changes()
    body = first["Records"][0]["body"]
    blog.queue.send(OutgoingMessage(body=body))
    second = sqs_event(sqs_record(m, QUEUE) for m in blog.queue.receive(10))
    # When both messages are handled
    blog.deliver(first)
    blog.deliver(second)
    # Then nobody hears twice
    assert len(blog.mailer.sent) == 3


def test_a_try_that_fails_half_way_is_resumed_without_mailing_anyone_twice(
    blog: Blog,
) -> None:
    # Given a mail server that goes away after the first email
    slug = blog.write()
    event = blog.changes()
    blog.mailer.accepting = 1
    # When the message is handled, it fails (and returns to the queue)
    with pytest.raises(BatchProcessingError):
        blog.deliver(event)
    assert len(blog.mailer.sent) == 1
    first = blog.mailer.sent[0].to[0]
    # Then the retry, once the server is back, mails only the others
    blog.mailer.accepting = None
    assert blog.deliver(event) == {"batchItemFailures": []}
    assert blog.mailed() == ["Bo@Example.com", "ana@example.com", "cy@example.com"]
    assert blog.table.get(sent_key(slug, first)) is not None


def test_a_resend_is_the_same_message_for_the_mailbox(blog: Blog) -> None:
    # Given the article's newsletter sent to ana, then sent again after a crash that
    # lost its record
    slug = blog.write()
    event = blog.changes()
    blog.deliver(event)
    blog.table.delete(sent_key(slug, "ana@example.com"))
    blog.deliver(event)
    # Then both emails carry one idempotency key (one Message-ID); readers' differ
    keys = [e.idempotency_key for e in blog.mailer.sent if e.to == ("ana@example.com",)]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len({e.idempotency_key for e in blog.mailer.sent}) == 3


def test_an_unsubscribed_reader_gets_nothing(blog: Blog) -> None:
    item = blog.table.get({"pk": "SUBSCRIBER#bo@example.com", "sk": "SUBSCRIBER"})
    assert item is not None
    blog.subscribers.unsubscribe("Bo@Example.com", str(item["unsubscribe_token"]))
    blog.write()

    blog.deliver(blog.changes())

    assert blog.mailed() == ["ana@example.com", "cy@example.com"]


def test_a_reader_who_subscribes_again_is_listed_again(blog: Blog) -> None:
    item = blog.table.get({"pk": "SUBSCRIBER#cy@example.com", "sk": "SUBSCRIBER"})
    assert item is not None
    blog.subscribers.unsubscribe("cy@example.com", str(item["unsubscribe_token"]))
    blog.subscribers.subscribe("cy@example.com", "newsletter")
    blog.write()

    blog.deliver(blog.changes())

    assert "cy@example.com" in blog.mailed()


def test_an_edit_or_a_delete_never_mails(blog: Blog) -> None:
    # Given an announced article
    slug = blog.write("First")
    blog.deliver(blog.changes())
    blog.mailer.sent.clear()
    # When it is edited and deleted, the newsletter queue's filter lets nothing through
    blog.articles.update(blog.articles.get(slug), UpdateArticle(title="Second"))
    blog.articles.delete(blog.articles.get(slug))
    assert blog.changes() == {"Records": []}
    # And an ArticleUpdated put on the queue by hand is ignored too
    updated = ArticleEvent("ArticleUpdated", slug, "Second", "d", "ana", "2026-01-01T00:00:00Z")
    blog.queue.send(OutgoingMessage(body=updated.body()))
    response = blog.deliver(sqs_event(sqs_record(m, QUEUE) for m in blog.queue.receive(10)))
    assert response == {"batchItemFailures": []}
    assert blog.mailer.sent == []


def test_an_article_deleted_before_its_newsletter_is_announced_to_no_one(blog: Blog) -> None:
    slug = blog.write()
    event = blog.changes()
    blog.articles.delete(blog.articles.get(slug))

    assert blog.deliver(event) == {"batchItemFailures": []}
    assert blog.mailer.sent == []


def test_a_message_that_is_not_an_article_event_is_skipped(blog: Blog) -> None:
    blog.queue.send(OutgoingMessage(body="not json"))

    response = blog.deliver(sqs_event(sqs_record(m, QUEUE) for m in blog.queue.receive(10)))

    assert response == {"batchItemFailures": []}
    assert blog.mailer.sent == []


def test_subscribers_are_listed_from_the_index_without_a_scan(blog: Blog) -> None:
    # A subscriber item written before the listing existed (no gsi1pk) is not listed
    blog.table.put(
        {
            "pk": "SUBSCRIBER#old@example.com",
            "sk": "SUBSCRIBER",
            "email": "old@example.com",
            "status": "subscribed",
        }
    )

    listed = [reader.email for reader in blog.subscribers.subscribed()]

    assert listed == ["ana@example.com", "Bo@Example.com", "cy@example.com"]


def test_the_newsletter_queue_hears_only_of_new_articles() -> None:
    subscription = next(s for s in service.subscriptions if s.queue == newsletter_queue)
    trigger = next(t for t in service.queue_triggers if t.function == newsletter_function)

    assert subscription.filter_policy == '{"event": ["ArticlePublished"]}'
    assert subscription.raw_message_delivery
    assert trigger.report_batch_item_failures
    assert newsletter_queue.dead_letter is not None


class GatedMailer(MemoryMailer):
    """A mailer whose first send waits, once it has begun, until ``go`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = threading.Event()
        self.go = threading.Event()
        self._first = True
        self._lock = threading.Lock()

    def _send(self, email: Email) -> str:
        with self._lock:
            first, self._first = self._first, False
        if first:
            self.sending.set()
            assert self.go.wait(5)
        return super()._send(email)


def test_two_deliveries_handled_at_once_mail_each_reader_once(blog: Blog) -> None:
    # Given one ArticlePublished delivered twice, and a first try in the middle of
    # sending its first email (a slow mail server)
    blog.write()
    event = blog.changes()
    mailer = GatedMailer()
    function = NewsletterFunction(Newsletter(blog.table, mailer, site_url=SITE, api_url=API))
    first = threading.Thread(target=function.handle, args=(event, None))
    first.start()
    try:
        assert mailer.sending.wait(5)
        # When the second delivery is handled meanwhile (another poller)
        with pytest.raises(BatchProcessingError):
            function.handle(event, None)
    finally:
        mailer.go.set()
        first.join(5)
    # Then the second try mailed the others but failed, not skipped, the reader being
    # mailed by the first; and each reader got one email
    assert sorted(a for e in mailer.sent for a in e.to) == [
        "Bo@Example.com",
        "ana@example.com",
        "cy@example.com",
    ]
    # And its retry finds every email sent
    assert function.handle(event, None) == {"batchItemFailures": []}
    assert len(mailer.sent) == 3


def test_a_claim_left_by_a_crashed_try_is_taken_over_after_the_lease(blog: Blog) -> None:
    # Given a try that claimed ana's email and died before sending it
    slug = blog.write()
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    newsletter = Newsletter(
        blog.table, blog.mailer, site_url=SITE, api_url=API, clock=lambda: now[0]
    )
    key = sent_key(slug, "ana@example.com")
    stale = {**key, "status": "sending", "claimed_at": now[0].isoformat(), "claim": "dead"}
    blog.table.put(stale)
    event = ArticleEvent("ArticlePublished", slug, "Hello", "d", "ana", "2026-01-01T00:00:00Z")
    # When the message is retried within the lease, ana is not mailed and it fails again
    with pytest.raises(ClaimedElsewhere):
        newsletter.announce(event)
    assert "ana@example.com" not in blog.mailed()
    # Then after the lease, the retry takes the claim over and mails ana, once
    now[0] += CLAIM_LEASE + timedelta(seconds=1)
    assert newsletter.announce(event) == 1
    assert blog.mailed().count("ana@example.com") == 1
    sent = blog.table.get(key)
    assert sent is not None
    assert sent["status"] == "sent"


def test_the_claim_lease_outlasts_a_try_and_ends_before_the_message_returns() -> None:
    lease = CLAIM_LEASE.total_seconds()
    assert newsletter_function.timeout_seconds < lease < newsletter_queue.visibility_timeout_seconds


def test_a_mail_outage_is_retried_for_about_six_hours_before_the_dead_letter_queue() -> None:
    dead_letter = newsletter_queue.dead_letter
    assert dead_letter is not None
    retried = dead_letter.max_receive_count * newsletter_queue.visibility_timeout_seconds
    assert 5.5 * 3600 <= retried <= 6.5 * 3600
