"""SQS's behaviour, once, over a :class:`~overcast.ports.queues.store.StoreTransaction`.

Mirrored rules (SQS Developer Guide):

- Delay: a message is invisible for the queue's ``DelaySeconds`` or its own (standard
  queues only) after it is sent.
- Visibility timeout: a received message is invisible for the timeout; if not deleted
  it becomes visible again, with ``ApproximateReceiveCount`` one higher. Each receive
  hands out a new receipt handle.
- Delete: "if you don't provide the most recently received receipt handle for the
  message, the request will still succeed, but the message might not be deleted" — here
  it is not deleted; a handle of a message already gone succeeds too. A handle this
  queue never handed out raises ``ReceiptHandleInvalid``.
- ChangeMessageVisibility: only for a message in flight, by its latest receipt handle
  (otherwise ``MessageNotInflight``); the timeout counts from now and may not take the
  message past 12 hours after its receive.
- Retention: "messages that are in the queue longer than the retention period are
  deleted". A message moved to a dead-letter queue keeps its enqueue time on standard
  queues; on FIFO queues the time is reset when it moves.
- Redrive: "when the ReceiveCount for a message exceeds the maxReceiveCount for a
  queue, Amazon SQS moves the message to a dead-letter queue" — at the receive that
  would exceed it; the message keeps its id, body, attributes and receive count.
- FIFO: messages of one group are returned in order, and none of a group while one of
  its messages is in flight; a deduplication id (or the body's SHA-256 with
  content-based deduplication) seen in the last 5 minutes makes a send succeed without
  adding a message; sequence numbers grow with each message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid

from overcast.ports.queues import validation
from overcast.ports.queues.base import (
    MAX_VISIBILITY_SECONDS,
    OutgoingMessage,
    ReceivedMessage,
)
from overcast.ports.queues.exceptions import (
    InvalidMessage,
    InvalidRequest,
    MessageNotInflight,
    QueueNotFound,
    ReceiptHandleInvalid,
)
from overcast.ports.queues.store import QueueConfig, StoredMessage, StoreTransaction, pages

DEDUPLICATION_SECONDS = 300  # SQS and SNS FIFO: "5-minute deduplication interval".


def new_id() -> str:
    return str(uuid.uuid4())


def config_of(transaction: StoreTransaction, name: str) -> QueueConfig:
    config = transaction.queue(name)
    if config is None:
        raise QueueNotFound(f"No queue is named {name!r}; is it declared in the service?")
    return config


def enqueue(
    transaction: StoreTransaction,
    config: QueueConfig,
    message: OutgoingMessage,
    now: float,
    sender_id: str,
    message_id: str,
) -> str:
    """Add ``message`` to the queue (or find its duplicate); return its message id."""
    deduplication_id = message.deduplication_id
    if config.fifo:
        if deduplication_id is None:
            if not config.content_based_deduplication:
                raise InvalidMessage(
                    f"Queue {config.name!r} has no content-based deduplication: each message "
                    "needs a deduplication_id."
                )
            deduplication_id = hashlib.sha256(message.body.encode()).hexdigest()
        seen = transaction.deduplicated(config.name, deduplication_id, now)
        if seen is not None:
            return seen
        transaction.remember(config.name, deduplication_id, message_id, now + DEDUPLICATION_SECONDS)
    delay = config.delay if message.delay_seconds is None else message.delay_seconds
    transaction.insert(
        StoredMessage(
            queue=config.name,
            message_id=message_id,
            body=message.body,
            attributes=dict(message.attributes),
            sent_at=now,
            visible_at=now + delay,
            expires_at=now + config.retention,
            sender_id=sender_id,
            group_id=message.group_id if config.fifo else None,
            deduplication_id=deduplication_id if config.fifo else None,
        )
    )
    return message_id


def receive(
    transaction: StoreTransaction,
    config: QueueConfig,
    max_messages: int,
    visibility_timeout: int | None,
    now: float,
) -> list[ReceivedMessage]:
    """Take up to ``max_messages`` visible messages, redriving those received too often."""
    transaction.expire(config.name, now)
    timeout = config.visibility_timeout if visibility_timeout is None else visibility_timeout
    blocked = transaction.in_flight_groups(config.name, now) if config.fifo else set()
    taken: list[ReceivedMessage] = []
    for message in pages(transaction, config.name, now, max(max_messages, 50)):
        if len(taken) == max_messages:
            break
        if message.group_id in blocked:
            continue
        if config.dead_letter and message.receive_count >= config.max_receive_count:
            _redrive(transaction, message, config.dead_letter, now)
            continue
        taken.append(_take(transaction, config, message, timeout, now))
    return taken


def _redrive(
    transaction: StoreTransaction, message: StoredMessage, target: str, now: float
) -> None:
    dead_letter = config_of(transaction, target)
    message.queue = dead_letter.name
    message.visible_at = now
    message.receipt = None
    if dead_letter.fifo:  # SQS: a FIFO message's enqueue time resets when it moves.
        message.expires_at = now + dead_letter.retention
    transaction.update(message)


def _take(
    transaction: StoreTransaction,
    config: QueueConfig,
    message: StoredMessage,
    timeout: int,
    now: float,
) -> ReceivedMessage:
    message.receive_count += 1
    message.received_at = now
    if message.first_received_at is None:
        message.first_received_at = now
    message.visible_at = now + timeout
    message.receipt = uuid.uuid4().hex
    transaction.update(message)
    return _received(config, message)


def _received(config: QueueConfig, message: StoredMessage) -> ReceivedMessage:
    assert message.receipt is not None
    assert message.first_received_at is not None
    return ReceivedMessage(
        message_id=message.message_id,
        receipt_handle=receipt_handle(config.name, message.message_id, message.receipt),
        body=message.body,
        md5_of_body=validation.md5_of_body(message.body),
        attributes=dict(message.attributes),
        md5_of_message_attributes=validation.md5_of_attributes(message.attributes),
        receive_count=message.receive_count,
        sent_timestamp_ms=int(message.sent_at * 1000),
        first_receive_timestamp_ms=int(message.first_received_at * 1000),
        sender_id=message.sender_id,
        group_id=message.group_id,
        deduplication_id=message.deduplication_id,
        sequence_number=f"{message.sequence:020d}" if config.fifo else None,
    )


def delete(transaction: StoreTransaction, queue: str, handle: str) -> None:
    message_id, receipt = parse_receipt_handle(queue, handle)
    message = transaction.get(message_id)
    if message is not None and message.queue == queue and message.receipt == receipt:
        transaction.delete(message_id)


def change_visibility(
    transaction: StoreTransaction, queue: str, handle: str, seconds: int, now: float
) -> None:
    message_id, receipt = parse_receipt_handle(queue, handle)
    message = transaction.get(message_id)
    in_flight = message is not None and message.queue == queue and message.visible_at > now
    if message is None or not in_flight or message.receipt != receipt:
        raise MessageNotInflight(
            "The message is not in flight: it was deleted, its visibility timeout ended, or "
            "it was received again with a newer receipt handle."
        )
    assert message.received_at is not None
    if now + seconds - message.received_at > MAX_VISIBILITY_SECONDS:
        raise InvalidRequest("SQS keeps a message invisible at most 12 hours after its receive.")
    message.visible_at = now + seconds
    transaction.update(message)


def receipt_handle(queue: str, message_id: str, receipt: str) -> str:
    raw = f"{queue}\n{message_id}\n{receipt}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def parse_receipt_handle(queue: str, handle: str) -> tuple[str, str]:
    """The message id and receipt of ``handle``, which must be one of ``queue``'s."""
    try:
        text = base64.urlsafe_b64decode(handle.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError, AttributeError) as exc:
        raise ReceiptHandleInvalid(f"The receipt handle {handle!r} is not valid.") from exc
    parts = text.split("\n")
    if len(parts) != 3 or parts[0] != queue:
        raise ReceiptHandleInvalid(
            f"The receipt handle {handle!r} was not handed out by queue {queue!r}."
        )
    return parts[1], parts[2]
