"""The events function turns the table's article changes into messages on the topic
``articles``, which the pages queue receives in full and the newsletter queue only for
new articles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from overcast.apps.blog.articles import Articles
from overcast.apps.blog.domain import NewArticle, UpdateArticle
from overcast.apps.blog.events import ArticleEvent, ArticleEvents, AuthorRenamed, EventsFunction
from overcast.apps.blog.people import People, Person
from overcast.apps.blog.service import blog_table, events_function, service
from overcast.local.streams.events import StreamSource, stream_event, stream_record
from overcast.local.streams.filters import RecordFilter
from overcast.ports.queues import ReceivedMessage
from overcast.ports.queues.memory import MemoryMessaging
from overcast.ports.tables.memory import MemoryTable
from overcast.ports.topics import MessageTopic, Publication, TopicUnavailable
from tests.todo_events import ManualClock

SOURCE = StreamSource(
    "arn:aws:dynamodb:us-east-1:1:table/blog-blog/stream/x", "us-east-1", "NEW_AND_OLD_IMAGES"
)
TRIGGER = next(t for t in service.stream_triggers if t.function == events_function)


class FlakyTopic(MessageTopic):
    """A topic that is down for bodies naming ``failing``; the others reach ``topic``."""

    def __init__(self, topic: MessageTopic, failing: str) -> None:
        self.name, self.arn = topic.name, topic.arn
        self._topic = topic
        self.failing = failing

    def _publish(self, message: Publication) -> str:
        if self.failing and self.failing in message.body:
            raise TopicUnavailable("SNS is throttling")
        return self._topic.publish(message.body, message.attributes)


class Blog:
    """The blog table with an author, the service's topic and queues, the function."""

    def __init__(self) -> None:
        self.table = MemoryTable(blog_table)
        self.articles = Articles(self.table, ManualClock())
        People(self.table).save(Person("uid-ana", "ana", "ana@example.com"))
        self.messaging = MemoryMessaging()
        self.messaging.declare(service)
        self.topic = FlakyTopic(self.messaging.topic("blog-articles"), failing="")
        self.function = EventsFunction(ArticleEvents(self.topic, People(self.table)))
        self._seen = 0

    def write(self, title: str = "Hello") -> str:
        fields = NewArticle(title=title, description="About it", body="b", tagList=["news"])
        return self.articles.create("uid-ana", fields).slug

    def changes(self) -> dict[str, Any]:
        """The stream records since the last call that the trigger's filter lets through."""
        records = self.table.stream_records(after=self._seen)
        if records:
            self._seen = records[-1].sequence
        found = [stream_record(record, SOURCE) for record in records]
        wanted = RecordFilter(TRIGGER.filter_patterns)
        return stream_event(record for record in found if wanted.matches(record))

    def deliver(self, event: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.function.handle(self.changes() if event is None else event, None)

    def received(self, queue: str) -> list[ReceivedMessage]:
        return self.messaging.queue(f"blog-{queue}").receive(10)


def events(messages: list[ReceivedMessage]) -> list[tuple[str, str]]:
    """Each message's ``event`` attribute and its body's type."""
    found = []
    for message in messages:
        attribute = message.attributes["event"]
        assert attribute.data_type == "String"
        found.append((attribute.string_value or "", ArticleEvent.parse(message.body).type))
    return found


@pytest.fixture
def blog() -> Blog:
    return Blog()


def test_a_new_article_is_published_with_its_type_as_attribute_and_its_summary(
    blog: Blog,
) -> None:
    # Given a new article
    slug = blog.write("Hello world")
    # When its stream record is delivered to the events function
    response = blog.deliver()
    # Then one ArticlePublished message reaches each queue, with the event's fields
    assert response == {"batchItemFailures": []}
    pages, newsletter = blog.received("pages"), blog.received("newsletter")
    assert events(pages) == [("ArticlePublished", "ArticlePublished")]
    assert newsletter[0].body == pages[0].body
    body = json.loads(pages[0].body)
    assert set(body) == {"type", "slug", "title", "description", "author", "occurredAt"}
    assert body["slug"] == slug
    assert body["title"] == "Hello world"
    assert body["description"] == "About it"
    assert body["author"] == "ana"
    assert body["occurredAt"].endswith("Z")


def test_an_edit_and_a_delete_reach_the_pages_queue_but_never_the_newsletter(
    blog: Blog,
) -> None:
    # Given a published article, announced
    slug = blog.write("First")
    blog.deliver()
    blog.received("pages"), blog.received("newsletter")
    # When it is edited, then deleted
    blog.articles.update(blog.articles.get(slug), UpdateArticle(title="Second"))
    blog.articles.delete(blog.articles.get(slug))
    response = blog.deliver()
    # Then the pages queue hears of both, with the image each describes; the newsletter
    # queue's filter policy lets neither through
    assert response == {"batchItemFailures": []}
    pages = blog.received("pages")
    assert sorted(events(pages)) == [
        ("ArticleDeleted", "ArticleDeleted"),
        ("ArticleUpdated", "ArticleUpdated"),
    ]
    assert {json.loads(m.body)["title"] for m in pages} == {"Second"}
    assert blog.received("newsletter") == []


def test_comments_and_favorites_never_reach_the_function(blog: Blog) -> None:
    slug = blog.write()
    blog.deliver()
    article = blog.articles.get(slug)

    blog.articles.favorite(article, "uid-bo")
    blog.articles.comment(article, "uid-bo", "Nice")

    assert blog.changes() == {"Records": []}


def test_a_redelivered_record_publishes_the_same_event_again(blog: Blog) -> None:
    # Given an article whose record was published
    blog.write()
    event = blog.changes()
    blog.deliver(event)
    # When the record is delivered again (at least once)
    blog.deliver(event)
    # Then both messages carry the same event: consumers can tell it is one change
    bodies = [m.body for m in blog.received("newsletter")]
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]


