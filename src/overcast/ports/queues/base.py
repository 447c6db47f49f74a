"""The queue port: SQS's send, receive, delete and change-visibility, by one queue.

The base implements the public API once: it checks every request against SQS's rules
(:mod:`overcast.ports.queues.validation`) before an adapter sees it, so a bad request
raises the port's exception and changes nothing, whatever the backend. Adapters fill
in five primitives: ``_send``, ``_receive``, ``_delete``, ``_change_visibility`` and
(optionally) ``_delete_batch``.

SQS behaviour every adapter keeps (see :mod:`overcast.ports.queues.engine` for the local
one): a received message stays invisible for the visibility timeout and then returns
with a higher ``receive_count`` (at-least-once delivery); each receive hands out a new
receipt handle; a delete with an older handle of a re-received message succeeds but
may leave the message in the queue ("if you don't provide the most recently received
receipt handle for the message, the request will still succeed, but the message might
not be deleted").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from overcast.ports.queues import validation
from overcast.ports.queues.exceptions import InvalidMessage, InvalidRequest, TooManyEntries

Clock = Callable[[], float]
"""Epoch seconds (``time.time``); injected so tests move time."""

MAX_BATCH = 10  # SQS: SendMessageBatch, DeleteMessageBatch, ReceiveMessage take at most 10.
MAX_WAIT_SECONDS = 20  # SQS: ReceiveMessage WaitTimeSeconds 0-20.
MAX_VISIBILITY_SECONDS = 43_200  # SQS: a visibility timeout is 0-12 hours.


@dataclass(frozen=True)
class MessageAttribute:
    """An SQS/SNS message attribute: ``String``, ``Number`` (as text) or ``Binary``,
    optionally with a custom label (``Number.float``)."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to send. ``delay_seconds`` overrides the queue's delay (standard queues
    only); FIFO queues need ``group_id``, and ``deduplication_id`` unless they
    deduplicate by content."""

    body: str
    attributes: Mapping[str, MessageAttribute] = field(default_factory=dict)
    delay_seconds: int | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


@dataclass(frozen=True)
class ReceivedMessage:
    """A message as ``ReceiveMessage`` returns it, with every system attribute."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: Mapping[str, MessageAttribute]
    md5_of_message_attributes: str | None
    receive_count: int
    sent_timestamp_ms: int
    first_receive_timestamp_ms: int
    sender_id: str
    group_id: str | None = None
    deduplication_id: str | None = None
    sequence_number: str | None = None


class MessagingResource:
    """A queue or a topic: ``name`` is its physical (SQS or SNS) name; ``arn`` its ARN.

    SQS and SNS both make a queue or topic FIFO by its name ("The name of a FIFO queue
    must end with the .fifo suffix"; the same for a FIFO topic).
    ``content_based_deduplication`` is ``None`` when the adapter does not know it.
    """

    name: str
    arn: str
    content_based_deduplication: bool | None = None

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


