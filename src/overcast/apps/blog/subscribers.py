"""Newsletter subscribers: the items the welcome and newsletter functions read.

Item (the shared contract with ``welcome.py`` and ``newsletter.py``)::

    pk "SUBSCRIBER#<lower-cased email>", sk "SUBSCRIBER", email, name?, source
    ("account" | "newsletter"), unsubscribe_token, subscribed_at, status
    ("subscribed" | "unsubscribed"), gsi1pk "SUBSCRIBERS", gsi1sk <lower-cased email>

``status = "subscribed"`` is the blog's confirmed state: the address asked for the
newsletter (or registered an account with it) and has not unsubscribed since. The
blog asks for no double opt-in, so there is no pending state to wait for.

Listing the subscribers (:meth:`Subscribers.subscribed`) queries the ``gsi1``
partition ``SUBSCRIBERS``, in email order, a page at a time: no scan. Subscriber items
written before that partition existed lack ``gsi1pk``, so they are not listed until
they are written again (resubscribing adds the keys); backfill them with one scan of
``sk = SUBSCRIBER`` items that sets ``gsi1pk``/``gsi1sk``.

A subscriber is written once, with ``attribute_not_exists``: the stream's INSERT is
what sends the one welcome email, so subscribing again (or registering with an
address already on the newsletter) writes nothing and sends nothing. Unsubscribing
compares the link's token in constant time (``hmac.compare_digest``); a wrong token
changes nothing.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from overcast.apps.blog.domain import Clock, Invalid, NotFound, timestamp
from overcast.apps.blog.service import SUBSCRIBERS_INDEX
from overcast.ports.tables import AttributeEquals, ConditionFailed, Item, ItemNotExists, Table

SUBSCRIBED = "subscribed"
_LISTED = "SUBSCRIBERS"
_PAGE = 100


def subscriber_key(email: str) -> dict[str, str]:
    return {"pk": f"SUBSCRIBER#{email.lower()}", "sk": "SUBSCRIBER"}


def _listing(email: str) -> dict[str, str]:
    return {"gsi1pk": _LISTED, "gsi1sk": email.lower()}


@dataclass(frozen=True)
class Subscriber:
    """A subscriber, as the mailing functions need one."""

    email: str
    unsubscribe_token: str
    status: str
    name: str | None = None

    @classmethod
    def of(cls, item: Item) -> Subscriber:
        name = item.get("name")
        return cls(
            email=str(item.get("email", "")),
            unsubscribe_token=str(item.get("unsubscribe_token", "")),
            status=str(item.get("status", "")),
            name=str(name) if name else None,
        )


class Subscribers:
    """Subscribe and unsubscribe by email."""

    def __init__(self, table: Table, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    def subscribe(self, email: str, source: str, name: str | None = None) -> bool:
        """Add the subscriber; ``False`` if the address is already on the list.

        An address that unsubscribed is put back on the list (no second welcome: the
        stream trigger welcomes new subscriber items only).
        """
        item = {
            **subscriber_key(email),
            "email": email,
            "source": source,
            "unsubscribe_token": secrets.token_urlsafe(32),
            "subscribed_at": timestamp(self._clock()),
            "status": SUBSCRIBED,
            **_listing(email),
        }
        if name is not None:
            item["name"] = name
        try:
            self._table.put(item, condition=ItemNotExists())
        except ConditionFailed:
            self._resubscribe(email)
            return False
        return True

    def _resubscribe(self, email: str) -> None:
        with contextlib.suppress(ConditionFailed):  # subscribed already
            self._table.update(
                subscriber_key(email),
                {
                    "status": SUBSCRIBED,
                    "subscribed_at": timestamp(self._clock()),
                    **_listing(email),
                },
                condition=AttributeEquals("status", "unsubscribed"),
            )

    def unsubscribe(self, email: str, token: str) -> None:
        """Mark the subscriber unsubscribed if ``token`` is theirs."""
        item = self._table.get(subscriber_key(email), consistent=True)
        if item is None:
            raise NotFound("subscription")
        expected = str(item.get("unsubscribe_token", ""))
        if not hmac.compare_digest(expected.encode(), token.encode()):
            raise Invalid("token", "is invalid")
        self._table.update(subscriber_key(email), {"status": "unsubscribed"})

    def subscribed(self) -> Iterator[Subscriber]:
        """Every subscriber whose status is ``subscribed``, in email order (``gsi1``;
        eventually consistent, as a global secondary index is)."""
        cursor = None
        while True:
            page = self._table.query(_LISTED, index=SUBSCRIBERS_INDEX, limit=_PAGE, cursor=cursor)
            for item in page.items:
                subscriber = Subscriber.of(item)
                if subscriber.status == SUBSCRIBED and subscriber.email:
                    yield subscriber
            if page.cursor is None:
                return
            cursor = page.cursor

    def get(self, email: str) -> Subscriber | None:
        """The subscriber ``email`` as stored now (a strongly consistent read)."""
        item = self._table.get(subscriber_key(email), consistent=True)
        return None if item is None else Subscriber.of(item)
