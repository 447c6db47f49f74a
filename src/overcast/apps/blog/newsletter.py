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

**Once per subscriber per article**, though SNS and SQS deliver at least once, two
deliveries of one event may be handled at once (two pollers, two Lambdas), and a try
may fail half-way (the mail server goes away after some emails). Each email is claimed
before it is sent, in the blog table: ``pk = NEWSLETTER#<slug>``,
``sk = SENT#<lower email>``, written with a condition (``status = sending``,
``claimed_at``, ``claim``): the item must not exist, or hold a claim older than
:data:`CLAIM_LEASE` (its sender died), which is taken over (the write's condition is
that the stale claim is still there). After sending, the item becomes
``status = sent`` (``sent_at``, ``message_id``). A duplicate delivery or a retry
sends only the emails the earlier tries did not. A try that finds someone else's
*fresh* claim does not skip that reader (the other sender may yet fail): it goes on
with the others, then fails its message, which comes back after the visibility
timeout, longer than the lease, and finds the email ``sent`` (skipped) or the claim
stale (taken over). A send that fails releases its claim.

What remains is at least once: a crash after the send but before the item says
``sent`` leaves a claim that another try takes over after the lease, and sends again.
That duplicate is the same message, as each email's ``Message-ID`` is fixed (the mail
port's ``idempotency_key``, ``newsletter-<slug>-<hash of the email>``: the SMTP
adapter turns ``@`` and ``:`` into ``-``, so the address itself would let two
subscribers share one Message-ID), which the local mailbox keeps once; with SES (no
Message-ID deduplication) it is a second email.

An address the mailer refuses for good is logged and skipped; a mailer or table that
is down fails the message, which comes back after the queue's visibility timeout (and
goes to ``newsletter-dlq`` after 30 receives, about 6 hours) and resumes where the
try stopped.

Links: the article's page on the site, ``<site URL>/articles/<slug>``, and the
one-click unsubscribe link, ``<API base URL>/api/subscriptions/unsubscribe?...`` (as in
the welcome email). The API's base URL comes from the function's configuration
(``OVERCAST_RESOURCE_API_BLOG``) and the site's from
``OVERCAST_RESOURCE_DISTRIBUTION_URL_SITE``: the ``https://`` URL of the distribution
``site`` (its CloudFront domain on AWS, its local edge locally), which the deployer
and the local cloud pass to the service's functions as they pass the API's.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
from overcast.ports.tables import AttributeEquals, ConditionFailed, Item, ItemNotExists, Table
from overcast.runtime import ColdStart, RuntimeConfig
from overcast.runtime.adapters import open_mailer, open_table

logger = logging.getLogger(__name__)

SENDER = "newsletter@myblog.com"
SITE_URL = "DISTRIBUTION_URL"  # the resource kind of a distribution's URL
# How long a claim to send one email holds: longer than the function's timeout (120 s:
# a claimer still running has sent or given up by then), shorter than the queue's
# visibility timeout (720 s: the retry of a message that met a fresh claim finds it
# stale if its claimer died).
CLAIM_LEASE = timedelta(seconds=300)
SENDING, SENT = "sending", "sent"


class ClaimedElsewhere(Exception):
    """Another try is sending some of these emails: this message must be tried again."""


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
        """Email every subscribed reader who has not had this article yet; how many.

        Raises :class:`ClaimedElsewhere` (after mailing everyone else) when another try
        is sending some of the emails: the message must come back later.
        """
        if event.type != PUBLISHED:
            logger.info("Not announcing %s of %s: only new articles are.", event.type, event.slug)
            return 0
        article = self._table.get({"pk": f"ARTICLE#{event.slug}", "sk": "ARTICLE"}, consistent=True)
        if article is None:
            logger.info("Not announcing %s: the article is gone.", event.slug)
            return 0
        sent, busy = 0, 0
        for reader in self._subscribers.subscribed():
            try:
                sent += self._send(event, article, reader)
            except ClaimedElsewhere:
                busy += 1
        if busy:
            raise ClaimedElsewhere(f"{busy} emails of {event.slug} are being sent by another try")
        return sent

    def _send(self, event: ArticleEvent, article: Item, listed: Subscriber) -> bool:
        key = sent_key(event.slug, listed.email)
        claim = self._claim(key)
        if claim is None:
            return False  # a duplicate delivery or a retry: this one has it
        reader = self._subscribers.get(listed.email)
        if reader is None or reader.status != SUBSCRIBED:
            self._release(key, claim)
            return False  # unsubscribed since the listing
        try:
            message_id = self._mailer.send(self.message(event, article, reader))
        except InvalidMessage as exc:
            # Permanent: retrying cannot help, and would hold up everyone after them.
            logger.warning("Not mailing %s: the mailer refuses the message: %s", reader.email, exc)
            self._release(key, claim)
            return False
        except Exception:
            self._release(key, claim)  # not sent: the retry may send it at once
            raise
        record = {**key, "status": SENT, "sent_at": self._now(), "message_id": message_id}
        try:
            self._table.put(record, condition=AttributeEquals("claim", claim))
        except ConditionFailed:  # our lease ran out and another try took over: both sent it
            logger.warning("The newsletter to %s was claimed by another try.", reader.email)
        return True

    def _claim(self, key: dict[str, str]) -> str | None:
        """Claim the email of ``key``: the claim's token, or None if it was sent; raises
        :class:`ClaimedElsewhere` while another try's claim is fresh."""
        token = uuid.uuid4().hex
        claim = {**key, "status": SENDING, "claimed_at": self._now(), "claim": token}
        try:
            self._table.put(claim, condition=ItemNotExists())
            return token
        except ConditionFailed:
            pass
        current = self._table.get(key, consistent=True)
        if current is None or current.get("status", SENT) == SENT:
            return None  # sent (or, rarely, released just now: a retry will see)
        claimed_at = datetime.fromisoformat(str(current.get("claimed_at", "")))
        if self._clock() - claimed_at < CLAIM_LEASE:
            raise ClaimedElsewhere(f"{key['sk']} is being sent by another try")
        try:  # a stale claim: its sender died; take it over unless someone else just did
            self._table.put(claim, condition=AttributeEquals("claim", current.get("claim")))
        except ConditionFailed:
            raise ClaimedElsewhere(f"{key['sk']} was just taken over by another try") from None
        return token

    def _release(self, key: dict[str, str], claim: str) -> None:
        try:
            self._table.delete(key, condition=AttributeEquals("claim", claim))
        except Exception:  # the lease frees it anyway
            logger.warning("Could not release the claim on %s.", key["sk"], exc_info=True)

    def _now(self) -> str:
        return self._clock().isoformat()

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