class MessageQueue(MessagingResource, ABC):
    """One queue. ``name`` is its physical (SQS) name; ``arn`` its ARN.

    ``content_based_deduplication`` is ``None`` when the adapter does not know it (the
    backend then decides whether a FIFO message without a deduplication id is valid).
    """

    def send(self, message: OutgoingMessage) -> str:
        """Send ``message``; return its id. Durable before it returns."""
        self.check(message)
        return self._send([message])[0]

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Send 1-10 messages at once (all or none); return their ids in order."""
        _check_batch(messages)
        sizes = [self.check(message) for message in messages]
        if sum(sizes) > validation.MAX_MESSAGE_BYTES:
            raise InvalidMessage(
                f"The batch is {sum(sizes)} bytes; SQS allows {validation.MAX_MESSAGE_BYTES} "
                "for all its messages together."
            )
        return self._send(list(messages))

    def receive(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: float = 0,
        visibility_timeout: int | None = None,
    ) -> list[ReceivedMessage]:
        """Receive up to ``max_messages`` (1-10) visible messages, waiting up to
        ``wait_seconds`` (0-20) for the first; each stays invisible for
        ``visibility_timeout`` seconds (the queue's by default)."""
        if isinstance(max_messages, bool) or not 1 <= max_messages <= MAX_BATCH:
            raise InvalidRequest(f"max_messages must be 1-{MAX_BATCH}, as in SQS.")
        if not 0 <= wait_seconds <= MAX_WAIT_SECONDS:
            raise InvalidRequest(f"wait_seconds must be 0-{MAX_WAIT_SECONDS}, as in SQS.")
        if visibility_timeout is not None:
            _check_visibility(visibility_timeout)
        return self._receive(max_messages, wait_seconds, visibility_timeout)

    def delete(self, receipt_handle: str) -> None:
        """Delete the message received with ``receipt_handle``."""
        self._delete(receipt_handle)

    def delete_batch(self, receipt_handles: Sequence[str]) -> None:
        """Delete 1-10 messages by their receipt handles."""
        _check_batch(receipt_handles)
        self._delete_batch(list(receipt_handles))

    def change_visibility(self, receipt_handle: str, seconds: int) -> None:
        """Make an in-flight message visible again ``seconds`` from now (0: at once)."""
        _check_visibility(seconds)
        self._change_visibility(receipt_handle, seconds)

    def check(self, message: OutgoingMessage) -> int:
        """Check ``message`` against SQS's rules for this queue; return its size in bytes."""
        validation.check_body(message.body)
        size = validation.check_attributes(message.attributes)
        validation.check_size(message.body, size)
        if message.delay_seconds is not None:
            delay = message.delay_seconds
            if isinstance(delay, bool) or not 0 <= delay <= validation.MAX_DELAY_SECONDS:
                raise InvalidMessage("delay_seconds must be 0-900, as in SQS.")
        if self.fifo:
            self._check_fifo(message)
        elif message.deduplication_id is not None:
            raise InvalidMessage(
                f"Queue {self.name!r} is not FIFO: SQS takes a deduplication id on FIFO only."
            )
        return len(message.body.encode()) + size

    def _check_fifo(self, message: OutgoingMessage) -> None:
        if message.delay_seconds is not None:
            raise InvalidMessage(
                f"Queue {self.name!r} is FIFO: SQS refuses a per-message delay there "
                "(set the queue's delay instead)."
            )
        if message.group_id is None:
            raise InvalidMessage(f"Queue {self.name!r} is FIFO: each message needs a group_id.")
        validation.check_fifo_id("group_id", message.group_id)
        if message.deduplication_id is not None:
            validation.check_fifo_id("deduplication_id", message.deduplication_id)
        elif self.content_based_deduplication is False:
            raise InvalidMessage(
                f"Queue {self.name!r} is FIFO without content-based deduplication: each "
                "message needs a deduplication_id."
            )

    # --- primitives -----------------------------------------------------------

    @abstractmethod
    def _send(self, messages: list[OutgoingMessage]) -> list[str]: ...

    @abstractmethod
    def _receive(
        self, max_messages: int, wait_seconds: float, visibility_timeout: int | None
    ) -> list[ReceivedMessage]: ...

    @abstractmethod
    def _delete(self, receipt_handle: str) -> None: ...

    @abstractmethod
    def _change_visibility(self, receipt_handle: str, seconds: int) -> None: ...

    def _delete_batch(self, receipt_handles: list[str]) -> None:
        for handle in receipt_handles:
            self._delete(handle)


def _check_batch(entries: Sequence[object]) -> None:
    if isinstance(entries, str | bytes):
        raise TooManyEntries("Pass a sequence of entries, not one string.")
    if not 1 <= len(entries) <= MAX_BATCH:
        raise TooManyEntries(f"A batch holds 1-{MAX_BATCH} entries, as in SQS; got {len(entries)}.")


def _check_visibility(seconds: int) -> None:
    if isinstance(seconds, bool) or not 0 <= seconds <= MAX_VISIBILITY_SECONDS:
        raise InvalidRequest(
            f"A visibility timeout must be 0-{MAX_VISIBILITY_SECONDS} s, as in SQS."
        )
