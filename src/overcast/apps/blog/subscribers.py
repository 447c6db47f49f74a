"""Newsletter subscribers: the items the welcome function reacts to.

Item (the shared contract with ``welcome.py``)::

    pk "SUBSCRIBER#<lower-cased email>", sk "SUBSCRIBER", email, name?, source
    ("account" | "newsletter"), unsubscribe_token, subscribed_at, status
    ("subscribed" | "unsubscribed")

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

from overcast.apps.blog.domain import Clock, Invalid, NotFound, timestamp
from overcast.ports.tables import AttributeEquals, ConditionFailed, ItemNotExists, Table


def subscriber_key(email: str) -> dict[str, str]:
    return {"pk": f"SUBSCRIBER#{email.lower()}", "sk": "SUBSCRIBER"}


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
            "status": "subscribed",
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
                {"status": "subscribed", "subscribed_at": timestamp(self._clock())},
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
