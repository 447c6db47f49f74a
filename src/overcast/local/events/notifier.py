"""Send S3 event messages to topics and queues, as S3's notification destinations do.

S3 puts one event message, ``{"Records": [<one record>]}`` as JSON text, into the
destination of each matching ``QueueConfiguration`` / ``TopicConfiguration``:

- to a queue: the event is the message's body, with no message attributes;
- to a topic: S3 publishes the event with the subject ``Amazon S3 Notification``; the
  topic's subscriptions then decide, as SNS does, whether each queue gets the event in
  SNS's JSON envelope (its ``Message``) or, with raw delivery, as it is.

Locally both go through the cloud's SQLite messaging: a send returns only once it is
committed to disk, so the dispatcher may forget the event afterwards (at least once).
"""

from __future__ import annotations

from typing import Protocol

from overcast import spec
from overcast.ports.queues.base import OutgoingMessage
from overcast.ports.queues.messaging import StoredMessaging

# The subject S3 gives the event messages it publishes to SNS.
SUBJECT = "Amazon S3 Notification"


class Notifier(Protocol):
    """Sends one S3 event message (JSON text) to a declared topic or queue."""

    def send(self, target: spec.Topic | spec.Queue, message: str) -> None: ...


class MessagingNotifier:
    """A :class:`Notifier` over the local messaging, for one service's topics and queues."""

    def __init__(self, messaging: StoredMessaging, service: str) -> None:
        self._messaging = messaging
        self._service = service

    def send(self, target: spec.Topic | spec.Queue, message: str) -> None:
        if isinstance(target, spec.Topic):
            topic = self._messaging.topic(spec.topic_name(self._service, target))
            topic.publish(message, subject=SUBJECT)
        else:
            queue = self._messaging.queue(spec.queue_name(self._service, target))
            queue.send(OutgoingMessage(message))
