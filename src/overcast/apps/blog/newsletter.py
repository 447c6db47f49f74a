"""The newsletter function: every confirmed subscriber hears of each new article, once.

Triggered by the queue ``newsletter``, subscribed to the topic ``articles`` with the
filter policy ``{"event": ["ArticlePublished"]}`` and raw delivery (a message's body
is the event's JSON, see ``events.py``), one message per invocation, with
``ReportBatchItemFailures``. An event of another type is ignored (the filter keeps
them out; a message sent to the queue by hand is not trusted to be one).

Who gets it: every subscriber whose status is ``subscribed`` — the blog's confirmed
state (``subscribers.py``: the address asked for the newsletter, or registered an
account with it, and has not unsubscribed). They are listed from ``gsi1`` (no scan),
and each is read again (strongly consistent) just before their email, so one who
unsubscribed in the meantime gets nothing. The article is read too: one deleted
before its newsletter went out is announced to no one, and an edited one is
announced with its current title.

**Once per subscriber per article**, though SNS and SQS deliver at least once and a
try may fail half-way (the mail server goes away after some emails): each email is
recorded in the blog table, ``pk = NEWSLETTER#<slug>``, ``sk = SENT#<lower email>``
(``sent_at``, ``message_id``), written after sending with ``attribute_not_exists``,
and checked before sending. A duplicate delivery or a retry sends only the emails
the earlier tries did not. Send first, then record, for welcome.py's reason: a crash
between the two can only duplicate an email, never lose one — and that duplicate is
the same message, as each email's ``Message-ID`` is fixed (the mail port's
``idempotency_key``, ``newsletter-<slug>-<hash of the email>``: the SMTP adapter
turns ``@`` and ``:`` into ``-``, so the address itself would let two subscribers
share one Message-ID), which the local mailbox keeps once. With SES a resend in that
window is a second email: at least once on AWS.

An address the mailer refuses for good is logged and skipped; a mailer or table that
is down fails the message, which comes back after the queue's visibility timeout (and
goes to ``newsletter-dlq`` after 5 receives) and resumes where the try stopped.

Links: the article's page on the site, ``<site URL>/articles/<slug>``, and the
one-click unsubscribe link, ``<API base URL>/api/subscriptions/unsubscribe?...`` (as in
the welcome email). The API's base URL comes from the function's configuration
(``OVERCAST_RESOURCE_API_BLOG``) and the site's from
``OVERCAST_RESOURCE_DISTRIBUTION_URL_SITE``: the ``https://`` URL of the distribution
``site`` (its CloudFront domain on AWS, its local edge locally), which the deployer
and the local cloud pass to the service's functions as they pass the API's.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import jinja2
from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from overcast.apps.blog.batches import process_batch
from overcast.apps.blog.events import PUBLISHED, ArticleEvent, article_event
from overcast.apps.blog.mailing import render, templates, unsubscribe_url
from overcast.apps.blog.service import blog_table, site_distribution
from overcast.apps.blog.subscribers import SUBSCRIBED, Subscriber, Subscribers
from overcast.ports.mail import Email, InvalidMessage, Mailer
from overcast.ports.tables import ConditionFailed, Item, ItemNotExists, Table
from overcast.runtime import ColdStart, RuntimeConfig
from overcast.runtime.adapters import open_mailer, open_table

logger = logging.getLogger(__name__)

SENDER = "newsletter@myblog.com"
SITE_URL = "DISTRIBUTION_URL"  # the resource kind of a distribution's URL


def sent_key(slug: str, email: str) -> dict[str, str]:
    """The record that ``email`` got the newsletter of the article ``slug``."""
    return {"pk": f"NEWSLETTER#{slug}", "sk": f"SENT#{email.lower()}"}


class Newsletter:
    """Emails each subscribed reader about a new article, once."""

    def __init__(
        self,
        table: Table,
        mailer: Mailer,
        *,
        site_url: str,
        api_url: str,
        environment: jinja2.Environment | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._table = table
        self._mailer = mailer
        self._subscribers = Subscribers(table, clock)
        self._site_url = site_url.rstrip("/")
        self._api_url = api_url.rstrip("/")
        self._templates = environment or templates()
        self._clock = clock

    def announce(self, event: ArticleEvent) -> int:
        """Email every subscribed reader who has not had this article yet; how many."""
        if event.type != PUBLISHED:
            logger.info("Not announcing %s of %s: only new articles are.", event.type, event.slug)
            return 0
        article = self._table.get({"pk": f"ARTICLE#{event.slug}", "sk": "ARTICLE"}, consistent=True)
        if article is None:
            logger.info("Not announcing %s: the article is gone.", event.slug)
            return 0
        return sum(self._send(event, article, reader) for reader in self._subscribers.subscribed())

    def _send(self, event: ArticleEvent, article: Item, listed: Subscriber) -> bool:
        key = sent_key(event.slug, listed.email)
        if self._table.get(key, consistent=True) is not None:
            return False  # a duplicate delivery or a retry: this one has it
        reader = self._subscribers.get(listed.email)
        if reader is None or reader.status != SUBSCRIBED:
            return False  # unsubscribed since the listing
        try:
            message_id = self._mailer.send(self.message(event, article, reader))
        except InvalidMessage as exc:
            # Permanent: retrying cannot help, and would hold up everyone after them.
            logger.warning("Not mailing %s: the mailer refuses the message: %s", reader.email, exc)
            return False
        record = {**key, "sent_at": self._clock().isoformat(), "message_id": message_id}
        with contextlib.suppress(ConditionFailed):  # concurrent deliveries: both sent it
            self._table.put(record, condition=ItemNotExists())
        return True

    def message(self, event: ArticleEvent, article: Item, reader: Subscriber) -> Email:
        """The newsletter email to ``reader``: text and HTML, with both links."""
        title = " ".join(str(article.get("title", event.title)).split())  # one header line
        values = {
            "name": reader.name,
            "email": reader.email,
            "title": title,
            "description": str(article.get("description", event.description)),
            "author": event.author,
            "article_url": f"{self._site_url}/articles/{quote(event.slug)}",
            "unsubscribe_url": unsubscribe_url(
                self._api_url, reader.email, reader.unsubscribe_token
            ),
        }
        text, html = render(self._templates, "newsletter", values)
        digest = hashlib.sha256(reader.email.lower().encode()).hexdigest()[:32]
        return Email(
            sender=SENDER,
            to=(reader.email,),
            subject=f"New on MyBlog.com: {title}",
            text=text,
            html=html,
            idempotency_key=f"newsletter-{event.slug}-{digest}",
        )


class NewsletterFunction:
    """The handler's dependencies: the newsletter, behind Powertools' batch processor."""

    def __init__(self, newsletter: Newsletter) -> None:
        self.newsletter = newsletter

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_batch(event, context, self._message, EventType.SQS)

    def _message(self, record: SQSRecord) -> None:
        event = article_event(record)
        if event is not None:
            self.newsletter.announce(event)


def bootstrap(config: RuntimeConfig) -> NewsletterFunction:
    """The composition root: the blog table, the mailer, the site's and the API's URLs."""
    newsletter = Newsletter(
        open_table(blog_table, config),
        open_mailer(config),
        site_url=config.resource(SITE_URL, site_distribution.name),
        api_url=config.resource("API", "blog"),
    )
    return NewsletterFunction(newsletter)


dependencies = ColdStart(bootstrap)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler (``overcast.apps.blog.newsletter:handler``)."""
    return dependencies().handle(event, context)
