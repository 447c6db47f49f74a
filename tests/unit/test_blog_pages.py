"""The pages function keeps one static page per article in the site bucket, and
invalidates exactly that page's path on the CDN."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from overcast.apps.blog.articles import Articles
from overcast.apps.blog.domain import NewArticle, UpdateArticle
from overcast.apps.blog.pages import ArticlePages, PagesFunction
from overcast.apps.blog.people import People, Person
from overcast.apps.blog.service import blog_table, pages_function, service
from overcast.local.streams.events import StreamSource, stream_event, stream_record
from overcast.local.streams.filters import RecordFilter
from overcast.ports.cdn import CdnUnavailable
from overcast.ports.cdn.memory import MemoryInvalidator
from overcast.ports.objects import NoSuchKey, ObjectAttributes, ObjectInfo, ObjectStoreUnavailable
from overcast.ports.objects.memory import MemoryObjectStore
from overcast.ports.tables.memory import MemoryTable
from tests.todo_events import ManualClock

SOURCE = StreamSource(
    "arn:aws:dynamodb:us-east-1:1:table/blog-blog/stream/x", "us-east-1", "NEW_AND_OLD_IMAGES"
)
TRIGGER = next(t for t in service.stream_triggers if t.function == pages_function)


class Blog:
    """The blog table with an author, the site bucket, the CDN, and the pages function."""

    def __init__(self, site: MemoryObjectStore | None = None) -> None:
        self.table = MemoryTable(blog_table)
        self.articles = Articles(self.table, ManualClock())
        People(self.table).save(Person("uid-ana", "ana", "ana@example.com"))
        self.site = site or MemoryObjectStore("blog-site")
        self.cdn = MemoryInvalidator()
        self.function = PagesFunction(ArticlePages(self.table, self.site, self.cdn))
        self._seen = 0

    def write(self, title: str = "Hello", body: str = "Some *words*.") -> str:
        fields = NewArticle(title=title, description="About it", body=body, tagList=["news"])
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
    # When its stream record is delivered
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


def test_a_record_that_changes_the_slug_removes_the_old_page_and_writes_the_new(
    blog: Blog,
) -> None:
    # Given an article published under an old slug, now stored under a new one
    old = blog.write("Old title")
    blog.deliver()
    item = blog.table.get({"pk": f"ARTICLE#{old}", "sk": "ARTICLE"})
    assert item is not None
    new = "new-title-abc123"
    blog.table.put({**item, "pk": f"ARTICLE#{new}", "slug": new, "title": "New title"})
    blog.table.delete({"pk": f"ARTICLE#{old}", "sk": "ARTICLE"})
    # When a MODIFY record names both slugs
    record = stream_record(blog.table.stream_records()[-1], SOURCE)
    record["eventName"] = "MODIFY"
    record["dynamodb"]["NewImage"] = {**record["dynamodb"]["OldImage"], "slug": {"S": new}}
    response = blog.deliver(stream_event([record]))
    # Then the old page is gone and the new one is there, both invalidated
    assert response == {"batchItemFailures": []}
    with pytest.raises(NoSuchKey):
        blog.site.head(f"articles/{old}")
    assert "New title" in blog.page(new)
    assert blog.invalidated()[-2:] == [[f"/articles/{old}"], [f"/articles/{new}"]]


def test_a_redelivered_old_record_neither_fails_nor_brings_back_an_old_version(
    blog: Blog,
) -> None:
    slug = blog.write("Version one")
    first = blog.changes()
    blog.articles.update(blog.articles.get(slug), UpdateArticle(title="Version two"))
    blog.deliver()

    response = blog.deliver(first)  # the INSERT again, after the MODIFY
    blog.deliver(first)

    assert response == {"batchItemFailures": []}
    assert "Version two" in blog.page(slug)
    assert "Version one" not in blog.page(slug)


def test_only_article_items_reach_the_function(blog: Blog) -> None:
    slug = blog.write(body="b")
    article = blog.articles.get(slug)
    blog.articles.favorite(article, "uid-bo")
    blog.articles.comment(article, "uid-bo", "Nice")

    event = blog.changes()

    assert [r["dynamodb"]["Keys"]["sk"]["S"] for r in event["Records"]] == ["ARTICLE"]


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
    sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    # When the batch is delivered
    response = blog.deliver(event)
    # Then only the second record is reported; the first and third pages are published
    assert response == {"batchItemFailures": [{"itemIdentifier": sequences[1]}]}
    assert "Article 0" in blog.page(slugs[0])
    assert "Article 2" in blog.page(slugs[2])
    assert blog.invalidated() == [[f"/articles/{slugs[0]}"], [f"/articles/{slugs[2]}"]]


def test_when_the_cdn_is_down_the_batch_fails_and_its_retry_invalidates(blog: Blog) -> None:
    # Given a new article, and a CDN that refuses invalidations
    slug = blog.write()
    event = blog.changes()
    blog.cdn.fail_with = CdnUnavailable("CloudFront is throttling")
    # When every record of the batch fails, the function fails (Lambda retries the batch)
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
