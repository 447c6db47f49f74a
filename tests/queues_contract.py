"""The queue port's contract: what every adapter must do, as SQS does it.

A runner module defines a ``messaging`` fixture returning a :class:`Harness` on which
:data:`SERVICE` is declared and empty, then imports these tests with
``from tests.queues_contract import *``. Runners: ``tests/unit/test_messaging_memory.py``,
``tests/integration/test_messaging_sqlite.py`` and (on moto)
``tests/integration/test_messaging_aws.py``.

Time: tests wait with ``messaging.advance(seconds)``, which moves a fake clock locally
and sleeps on real backends, so they use timeouts of about a second. Tests that need
minutes of time (retention, the 5-minute deduplication window) call
:func:`needs_fast_clock` and are skipped where the clock is real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from overcast import spec
from overcast.ports.queues import (
    InvalidMessage,
    MessageAttribute,
    MessageQueue,
    OutgoingMessage,
    QueueError,
    QueueNotFound,
    ReceiptHandleInvalid,
    ReceivedMessage,
    TooManyEntries,
)
from overcast.ports.topics import MessageTopic

ORDERS = spec.Queue("orders")
DEAD = spec.Queue("dead")
RETRIED = spec.Queue("retried", dead_letter=spec.DeadLetter(DEAD, max_receive_count=2))
DELAYED = spec.Queue("delayed", delay_seconds=1)
SHORT = spec.Queue("short", retention_seconds=60)
LINE = spec.Queue("line", fifo=True)
SAME = spec.Queue("same", fifo=True, content_based_deduplication=True)
EVENTS = spec.Topic("events")
ORDERED = spec.Topic("ordered", fifo=True)
WRAPPED = spec.Queue("wrapped")
RAW = spec.Queue("raw")
LARGE = spec.Queue("large")
PAID = spec.Queue("paid")
FOLLOW = spec.Queue("follow", fifo=True)
SERVICE = spec.Service(
    "shop",
    queues=(ORDERS, DEAD, RETRIED, DELAYED, SHORT, LINE, SAME, WRAPPED, RAW, LARGE, PAID, FOLLOW),
    topics=(EVENTS, ORDERED),
    subscriptions=(
        spec.Subscription(EVENTS, WRAPPED),
        spec.Subscription(EVENTS, RAW, raw_message_delivery=True),
        spec.Subscription(
            EVENTS,
            LARGE,
            filter_policy='{"size": [{"numeric": [">", 10]}]}',
            raw_message_delivery=True,
        ),
        spec.Subscription(
            EVENTS,
            PAID,
            filter_policy='{"order": {"state": ["paid"]}}',
            filter_policy_scope="MessageBody",
            raw_message_delivery=True,
        ),
        spec.Subscription(ORDERED, FOLLOW, raw_message_delivery=True),
    ),
)


class Harness(Protocol):
    """What the contract needs of an adapter: open queues and topics, and move time."""

    fast_clock: bool

    def queue(self, name: str) -> MessageQueue: ...
    def topic(self, name: str) -> MessageTopic: ...
    def advance(self, seconds: float) -> None: ...


@dataclass
class FakeClock:
    """Epoch seconds that move only when told."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class LocalHarness:
    """A harness over a local messaging (SQLite or memory) with a fake clock."""

    messaging: Any
    clock: FakeClock = field(default_factory=FakeClock)
    fast_clock: bool = True

    def queue(self, name: str) -> MessageQueue:
        queue: MessageQueue = self.messaging.queue(name)
        return queue

    def topic(self, name: str) -> MessageTopic:
        topic: MessageTopic = self.messaging.topic(name)
        return topic

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


def needs_fast_clock(messaging: Harness) -> None:
    if not messaging.fast_clock:
        pytest.skip("needs minutes of simulated time; this backend's clock is real")


def queue_of(messaging: Harness, declaration: spec.Queue) -> MessageQueue:
    return messaging.queue(SERVICE.queue_name(declaration))


def drain(queue: MessageQueue, visibility: int = 30) -> list[ReceivedMessage]:
    """Every message visible now (received, not deleted)."""
    found: list[ReceivedMessage] = []
    while batch := queue.receive(10, visibility_timeout=visibility):
        found += batch
    return found


def eventually(
    check: Callable[[], list[ReceivedMessage]], seconds: float = 5
) -> list[ReceivedMessage]:
    """Real backends deliver fan-out asynchronously: look again for a while."""
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


# --- send and receive --------------------------------------------------------------


def test_a_sent_message_is_received_with_sqs_digests_and_system_attributes(
    messaging: Harness,
) -> None:
    orders = queue_of(messaging, ORDERS)
    attributes = {"attribName1": MessageAttribute("String", "attribValue 1")}
    message_id = orders.send(OutgoingMessage("hello", attributes))

    (received,) = orders.receive(10)

    assert received.message_id == message_id
    assert received.body == "hello"
    assert received.md5_of_body == "5d41402abc4b2a76b9719d911017c592"
    assert received.attributes == attributes
    # SQS's documented digest of this attribute (computed as in "Calculating the MD5 ...").
    assert received.md5_of_message_attributes == "19e27d4e946b072f3f58da80d94fd778"
    assert received.receive_count == 1
    assert received.first_receive_timestamp_ms >= received.sent_timestamp_ms > 0


