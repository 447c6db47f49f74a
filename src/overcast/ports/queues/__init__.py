"""The queue port: SQS's queues — send, receive with a visibility timeout, delete,
batches, delays, redrive to a dead-letter queue, FIFO groups and deduplication."""

from overcast.ports.queues.base import (
    MessageAttribute,
    MessageQueue,
    OutgoingMessage,
    ReceivedMessage,
)
from overcast.ports.queues.exceptions import (
    InvalidMessage,
    InvalidRequest,
    MessageNotInflight,
    QueueError,
    QueueNotFound,
    QueueUnavailable,
    ReceiptHandleInvalid,
    TooManyEntries,
)

__all__ = [
    "InvalidMessage",
    "InvalidRequest",
    "MessageAttribute",
    "MessageNotInflight",
    "MessageQueue",
    "OutgoingMessage",
    "QueueError",
    "QueueNotFound",
    "QueueUnavailable",
    "ReceiptHandleInvalid",
    "ReceivedMessage",
    "TooManyEntries",
]
