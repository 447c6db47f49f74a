"""The pages function: each article as a static HTML page in the site bucket.

Triggered by the queue ``pages``, which receives every article event of the topic
``articles`` (``ArticlePublished``, ``ArticleUpdated``, ``ArticleDeleted``; raw
delivery: a message's body is the event's JSON, see ``events.py``), with
``ReportBatchItemFailures``: Powertools' ``BatchProcessor`` handles each message on
its own and reports the ones that fail (the table, the bucket or the CDN is
unavailable) in ``batchItemFailures``, so only they return to the queue, to be tried
again after its visibility timeout (and moved to ``pages-dlq`` after 5 receives).

An event only says *which* article changed: its ``slug``. The function reads the
article as it is now (a strongly consistent read) and makes the page agree:

- the article exists: its page is rendered (``render_markdown`` for the body, the
  ``article.html.j2`` template around it) and written to ``articles/<slug>`` with
  ``Content-Type: text/html; charset=utf-8`` and ``Cache-Control: max-age=60``;
- it does not (deleted): ``articles/<slug>`` is deleted (S3: deleting a missing key
  succeeds);

then the article is read again (strongly consistent) and, while it no longer matches
what was just written or deleted, the page is made again (a few rounds at most, then
the message fails and is retried); then exactly ``/articles/<slug>`` is invalidated on
the distribution, and nothing else. Because each try renders the current state and
checks it after writing, the function is idempotent and order-proof: SNS and a
standard SQS queue keep no order and may deliver twice, and several events for one
article may be handled at once (several pollers, several Lambdas). A duplicate, a
retry, a late ``ArticlePublished`` after an ``ArticleUpdated``, or a handler that read
the article just before another one deleted it rewrites the page to the article's last
state, and can never leave an older version, or the page of a deleted article, behind.

An ``AuthorRenamed`` message (the events function's, for a user who changed their
username) renders the author's pages again, :data:`RENAME_CHUNK` at a time, newest
first: one page of the author's index per message, each synced as above and
invalidated together (one invalidation request per chunk); if more follow, the
function sends itself the same message with the index's cursor on the pages queue,
and the next receive goes on from there. However many articles the author has, each
message is bounded work, well within the timeout; a failed chunk is retried alone.

Slugs become object keys and invalidation paths, where ``*`` is a wildcard; a slug
that ``articles.slugify`` could not have made is skipped with a warning, and so is a
message that is neither an article event nor a rename (retrying cannot change it).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import jinja2
from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from markupsafe import Markup

from overcast.apps.blog.batches import process_batch
from overcast.apps.blog.domain import NotFound
from overcast.apps.blog.events import EVENT_ATTRIBUTE, AuthorRenamed, blog_event
from overcast.apps.blog.markdown import render_markdown
from overcast.apps.blog.people import People
from overcast.apps.blog.service import (
    AUTHOR_INDEX,
    blog_table,
    pages_queue,
    site_bucket,
    site_distribution,
)
from overcast.ports.cdn import Invalidator
from overcast.ports.objects import ObjectAttributes, ObjectStore
from overcast.ports.queues import MessageAttribute, MessageQueue, OutgoingMessage
from overcast.ports.tables import InvalidCursor, Table
from overcast.runtime import ColdStart, RuntimeConfig
from overcast.runtime.adapters import open_bucket, open_invalidator, open_queue, open_table

logger = logging.getLogger(__name__)

PAGES = "articles/"
CONTENT_TYPE = "text/html; charset=utf-8"
CACHE_CONTROL = "max-age=60"
_ARTICLE = "ARTICLE#"
# What slugify makes (lowercase words, hyphens, a hex suffix), with room to spare;
# nothing that is a wildcard or a separator in a path.
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
# Writes of one page before giving up on an article that keeps changing.
SYNC_ROUNDS = 5
# Pages rendered again per AuthorRenamed message (a page takes well under 0.1 s).
RENAME_CHUNK = 25


class PageOutOfStep(Exception):
    """The article changed at every round of writing its page (the message is retried)."""


@dataclass(frozen=True)
class ArticlePage:
    """What an article's page shows."""

    slug: str
    title: str
    description: str
    body: str  # Markdown
    tags: tuple[str, ...]
    author: str  # the username
    created_at: str
    updated_at: str


def page_key(slug: str) -> str:
    """The page's object key in the site bucket."""
    return f"{PAGES}{slug}"


def page_path(slug: str) -> str:
    """The page's path on the distribution: what to invalidate."""
    return f"/{PAGES}{slug}"


def templates() -> jinja2.Environment:
    """The page templates, autoescaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("overcast.apps.blog", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_page(page: ArticlePage, environment: jinja2.Environment | None = None) -> str:
    """The article's whole HTML page: escaped fields around the sanitised body."""
    template = (environment or templates()).get_template("article.html.j2")
    return template.render(
        page=page,
        body=Markup(render_markdown(page.body)),  # sanitised: safe to insert as is
        created=_shown_date(page.created_at),
    )


