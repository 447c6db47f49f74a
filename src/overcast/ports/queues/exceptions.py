"""The queue port's exceptions. No backend exception type escapes the port.

QueueError
├── InvalidRequest          a parameter SQS would refuse; nothing changed
│   ├── InvalidMessage      a body, attribute or FIFO id SQS would refuse
│   └── TooManyEntries      more than 10 entries in a batch (SQS's TooManyEntriesInBatchRequest)
├── QueueNotFound           no queue of this name (SQS's QueueDoesNotExist)
├── ReceiptHandleInvalid    a receipt handle this queue never handed out
├── MessageNotInflight      change_visibility of a message that is not in flight
└── QueueUnavailable        the backend failed (disk, lock, network); retry later
"""


class QueueError(Exception):
    """Base of every error the queue and topic ports raise."""


class InvalidRequest(QueueError, ValueError):
    """A parameter is out of SQS's (or SNS's) range; nothing changed."""


class InvalidMessage(InvalidRequest):
    """The message breaks SQS's rules (size, characters, attributes, FIFO ids)."""


class TooManyEntries(InvalidRequest):
    """A batch holds more than 10 entries (or none)."""


class QueueNotFound(QueueError):
    """No queue has this name."""


class ReceiptHandleInvalid(QueueError, ValueError):
    """The receipt handle is malformed or belongs to another queue."""


class MessageNotInflight(QueueError):
    """The message is not in flight (its visibility timeout expired, or it was re-received)."""


class QueueUnavailable(QueueError):
    """The backend could not serve the request; it may be retried."""
