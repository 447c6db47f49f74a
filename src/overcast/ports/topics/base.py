"""The topic port: SNS's ``Publish`` to one topic.

The base checks a message against SNS's rules before an adapter sees it, so a bad
publish raises :class:`~overcast.ports.topics.exceptions.InvalidPublish` and sends
nothing: a body of 1 byte to 256 KiB (attributes included: "The total size limit for
a single SMS/SNS publish action is 256 KB"), message attributes with SQS's naming rules
plus SNS's ``String.Array`` type (at most 10 here, as an SQS subscriber takes at most
10), a subject of 1-99 printable ASCII characters without line breaks, and on FIFO
topics a group id and a deduplication id unless the topic deduplicates by content.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from overcast.ports.queues import validation
from overcast.ports.queues.base import MessageAttribute, MessagingResource
from overcast.ports.queues.exceptions import InvalidMessage
from overcast.ports.topics.exceptions import InvalidPublish

MAX_PUBLISH_BYTES = 262_144
_SUBJECT = re.compile(r"^[\x20-\x7e]{1,99}$")


@dataclass(frozen=True)
class Publication:
    """One message to publish: its body and attributes, its subject, its FIFO ids."""

    body: str
    attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    subject: str | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


class MessageTopic(MessagingResource, ABC):
    """One topic. ``name`` is its physical (SNS) name; ``arn`` its ARN.

    ``content_based_deduplication`` is ``None`` when the adapter does not know it.
    """

    def publish(
        self,
        body: str,
        attributes: Mapping[str, MessageAttribute] | None = None,
        *,
        subject: str | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str:
        """Publish ``body`` to every matching subscriber; return the message id."""
        message = Publication(body, dict(attributes or {}), subject, group_id, deduplication_id)
        self.check(message)
        return self._publish(message)

    def check(self, message: Publication) -> None:
        try:
            validation.check_body(message.body)
            size = validation.check_attributes(_as_sqs(message.attributes))
            if len(message.body.encode()) + size > MAX_PUBLISH_BYTES:
                raise InvalidPublish(f"SNS publishes at most {MAX_PUBLISH_BYTES} bytes.")
            if self.fifo:
                self._check_fifo(message.group_id, message.deduplication_id)
            elif message.deduplication_id is not None or message.group_id is not None:
                raise InvalidPublish(f"Topic {self.name!r} is not FIFO: no group or dedup ids.")
        except InvalidMessage as exc:
            raise InvalidPublish(str(exc)) from exc
        _check_string_arrays(message.attributes)
        subject = message.subject
        if subject is not None and (not _SUBJECT.match(subject) or subject[0] == " "):
            raise InvalidPublish(
                "A subject is 1-99 printable ASCII characters without line breaks, as in SNS."
            )

    def _check_fifo(self, group_id: str | None, deduplication_id: str | None) -> None:
        if group_id is None:
            raise InvalidPublish(f"Topic {self.name!r} is FIFO: each message needs a group_id.")
        validation.check_fifo_id("group_id", group_id)
        if deduplication_id is not None:
            validation.check_fifo_id("deduplication_id", deduplication_id)
        elif self.content_based_deduplication is False:
            raise InvalidPublish(
                f"Topic {self.name!r} is FIFO without content-based deduplication: each "
                "message needs a deduplication_id."
            )

    @abstractmethod
    def _publish(self, message: Publication) -> str:
        """Publish the checked ``message``; return its id."""


def _as_sqs(attributes: Mapping[str, MessageAttribute]) -> dict[str, MessageAttribute]:
    """SNS's ``String.Array`` checked as SQS's ``String`` (same rules for the rest)."""
    return {
        name: MessageAttribute("String", value.string_value)
        if value.data_type == "String.Array"
        else value
        for name, value in attributes.items()
    }


def _check_string_arrays(attributes: Mapping[str, MessageAttribute]) -> None:
    for name, value in attributes.items():
        if value.data_type != "String.Array":
            continue
        try:
            parsed = json.loads(value.string_value or "")
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            raise InvalidPublish(f"Message attribute {name!r}: a String.Array is a JSON array.")