def _shown_date(moment: str) -> str:
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return moment
    return f"{parsed.day} {parsed:%B %Y}"


class ArticlePages:
    """Keeps the site bucket's article pages in step with the blog table."""

    def __init__(
        self,
        table: Table,
        site: ObjectStore,
        invalidator: Invalidator,
        continuations: MessageQueue,
        *,
        environment: jinja2.Environment | None = None,
        rename_chunk: int = RENAME_CHUNK,
    ) -> None:
        self._table = table
        self._people = People(table)
        self._site = site
        self._invalidator = invalidator
        self._continuations = continuations
        self._templates = environment or templates()
        self._rename_chunk = rename_chunk

    def sync(self, slug: str) -> None:
        """Render the article's page, or delete it if the article is gone; invalidate it."""
        if self._synced(slug):
            self._invalidator.invalidate([page_path(slug)])

    def rename(self, renamed: AuthorRenamed) -> None:
        """Render one chunk of the author's pages again; send the rest on as a continuation."""
        try:
            chunk = self._table.query(
                f"AUTHOR#{renamed.uid}",
                index=AUTHOR_INDEX,
                descending=True,
                limit=self._rename_chunk,
                cursor=renamed.cursor,
            )
        except InvalidCursor as exc:  # not a cursor the table handed out: retrying cannot help
            logger.warning("Skipping the rename of %s: %s", renamed.uid, exc)
            return
        slugs = [str(item.get("slug", "")) for item in chunk.items]
        paths = [page_path(slug) for slug in slugs if self._synced(slug)]
        if paths:
            self._invalidator.invalidate(paths)
        if chunk.cursor is not None:
            attributes = {EVENT_ATTRIBUTE: MessageAttribute("String", renamed.type)}
            going_on = replace(renamed, cursor=chunk.cursor)
            self._continuations.send(OutgoingMessage(going_on.body(), attributes))

    def _synced(self, slug: str) -> bool:
        """Make the page agree with the article; False for a slug the blog never makes."""
        if not _SLUG.match(slug):
            logger.warning("Skipping the article %r: not a slug the blog makes.", slug)
            return False
        page = self.page(slug)
        for _ in range(SYNC_ROUNDS):
            self._write(slug, page)
            # Another handler may have changed the article (and written its page) between
            # the read and the write: check, so that the last write always shows the last
            # state (whoever writes last, reads after writing).
            current = self.page(slug)
            if current == page:
                return True
            page = current
        raise PageOutOfStep(f"The article {slug!r} kept changing while its page was written.")

    def _write(self, slug: str, page: ArticlePage | None) -> None:
        if page is None:
            self._site.delete(page_key(slug))
        else:
            self._site.put(
                page_key(slug),
                render_page(page, self._templates).encode(),
                ObjectAttributes(content_type=CONTENT_TYPE, cache_control=CACHE_CONTROL),
            )

    def page(self, slug: str) -> ArticlePage | None:
        """The article as it is now (strongly consistent), or None if there is none."""
        item = self._table.get({"pk": f"{_ARTICLE}{slug}", "sk": "ARTICLE"}, consistent=True)
        if item is None:
            return None
        return ArticlePage(
            slug=slug,
            title=str(item.get("title", "")),
            description=str(item.get("description", "")),
            body=str(item.get("body", "")),
            tags=tuple(str(tag) for tag in item.get("tags", [])),
            author=self._username(str(item.get("author", ""))),
            created_at=str(item.get("created_at", "")),
            updated_at=str(item.get("updated_at", "")),
        )

    def _username(self, uid: str) -> str:
        try:
            # Strongly consistent, as the article: a rename's re-render must see it.
            return self._people.get(uid, consistent=True).username
        except NotFound:
            return "unknown"


class PagesFunction:
    """The handler's dependencies: the pages, behind Powertools' batch processor."""

    def __init__(self, pages: ArticlePages) -> None:
        self.pages = pages

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_batch(event, context, self._message, EventType.SQS)

    def _message(self, record: SQSRecord) -> None:
        event = blog_event(record)
        if isinstance(event, AuthorRenamed):
            self.pages.rename(event)
        elif event is not None:
            self.pages.sync(event.slug)


def bootstrap(config: RuntimeConfig) -> PagesFunction:
    """The composition root: the blog table, the site bucket and its distribution, and
    the pages queue (for a rename's continuations)."""
    pages = ArticlePages(
        open_table(blog_table, config),
        open_bucket(site_bucket, config),
        open_invalidator(site_distribution, config),
        open_queue(pages_queue, config),
    )
    return PagesFunction(pages)


dependencies = ColdStart(bootstrap)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler (``overcast.apps.blog.pages:handler``)."""
    return dependencies().handle(event, context)
