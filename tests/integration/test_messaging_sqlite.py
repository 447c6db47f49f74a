"""The SQLite messaging passes the queue and topic contracts, and keeps them across
reopening, processes and concurrent receivers."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from overcast import spec
from overcast.ports.queues import MessageAttribute, OutgoingMessage, QueueUnavailable
from overcast.ports.queues.sqlite import SqliteMessaging
from tests.queues_contract import *  # noqa: F403  (the contract's tests run here)
from tests.queues_contract import (
    EVENTS,
    LARGE,
    ORDERS,
    RAW,
    SERVICE,
    WRAPPED,
    FakeClock,
    LocalHarness,
)
from tests.topics_contract import *  # noqa: F403


@pytest.fixture
def messaging(tmp_path: Path) -> Iterator[LocalHarness]:
    clock = FakeClock()
    local = SqliteMessaging(tmp_path / "messaging" / "messaging.sqlite3", clock)
    local.declare(SERVICE)
    yield LocalHarness(local, clock)
    local.sqlite.close()


def test_messages_and_topology_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "messaging.sqlite3"
    first = SqliteMessaging(path)
    first.declare(SERVICE)
    first.queue(SERVICE.queue_name(ORDERS)).send(OutgoingMessage("kept"))
    first.sqlite.close()

    second = SqliteMessaging(path)  # declares nothing: the topology is in the file
    received = second.queue(SERVICE.queue_name(ORDERS)).receive(10)
    assert [message.body for message in received] == ["kept"]


def test_an_old_receipt_handle_does_not_delete_a_message_received_again(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    local = SqliteMessaging(tmp_path / "m.sqlite3", clock)
    local.declare(SERVICE)
    orders = local.queue(SERVICE.queue_name(ORDERS))
    orders.send(OutgoingMessage("still mine"))
    (first,) = orders.receive(visibility_timeout=1)
    clock.advance(2)
    (second,) = orders.receive(visibility_timeout=1)

    orders.delete(first.receipt_handle)

    clock.advance(2)
    assert [message.message_id for message in orders.receive()] == [second.message_id]


def test_concurrent_receivers_never_get_the_same_message(tmp_path: Path) -> None:
    local = SqliteMessaging(tmp_path / "m.sqlite3")
    local.declare(SERVICE)
    orders = local.queue(SERVICE.queue_name(ORDERS))
    for start in range(0, 200, 10):
        orders.send_batch([OutgoingMessage(str(n)) for n in range(start, start + 10)])
    seen: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        while batch := orders.receive(10, visibility_timeout=60):
            with lock:
                seen.extend(message.body for message in batch)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen, key=int) == [str(n) for n in range(200)]


def _send_from_child(path: str, count: int) -> None:
    local = SqliteMessaging(path)
    queue = local.queue(SERVICE.queue_name(ORDERS))
    for n in range(count):
        queue.send(OutgoingMessage(f"child {n}"))


def test_another_process_sees_what_one_sends(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    local = SqliteMessaging(path)
    local.declare(SERVICE)
    child = multiprocessing.get_context("spawn").Process(
        target=_send_from_child, args=(str(path), 5)
    )
    child.start()
    orders = local.queue(SERVICE.queue_name(ORDERS))
    received = orders.receive(10, wait_seconds=15)
    child.join(30)
    while more := orders.receive(10):
        received += more
    assert child.exitcode == 0
    assert sorted(message.body for message in received) == [f"child {n}" for n in range(5)]


def test_a_failing_fan_out_delivers_to_no_queue(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    local = SqliteMessaging(path)
    local.declare(SERVICE)
    # Break the last subscribed queue behind the messaging's back: its row goes away.
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM queues WHERE name = ?", (SERVICE.queue_name(WRAPPED),))
    connection.close()

    with pytest.raises(Exception, match="No queue is named"):
        local.topic(SERVICE.topic_name(EVENTS)).publish(
            "all or nothing", {"size": MessageAttribute("Number", "50")}
        )

    for queue in (LARGE, RAW):
        assert local.queue(SERVICE.queue_name(queue)).receive(10) == []


def test_an_unusable_file_is_reported_as_the_ports_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(QueueUnavailable):
        SqliteMessaging(blocker / "m.sqlite3").declare(SERVICE)


def test_declaring_again_replaces_a_topics_subscriptions(tmp_path: Path) -> None:
    local = SqliteMessaging(tmp_path / "m.sqlite3")
    local.declare(SERVICE)
    fewer = spec.Service(
        "shop",
        queues=(WRAPPED,),
        topics=(EVENTS,),
        subscriptions=(spec.Subscription(EVENTS, WRAPPED, raw_message_delivery=True),),
    )
    local.declare(fewer)
    local.topic(SERVICE.topic_name(EVENTS)).publish("only one")
    assert [m.body for m in local.queue(SERVICE.queue_name(WRAPPED)).receive(10)] == ["only one"]
    assert local.queue(SERVICE.queue_name(RAW)).receive(10) == []
