"""The pages function keeps one static page per article in the site bucket, and
invalidates exactly that page's path on the CDN. It consumes the queue ``pages``: the
table's article changes, published by the events function to the topic ``articles``."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from overcast.apps.blog.articles import Articles
from overcast.apps.blog.domain import NewArticle, UpdateArticle
from overcast.apps.blog.events import ArticleEvents, AuthorRenamed, EventsFunction
from overcast.apps.blog.pages import ArticlePages, PagesFunction
from overcast.apps.blog.people import People, Person
from overcast.apps.blog.service import (
    blog_table,
    events_function,
    pages_function,
    pages_queue,
    service,
)
from overcast.local.queues.events import QueueSource, sqs_event, sqs_record
from overcast.local.streams.events import StreamSource, stream_event, stream_record
from overcast.local.streams.filters import RecordFilter
from overcast.ports.cdn import CdnUnavailable
from overcast.ports.cdn.memory import MemoryInvalidator
from overcast.ports.objects import NoSuchKey, ObjectAttributes, ObjectInfo, ObjectStoreUnavailable
from overcast.ports.objects.memory import MemoryObjectStore
from overcast.ports.queues import OutgoingMessage
from overcast.ports.queues.memory import MemoryMessaging
from overcast.ports.tables.memory import MemoryTable
from tests.todo_events import ManualClock

SOURCE = StreamSource(
    "arn:aws:dynamodb:us-east-1:1:table/blog-blog/stream/x", "us-east-1", "NEW_AND_OLD_IMAGES"
)
TRIGGER = next(t for t in service.stream_triggers if t.function == events_function)
QUEUE = QueueSource("arn:aws:sqs:us-east-1:000000000000:blog-pages", "us-east-1")


class Blog:
    """The blog table with an author, the topic and queue, the site bucket, the CDN, and
    the events and pages functions."""

    def __init__(self, site: MemoryObjectStore | None = None, rename_chunk: int = 25) -> None:
        self.table = MemoryTable(blog_table)
        self.articles = Articles(self.table, ManualClock())
        People(self.table).save(Person("uid-ana", "ana", "ana@example.com"))
        self.messaging = MemoryMessaging()
        self.messaging.declare(service)
        self.queue = self.messaging.queue(service.queue_name(pages_queue))
        topic = self.messaging.topic("blog-articles")
        self.events = EventsFunction(ArticleEvents(topic, People(self.table)))
        self.site = site or MemoryObjectStore("blog-site")
        self.cdn = MemoryInvalidator()
        self.function = PagesFunction(
            ArticlePages(self.table, self.site, self.cdn, self.queue, rename_chunk=rename_chunk)
        )
        self._seen = 0

    def write(self, title: str = "Hello", body: str = "Some *words*.") -> str:
        fields = NewArticle(title=title, description="About it", body=body, tagList=["news"])
        return self.articles.create("uid-ana", fields).slug

    def changes(self) -> dict[str, Any]:
        """The SQS event of the table's changes since the last call, as the pages queue
        receives them: through the events function and the topic."""
        records = self.table.stream_records(after=self._seen)
        if records:
            self._seen = records[-1].sequence
        found = [stream_record(record, SOURCE) for record in records]
        wanted = RecordFilter(TRIGGER.filter_patterns)
        changes = stream_event(record for record in found if wanted.matches(record))
        if changes["Records"]:
            self.events.handle(changes, None)
        return self.received()

    def received(self) -> dict[str, Any]:
        return sqs_event(sqs_record(message, QUEUE) for message in self.queue.receive(10))

    def deliver(self, event: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.function.handle(self.changes() if event is None else event, None)

    def page(self, slug: str) -> str:
        return self.site.get(f"articles/{slug}").decode()

    def invalidated(self) -> list[list[str]]:
        return self.cdn.batches


@pytest.fixture
def blog() -> Blog:
    return Blog()


def test_a_new_article_is_published_and_only_its_path_is_invalidated(blog: Blog) -> None:
    # Given a new article
    slug = blog.write("Hello world", "Some *words*.")
    # When its ArticlePublished reaches the function through the topic and the queue
    response = blog.deliver()
    # Then its page is in the site bucket, as HTML for a minute, and only it is invalidated
    assert response == {"batchItemFailures": []}
    info = blog.site.head(f"articles/{slug}")
    assert info.attributes.content_type == "text/html; charset=utf-8"
    assert info.attributes.cache_control == "max-age=60"
    page = blog.page(slug)
    assert '<h1 id="article-title">Hello world</h1>' in page
    assert "<em>words</em>" in page
    assert ">ana</a>" in page
    assert '<a class="tag" href="/tag.html?t=news">news</a>' in page
    assert blog.invalidated() == [[f"/articles/{slug}"]]
    assert [info.key for info in blog.site.list().objects] == [f"articles/{slug}"]


def test_an_authors_rename_renders_their_pages_again_under_the_new_name(blog: Blog) -> None:
    # Given ana's published article, whose page names her
    slug = blog.write("Hello world")
    blog.deliver()
    assert ">ana</a>" in blog.page(slug)
    # When she renames herself
    People(blog.table).save(Person("uid-ana", "anna", "ana@example.com"))
    response = blog.deliver()
    # Then the page names her anew, and is invalidated again
    assert response == {"batchItemFailures": []}
    assert ">anna</a>" in blog.page(slug)
    assert ">ana</a>" not in blog.page(slug)
    assert blog.invalidated() == [[f"/articles/{slug}"], [f"/articles/{slug}"]]
    assert blog.received() == {"Records": []}  # all done in one message


def test_a_prolific_authors_rename_goes_a_chunk_per_message_until_every_page_is_done() -> None:
    # Given an author with five published articles, and pages renamed two per message
    blog = Blog(rename_chunk=2)
    slugs = [blog.write(f"Article {n}") for n in range(5)]
    blog.deliver()
    # When she renames herself, and each message the pages function sends itself is
    # delivered in turn
    People(blog.table).save(Person("uid-ana", "anna", "ana@example.com"))
    published = len(blog.invalidated())
    event, messages = blog.changes(), 0
    while event["Records"]:
        assert blog.function.handle(event, None) == {"batchItemFailures": []}
        messages += 1
        event = blog.received()
    # Then every page names her anew, in three messages of at most two pages each,
    # each chunk invalidated in one request
    assert messages == 3
    assert all(">anna</a>" in blog.page(slug) for slug in slugs)
    renamed = blog.invalidated()[published:]
    assert [len(paths) for paths in renamed] == [2, 2, 1]
    assert sorted(path for paths in renamed for path in paths) == sorted(
        f"/articles/{slug}" for slug in slugs
    )


def test_a_rename_continuation_with_a_forged_cursor_is_skipped_not_retried(blog: Blog) -> None:
    blog.write()
    blog.deliver()
    forged = AuthorRenamed("uid-ana", "anna", "2026-01-01T00:00:00Z", cursor="not-a-cursor")
    blog.queue.send(OutgoingMessage(forged.body()))

    assert blog.deliver(blog.received()) == {"batchItemFailures": []}
    assert blog.received() == {"Records": []}


def test_an_edited_article_is_rendered_again_and_invalidated(blog: Blog) -> None:
    slug = blog.write("First", "Old body")
    blog.deliver()

    article = blog.articles.get(slug)
    blog.articles.update(article, UpdateArticle(title="Second", body="New body"))
    blog.deliver()

    page = blog.page(slug)
    assert "Second" in page
    assert "New body" in page
    assert "Old body" not in page
    assert blog.invalidated() == [[f"/articles/{slug}"], [f"/articles/{slug}"]]


def test_a_deleted_article_loses_its_page(blog: Blog) -> None:
    slug = blog.write()
    blog.deliver()

    blog.articles.delete(blog.articles.get(slug))
    response = blog.deliver()

    assert response == {"batchItemFailures": []}
    with pytest.raises(NoSuchKey):
        blog.site.head(f"articles/{slug}")
    assert blog.invalidated()[-1] == [f"/articles/{slug}"]


def test_a_late_or_duplicate_event_neither_fails_nor_brings_back_an_old_version(
    blog: Blog,
) -> None:
    # Given an article published, then edited, whose ArticleUpdated is handled first
    slug = blog.write("Version one")
    published = blog.changes()
    blog.articles.update(blog.articles.get(slug), UpdateArticle(title="Version two"))
    blog.deliver()
    # When the ArticlePublished arrives after it, twice (SNS and SQS keep no order)
    response = blog.deliver(published)
    blog.deliver(published)
    # Then the page shows the article as it is now

    assert response == {"batchItemFailures": []}
    assert "Version two" in blog.page(slug)
    assert "Version one" not in blog.page(slug)


def test_a_message_that_is_not_an_article_event_is_skipped(blog: Blog) -> None:
    blog.queue.send(OutgoingMessage(body='{"hello": "world"}'))

    response = blog.deliver(blog.received())

    assert response == {"batchItemFailures": []}
    assert blog.invalidated() == []


class FailingSite(MemoryObjectStore):
    """A site bucket that is down for keys starting with ``failing``."""

    def __init__(self, failing: str) -> None:
        super().__init__("blog-site")
        self.failing = failing

    def put(self, key: str, body: Any, attributes: ObjectAttributes | None = None) -> ObjectInfo:
        if key.startswith(self.failing):
            raise ObjectStoreUnavailable("the bucket is down")
        return super().put(key, body, attributes)


def test_a_failing_record_is_reported_and_the_others_are_published() -> None:
    # Given three new articles, and a site bucket that refuses the second's page
    blog = Blog(FailingSite("articles/article-1-"))
    slugs = [blog.write(f"Article {n}") for n in range(3)]
    event = blog.changes()
    ids = {json.loads(r["body"])["slug"]: r["messageId"] for r in event["Records"]}
    # When the batch is delivered
    response = blog.deliver(event)
    # Then only the second message is reported; the first and third pages are published
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[slugs[1]]}]}
    assert "Article 0" in blog.page(slugs[0])
    assert "Article 2" in blog.page(slugs[2])
    assert sorted(blog.invalidated()) == [[f"/articles/{slugs[0]}"], [f"/articles/{slugs[2]}"]]


def test_when_the_cdn_is_down_the_batch_fails_and_its_retry_invalidates(blog: Blog) -> None:
    # Given a new article, and a CDN that refuses invalidations
    slug = blog.write()
    event = blog.changes()
    blog.cdn.fail_with = CdnUnavailable("CloudFront is throttling")
    # When every message of the batch fails, the function fails (the batch returns to
    # the queue after its visibility timeout)
    with pytest.raises(BatchProcessingError):
        blog.deliver(event)
    # Then the retry, once the CDN is back, invalidates the page
    blog.cdn.fail_with = None
    assert blog.deliver(event) == {"batchItemFailures": []}
    assert blog.invalidated() == [[f"/articles/{slug}"]]
    assert "Hello" in blog.page(slug)


def test_a_slug_that_could_be_a_wildcard_is_skipped(blog: Blog) -> None:
    blog.table.put({"pk": "ARTICLE#*", "sk": "ARTICLE", "slug": "*", "title": "All"})

    response = blog.deliver()

    assert response == {"batchItemFailures": []}
    assert blog.invalidated() == []
    assert blog.site.list().objects == ()


def test_user_text_in_the_page_is_escaped(blog: Blog) -> None:
    People(blog.table).save(Person("uid-mal", "<i>mal</i>", "mal@example.com"))
    fields = NewArticle(
        title="<script>alert(1)</script>",
        description='"><img src=x onerror=alert(2)>',
        body="<script>alert(3)</script>\n\n[x](javascript:alert(4))",
        tagList=["<b>tag</b>"],
    )
    slug = blog.articles.create("uid-mal", fields).slug

    blog.deliver()
    page = blog.page(slug)

    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "<i>mal</i>" not in page
    assert "<b>tag</b>" not in page
    assert 'href="javascript:' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; — MyBlog.com</title>" in page


def test_the_distribution_serves_the_site_thumbnails_and_api() -> None:
    site = next(d for d in service.distributions if d.name == "site")
    by_pattern = {b.path_pattern: b for b in site.all_behaviors}

    assert by_pattern["/api/*"].cache_policy.caches is False
    assert by_pattern["/api/*"].allowed_methods == "ALL"
    assert by_pattern["/api/*"].forward_all_viewer
    assert by_pattern["/thumbnails/*"].cache_policy.caches
    assert {r.status: r.response_status for r in site.error_responses} == {403: 404, 404: 404}
    assert pages_function.distributions == (site,)


def test_the_pages_queue_hears_of_every_article_event_and_dead_letters_after_5() -> None:
    subscription = next(s for s in service.subscriptions if s.queue == pages_queue)
    trigger = next(t for t in service.queue_triggers if t.function == pages_function)

    assert subscription.filter_policy is None
    assert subscription.raw_message_delivery
    assert trigger.queue == pages_queue
    assert trigger.report_batch_item_failures
    assert pages_queue.dead_letter is not None
    assert pages_queue.dead_letter.max_receive_count == 5
    assert pages_function not in [t.function for t in service.stream_triggers]


class PausingTable:
    """The blog table, where the first read of the article by the paused thread waits
    (after reading) until told to go on: another handler runs in between."""

    def __init__(self, table: MemoryTable) -> None:
        self._table = table
        self.read = threading.Event()
        self.go = threading.Event()
        self.paused: threading.Thread | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def get(self, key: dict[str, Any], **options: Any) -> Any:
        item = self._table.get(key, **options)
        if threading.current_thread() is self.paused and not self.read.is_set():
            self.read.set()
            assert self.go.wait(5)
        return item


def test_a_page_read_before_its_article_was_deleted_is_not_left_behind(blog: Blog) -> None:
    # Given a published article whose page a first handler is about to write, having
    # read the article just before its author deleted it
    slug = blog.write("Soon gone")
    table = PausingTable(blog.table)
    pages = ArticlePages(table, blog.site, blog.cdn, blog.queue)  # type: ignore[arg-type]
    first = threading.Thread(target=pages.sync, args=(slug,))
    table.paused = first
    first.start()
    assert table.read.wait(5)
    try:
        blog.articles.delete(blog.articles.get(slug))
        # When a second handler handles the ArticleDeleted to the end, then the first
        # goes on
        second = threading.Thread(target=pages.sync, args=(slug,))
        second.start()
        second.join(5)
    finally:
        table.go.set()
        first.join(5)
    # Then the deleted article has no page, and its path was invalidated after the end
    with pytest.raises(NoSuchKey):
        blog.page(slug)
    assert blog.invalidated()[-1] == [f"/articles/{slug}"]
