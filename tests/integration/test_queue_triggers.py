"""Queue triggers as ``overcast up`` runs them: real SQLite messaging, real function
processes (Powertools' batch processing), dispatchers polling in the background.

Topic → filtered subscription → queue → handler; reported failures redriven to the
dead-letter queue after maxReceiveCount; messages left when the dispatchers stop are
delivered by the next ones."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from overcast import spec
from overcast.local.functions.invoker import FunctionInvoker
from overcast.local.queues import ServiceQueues
from overcast.ports.queues import MessageAttribute, OutgoingMessage
from overcast.ports.queues.sqlite import SqliteMessaging
from overcast.runtime.adapters import open_queue, open_topic
from overcast.runtime.config import RuntimeConfig, resource_variable

pytestmark = pytest.mark.anyio

DEAD = spec.Queue("dead")
INBOX = spec.Queue("inbox", visibility_timeout_seconds=2)
WORK = spec.Queue("work", visibility_timeout_seconds=1, dead_letter=spec.DeadLetter(DEAD, 2))
NEWS = spec.Topic("news")
RECORDER = spec.Function("recorder", "tests.fixtures.queue_handlers:record_all", timeout_seconds=2)
PARTIAL = spec.Function("partial", "tests.fixtures.queue_handlers:partial", timeout_seconds=1)
SERVICE = spec.Service(
    "mail",
    queues=(DEAD, INBOX, WORK),
    topics=(NEWS,),
    subscriptions=(
        spec.Subscription(
            NEWS, INBOX, filter_policy='{"kind": ["order"]}', raw_message_delivery=True
        ),
    ),
    queue_triggers=(
        spec.QueueTrigger(INBOX, RECORDER),
        spec.QueueTrigger(WORK, PARTIAL, report_batch_item_failures=True),
    ),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def messaging(tmp_path: Path) -> SqliteMessaging:
    opened = SqliteMessaging(
        tmp_path / "messaging" / "messaging.sqlite3", region="us-east-1", account_id="1"
    )
    opened.declare(SERVICE)
    return opened


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "processed.log"


@pytest.fixture
async def invoker(log: Path) -> AsyncIterator[FunctionInvoker]:
    running = FunctionInvoker(
        SERVICE.name,
        SERVICE.all_functions,
        {},
        region="us-east-1",
        account_id="1",
        variables={f.name: {"QUEUE_LOG": str(log)} for f in SERVICE.all_functions},
    )
    yield running
    await running.close()


def lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def triggers(invoker: FunctionInvoker, messaging: SqliteMessaging) -> ServiceQueues:
    return ServiceQueues(SERVICE, invoker, messaging, region="us-east-1", poll_seconds=0.1)


async def test_published_orders_reach_the_handler_through_the_filtered_subscription(
    invoker: FunctionInvoker, messaging: SqliteMessaging, log: Path
) -> None:
    # Given running queue triggers
    running = triggers(invoker, messaging)
    running.start()
    # When orders and a refund are published to the topic
    topic = messaging.topic("mail-news")
    for n in range(3):
        topic.publish(f"order {n}", {"kind": MessageAttribute("String", string_value="order")})
    topic.publish("refund", {"kind": MessageAttribute("String", string_value="refund")})
    # Then the handler processes the orders only, and the queue is left empty
    await wait_for(lambda: len(lines(log)) >= 3)
    await running.stop()
    assert sorted(lines(log)) == ["order 0", "order 1", "order 2"]
    assert messaging.queue("mail-inbox").receive(10, visibility_timeout=0) == []


async def test_reported_failures_return_until_the_dead_letter_queue_takes_them(
    invoker: FunctionInvoker, messaging: SqliteMessaging, log: Path
) -> None:
    # Given a batch with one poison message, handled with Powertools' batch processing
    work = messaging.queue("mail-work")
    work.send_batch([OutgoingMessage(body) for body in ("job 1", "poison", "job 2")])
    running = triggers(invoker, messaging)
    running.start()
    # When it has been received twice (maxReceiveCount) and the timeout passed again
    dead = messaging.queue("mail-dead")
    parked = []
    deadline = time.monotonic() + 10
    while not parked and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        parked = await asyncio.to_thread(dead.receive, 10)
    await running.stop()
    # Then the good jobs were processed once each, the poison one parked in the DLQ
    assert sorted(lines(log)) == ["job 1", "job 2"]
    assert [message.body for message in parked] == ["poison"]
    assert parked[0].receive_count == 3  # two receives by the trigger, one here


async def test_a_functions_queue_and_topic_are_the_ones_the_triggers_read(
    invoker: FunctionInvoker, messaging: SqliteMessaging, log: Path, tmp_path: Path
) -> None:
    # Given a function's configuration, as the local cloud passes it
    config = RuntimeConfig(
        service="mail",
        data_dir=tmp_path,
        resources={
            resource_variable("QUEUE", "work"): SERVICE.queue_name(WORK),
            resource_variable("TOPIC", "news"): SERVICE.topic_name(NEWS),
        },
    )
    # When it sends through its adapters
    open_queue(WORK, config).send(OutgoingMessage("sent by a function"))
    order = {"kind": MessageAttribute("String", string_value="order")}
    open_topic(NEWS, config).publish("published by a function", order)
    # Then the queue triggers deliver both
    running = triggers(invoker, messaging)
    running.start()
    await wait_for(lambda: len(lines(log)) >= 2)
    await running.stop()
    assert sorted(lines(log)) == ["published by a function", "sent by a function"]


async def test_messages_left_when_the_triggers_stop_are_delivered_after_a_restart(
    invoker: FunctionInvoker, messaging: SqliteMessaging, log: Path, tmp_path: Path
) -> None:
    # Given messages sent while no trigger runs
    inbox = messaging.queue("mail-inbox")
    for n in range(12):
        inbox.send(OutgoingMessage(json.dumps({"n": n})))
    # When the triggers start, from a messaging opened afresh on the same file
    reopened = SqliteMessaging(messaging.path, region="us-east-1", account_id="1")
    running = triggers(invoker, reopened)
    running.start()
    await wait_for(lambda: len(lines(log)) >= 12)
    await running.stop()
    # Then every message was delivered exactly once
    assert sorted(json.loads(line)["n"] for line in lines(log)) == list(range(12))
