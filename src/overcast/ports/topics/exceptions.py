"""The topic port's exceptions (they share the queue port's base, :class:`QueueError`).

QueueError
└── TopicError
    ├── InvalidPublish   a message SNS would refuse (size, attributes, FIFO ids); nothing sent
    ├── TopicNotFound    no topic of this name (SNS's NotFound)
    └── TopicUnavailable the backend failed; retry later
"""

from overcast.ports.queues.exceptions import InvalidRequest, QueueError


class TopicError(QueueError):
    """Base of every error the topic port raises."""


class InvalidPublish(TopicError, InvalidRequest):
    """The message breaks SNS's rules; nothing was published."""


class TopicNotFound(TopicError):
    """No topic has this name."""


class TopicUnavailable(TopicError):
    """The backend could not serve the request; it may be retried."""