def test_number_and_binary_attributes_come_back_as_sent(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    attributes = {
        "attribName1": MessageAttribute("String", "attribValue 1"),
        "customNumberTypeAttrib": MessageAttribute(
            "Number.float", "4563442423554324324264524243.32543234"
        ),
        "binaryAttribute": MessageAttribute("Binary", binary_value=b"Hello binary world!"),
    }
    orders.send(OutgoingMessage("x", attributes))
    (received,) = orders.receive()
    assert received.attributes == attributes
    assert received.md5_of_message_attributes == "c932db14a896c663f83c260297d594ff"


def test_a_received_message_is_invisible_until_its_visibility_timeout_ends(
    messaging: Harness,
) -> None:
    orders = queue_of(messaging, ORDERS)
    orders.send(OutgoingMessage("once"))
    (first,) = orders.receive(visibility_timeout=1)
    assert orders.receive(10) == []

    messaging.advance(1.5)
    (again,) = orders.receive()

    assert again.message_id == first.message_id
    assert again.receive_count == 2
    assert again.receipt_handle != first.receipt_handle


def test_a_deleted_message_never_comes_back(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    orders.send(OutgoingMessage("done"))
    (received,) = orders.receive(visibility_timeout=1)
    orders.delete(received.receipt_handle)
    messaging.advance(1.5)
    assert orders.receive(10) == []


def test_changing_visibility_to_zero_makes_a_message_visible_at_once(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    orders.send(OutgoingMessage("retry me"))
    (received,) = orders.receive()
    orders.change_visibility(received.receipt_handle, 0)
    (again,) = orders.receive()
    assert again.message_id == received.message_id


def test_a_batch_sends_all_and_a_receive_returns_at_most_ten(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    first = orders.send_batch([OutgoingMessage(f"m{n}") for n in range(10)])
    second = orders.send_batch([OutgoingMessage(f"m{n}") for n in range(10, 12)])
    received = orders.receive(10)
    assert 1 <= len(received) <= 10
    everything = received + drain(orders)
    assert sorted(message.message_id for message in everything) == sorted(first + second)
    orders.delete_batch([message.receipt_handle for message in everything[:10]])


def test_a_queue_delay_hides_new_messages_for_its_seconds(messaging: Harness) -> None:
    delayed = queue_of(messaging, DELAYED)
    delayed.send(OutgoingMessage("later"))
    assert delayed.receive(10) == []
    messaging.advance(1.5)
    assert [message.body for message in delayed.receive(10)] == ["later"]


def test_a_message_delay_hides_that_message_only(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    orders.send(OutgoingMessage("later", delay_seconds=1))
    orders.send(OutgoingMessage("now"))
    assert [message.body for message in orders.receive(10)] == ["now"]
    messaging.advance(1.5)
    assert [message.body for message in orders.receive(10)] == ["later"]


def test_long_polling_returns_as_soon_as_a_message_arrives(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    sender = threading.Timer(0.3, lambda: orders.send(OutgoingMessage("awaited")))
    started = time.monotonic()
    sender.start()
    try:
        received = orders.receive(wait_seconds=10)
    finally:
        sender.join()
    assert [message.body for message in received] == ["awaited"]
    assert time.monotonic() - started < 5


# --- redrive -------------------------------------------------------------------------


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(messaging: Harness) -> None:
    retried, dead = queue_of(messaging, RETRIED), queue_of(messaging, DEAD)
    attributes = {"kind": MessageAttribute("String", "poison")}
    message_id = retried.send(OutgoingMessage("poison", attributes))
    for _ in range(2):  # maxReceiveCount 2: two receives return it
        assert [m.message_id for m in retried.receive(visibility_timeout=1)] == [message_id]
        messaging.advance(1.5)

    assert retried.receive(10) == []
    (moved,) = eventually(lambda: dead.receive(10))
    assert (moved.message_id, moved.body, moved.attributes) == (message_id, "poison", attributes)


# --- FIFO ----------------------------------------------------------------------------


def fifo(body: str, group: str, dedup: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(body, group_id=group, deduplication_id=dedup or f"{group}-{body}")


def test_fifo_messages_of_a_group_arrive_in_order_and_not_while_one_is_in_flight(
    messaging: Harness,
) -> None:
    line = queue_of(messaging, LINE)
    for body, group in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("a3", "a"), ("b2", "b")]:
        line.send(fifo(body, group))

    (first,) = line.receive(1)
    assert first.body == "a1"
    assert first.group_id == "a"
    assert first.sequence_number is not None
    rest = line.receive(10)
    assert [message.body for message in rest] == ["b1", "b2"]  # group a waits for a1

    line.delete(first.receipt_handle)
    assert [message.body for message in line.receive(10)] == ["a2", "a3"]


def test_fifo_sequence_numbers_grow(messaging: Harness) -> None:
    line = queue_of(messaging, LINE)
    line.send(fifo("one", "g"))
    line.send(fifo("two", "g"))
    received = line.receive(10)
    numbers = [int(message.sequence_number or 0) for message in received]
    assert len(numbers) == 2
    assert numbers[0] < numbers[1]


def test_a_fifo_duplicate_is_accepted_but_stored_once(messaging: Harness) -> None:
    line, same = queue_of(messaging, LINE), queue_of(messaging, SAME)
    first = line.send(fifo("pay", "g", dedup="order-1"))
    second = line.send(fifo("pay again", "g", dedup="order-1"))
    same.send(OutgoingMessage("same body", group_id="g"))
    same.send(OutgoingMessage("same body", group_id="g"))

    assert first == second
    assert [message.body for message in line.receive(10)] == ["pay"]
    assert [message.body for message in same.receive(10)] == ["same body"]


def test_the_deduplication_window_is_five_minutes(messaging: Harness) -> None:
    needs_fast_clock(messaging)
    line = queue_of(messaging, LINE)
    line.send(fifo("once", "g", dedup="d"))
    messaging.advance(301)
    line.send(fifo("twice", "g", dedup="d"))
    assert [message.body for message in line.receive(10)] == ["once", "twice"]


def test_messages_older_than_the_retention_period_vanish(messaging: Harness) -> None:
    needs_fast_clock(messaging)
    short = queue_of(messaging, SHORT)
    short.send(OutgoingMessage("old"))
    messaging.advance(61)
    short.send(OutgoingMessage("new"))
    assert [message.body for message in short.receive(10)] == ["new"]


# --- bad requests change nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        OutgoingMessage("x" * (1_048_576 + 1)),
        OutgoingMessage(""),
        OutgoingMessage("bad \x00 character"),
        OutgoingMessage("x", {f"a{n}": MessageAttribute("String", "v") for n in range(11)}),
        OutgoingMessage("x", {"AWS.reserved": MessageAttribute("String", "v")}),
        OutgoingMessage("x", {"n": MessageAttribute("Number", "not a number")}),
        OutgoingMessage("x", {"t": MessageAttribute("Text", "v")}),
        OutgoingMessage("x", delay_seconds=901),
    ],
    ids=["oversize", "empty", "nul", "11-attributes", "reserved-name", "nan", "type", "delay"],
)
def test_an_invalid_message_is_refused_and_nothing_is_sent(
    messaging: Harness, message: OutgoingMessage
) -> None:
    orders = queue_of(messaging, ORDERS)
    with pytest.raises(InvalidMessage):
        orders.send(message)
    assert orders.receive(10) == []


def test_a_batch_of_eleven_is_refused_whole(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    with pytest.raises(TooManyEntries):
        orders.send_batch([OutgoingMessage(f"m{n}") for n in range(11)])
    with pytest.raises(TooManyEntries):
        orders.send_batch([])
    assert orders.receive(10) == []


def test_a_batch_with_one_bad_message_sends_nothing(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    with pytest.raises(InvalidMessage):
        orders.send_batch([OutgoingMessage("fine"), OutgoingMessage("")])
    assert orders.receive(10) == []


@pytest.mark.parametrize(
    "message",
    [
        OutgoingMessage("no group", deduplication_id="d"),
        OutgoingMessage("no dedup id", group_id="g"),
        OutgoingMessage("delayed", group_id="g", deduplication_id="d", delay_seconds=1),
    ],
    ids=["group", "dedup", "delay"],
)
def test_a_fifo_message_sqs_would_refuse_is_refused(
    messaging: Harness, message: OutgoingMessage
) -> None:
    line = queue_of(messaging, LINE)
    with pytest.raises(InvalidMessage):
        line.send(message)
    assert line.receive(10) == []


def test_receiving_more_than_ten_is_refused(messaging: Harness) -> None:
    with pytest.raises(QueueError):
        queue_of(messaging, ORDERS).receive(11)


def test_an_unknown_queue_is_not_found(messaging: Harness) -> None:
    with pytest.raises(QueueNotFound):
        messaging.queue("shop-nowhere").send(OutgoingMessage("lost"))


def test_a_forged_receipt_handle_is_invalid(messaging: Harness) -> None:
    with pytest.raises(ReceiptHandleInvalid):
        queue_of(messaging, ORDERS).delete("not-a-receipt-handle")


def test_deleting_with_an_old_receipt_handle_succeeds(messaging: Harness) -> None:
    orders = queue_of(messaging, ORDERS)
    orders.send(OutgoingMessage("twice"))
    (first,) = orders.receive(visibility_timeout=1)
    messaging.advance(1.5)
    (second,) = orders.receive()
    orders.delete(first.receipt_handle)  # SQS: succeeds; the message might stay
    orders.delete(second.receipt_handle)
    messaging.advance(31)
    assert orders.receive(10) == []
