"""The topic port: SNS's topics — publish, fanned out to subscribed queues through
filter policies, raw or in SNS's JSON envelope; FIFO topics keep each group's order."""

from overcast.ports.topics.base import MessageTopic, Publication
from overcast.ports.topics.exceptions import (
    InvalidPublish,
    TopicError,
    TopicNotFound,
    TopicUnavailable,
)

__all__ = [
    "InvalidPublish",
    "MessageTopic",
    "Publication",
    "TopicError",
    "TopicNotFound",
    "TopicUnavailable",
]