def test_a_failed_publish_reports_only_its_record_and_its_retry_publishes_it(
    blog: Blog,
) -> None:
    # Given three new articles, and a topic that refuses the second's event
    slugs = [blog.write(f"Article {n}") for n in range(3)]
    event = blog.changes()
    sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    blog.topic.failing = slugs[1]
    # When the batch is delivered
    response = blog.deliver(event)
    # Then only the second record is reported; the others are published
    assert response == {"batchItemFailures": [{"itemIdentifier": sequences[1]}]}
    assert [ArticleEvent.parse(m.body).slug for m in blog.received("pages")] == [
        slugs[0],
        slugs[2],
    ]
    # And once the topic is back, the retried record is published
    blog.topic.failing = ""
    retry = {"Records": [event["Records"][1]]}
    assert blog.deliver(retry) == {"batchItemFailures": []}
    assert [ArticleEvent.parse(m.body).slug for m in blog.received("pages")] == [slugs[1]]


def test_when_every_publish_fails_the_batch_fails_for_lambda_to_retry(blog: Blog) -> None:
    blog.write("Only one")
    blog.topic.failing = "Only one"

    with pytest.raises(BatchProcessingError):
        blog.deliver()

    assert blog.received("pages") == []


def test_a_record_without_a_slug_is_skipped_not_retried(blog: Blog) -> None:
    blog.table.put({"pk": "ARTICLE#x", "sk": "ARTICLE", "title": "No slug"})

    response = blog.deliver()

    assert response == {"batchItemFailures": []}
    assert blog.received("pages") == []


def test_a_body_that_is_not_an_article_event_is_refused() -> None:
    with pytest.raises(ValueError, match="string fields"):
        ArticleEvent.parse('{"type": "ArticlePublished", "slug": 3}')
    with pytest.raises(ValueError, match="JSON object"):
        ArticleEvent.parse("[]")
    with pytest.raises(ValueError, match="Expecting value"):
        ArticleEvent.parse("not json")


def test_a_rename_is_one_message_to_the_pages_and_none_to_the_newsletter(blog: Blog) -> None:
    # Given two articles of ana, published
    blog.write("First"), blog.write("Second")
    blog.deliver()
    blog.received("pages"), blog.received("newsletter")
    # When ana renames herself
    People(blog.table).save(Person("uid-ana", "anna", "ana@example.com"))
    response = blog.deliver()
    # Then one AuthorRenamed reaches the pages queue, however many articles she has
    assert response == {"batchItemFailures": []}
    [message] = blog.received("pages")
    assert message.attributes["event"].string_value == "AuthorRenamed"
    renamed = AuthorRenamed.parse(message.body)
    assert (renamed.uid, renamed.username, renamed.cursor) == ("uid-ana", "anna", None)
    # And the newsletter hears nothing of it
    assert blog.received("newsletter") == []


def test_a_profile_change_that_keeps_the_name_publishes_nothing(blog: Blog) -> None:
    blog.write()
    blog.deliver()
    blog.received("pages")

    People(blog.table).save(Person("uid-ana", "ana", "ana@example.com", bio="Writes"))

    assert blog.deliver() == {"batchItemFailures": []}
    assert blog.received("pages") == []


def test_a_body_that_is_not_a_rename_is_refused() -> None:
    with pytest.raises(ValueError, match="string fields"):
        AuthorRenamed.parse('{"type": "AuthorRenamed", "uid": "u", "username": 3}')
    with pytest.raises(ValueError, match="Not an AuthorRenamed"):
        AuthorRenamed.parse('{"type": "ArticleUpdated"}')
    with pytest.raises(ValueError, match="string fields"):
        AuthorRenamed.parse(
            '{"type": "AuthorRenamed", "uid": "u", "username": "n", "occurredAt": "t", "cursor": 5}'
        )
