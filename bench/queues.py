"""Messages/s and end-to-end latency through topic → queue → handler, locally.

A sender process (as a function worker would) publishes ``--messages`` messages to a
topic of the local SQLite messaging, as fast as it can, each stamped with its send
time; the topic fans out to a subscribed queue (SNS's JSON envelope); a queue
dispatcher (in this process, as in ``overcast up``: batches of 10, two pollers)
invokes a real worker process running :func:`handler`, which answers how long ago
each message was sent. Reported per case: messages/s (first send to last handled)
and p50/p99 of send → handler latency; and, measured in the same run, two baselines
with their ratios — the same messages sent straight to the queue (no topic), and a
direct in-process call of the handler with a one-record event.

Bounded in time: each case stops after ``--seconds`` even if messages are left.

    .venv/bin/python -m bench.queues [--messages 2000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overcast import spec
from overcast.local.functions.invoker import FunctionInvoker
from overcast.local.queues.dispatcher import QueueDispatcher
from overcast.local.queues.events import QueueSource, sqs_event, sqs_record
from overcast.ports.queues import OutgoingMessage
from overcast.ports.queues.sqlite import SqliteMessaging

QUEUE = spec.Queue("inbox", visibility_timeout_seconds=60)
TOPIC = spec.Topic("news")
FUNCTION = spec.Function("latency", "bench.queues:handler", timeout_seconds=30)
SERVICE = spec.Service(
    "bench",
    queues=(QUEUE,),
    topics=(TOPIC,),
    subscriptions=(spec.Subscription(TOPIC, QUEUE),),
    queue_triggers=(spec.QueueTrigger(QUEUE, FUNCTION),),
)
REPO = Path(__file__).resolve().parent.parent


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Seconds since each message was sent (its ``sent_at``, under SNS's envelope or not)."""
    now = time.time()
    latencies = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if "Message" in body:  # delivered by the topic, in SNS's envelope
            body = json.loads(body["Message"])
        latencies.append(now - body["sent_at"])
    return {"latencies": latencies}


@dataclass
class Case:
    name: str
    sent: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def cut(self, percent: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[percent - 1]


class Recording:
    """The real invoker; keeps the latencies the handler reports, and when it last did."""

    def __init__(self, invoker: FunctionInvoker) -> None:
        self.invoker = invoker
        self.latencies: list[float] = []
        self.last = 0.0

    def __contains__(self, function: object) -> bool:
        return function in self.invoker

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any:
        result = await self.invoker.invoke(function, event)
        self.latencies.extend(result["latencies"])
        self.last = time.time()
        return result


def send(path: str, via_topic: bool, count: int, started: Any) -> None:
    """The sender process: ``count`` messages, one call each, as fast as it can."""
    messaging = SqliteMessaging(path)
    topic = messaging.topic(SERVICE.topic_name(TOPIC)) if via_topic else None
    queue = messaging.queue(SERVICE.queue_name(QUEUE))
    started.put(time.time())
    for n in range(count):
        body = json.dumps({"n": n, "sent_at": time.time()})
        if topic is not None:
            topic.publish(body)
        else:
            queue.send(OutgoingMessage(body))


async def run_case(name: str, via_topic: bool, count: int, limit: float, data: Path) -> Case:
    path = data / name / "messaging.sqlite3"
    messaging = SqliteMessaging(path, account_id="123456789012")
    messaging.declare(SERVICE)
    queue = messaging.queue(SERVICE.queue_name(QUEUE))
    invoker = FunctionInvoker(
        "bench", [FUNCTION], {}, region="us-east-1", account_id="1", python_path=[str(REPO)]
    )
    await invoker.start()
    recording = Recording(invoker)
    (trigger,) = SERVICE.queue_triggers
    dispatcher = QueueDispatcher(
        trigger, queue, recording, QueueSource(queue.arn, "us-east-1"), trigger_id=name
    )
    dispatcher.start()
    context = multiprocessing.get_context("spawn")
    started: Any = context.Queue()
    sender = context.Process(target=send, args=(str(path), via_topic, count, started))
    sender.start()
    began = await asyncio.to_thread(started.get)
    deadline = time.monotonic() + limit
    while len(recording.latencies) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await dispatcher.stop()
    await invoker.close()
    sender.join()
    return Case(name, count, max(recording.last - began, 1e-9), recording.latencies)


def direct_call_baseline() -> Case:
    """A one-record event handed straight to the handler, in this process."""
    messaging = SqliteMessaging(Path(tempfile.mkdtemp()) / "direct.sqlite3")
    messaging.declare(SERVICE)
    queue = messaging.queue(SERVICE.queue_name(QUEUE))
    queue.send(OutgoingMessage(json.dumps({"n": 0, "sent_at": 0.0})))
    (message,) = queue.receive(1)
    timings = []
    record = sqs_record(message, QueueSource(queue.arn, "us-east-1"))
    began = time.perf_counter()
    for _ in range(2000):
        record["body"] = json.dumps({"n": 0, "sent_at": time.time()})
        called = time.perf_counter()
        handler(sqs_event([record]), None)
        timings.append(time.perf_counter() - called)
    return Case("direct call", 2000, time.perf_counter() - began, timings)


def report(cases: list[Case], baseline: Case, direct: Case) -> None:
    print(f"{'case':<24}{'handled':>9}{'msg/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for case in [*cases, direct]:
        print(
            f"{case.name:<24}{len(case.latencies):>9}{case.per_second:>10.0f}"
            f"{case.cut(50) * 1000:>10.2f}{case.cut(99) * 1000:>10.2f}"
        )
    for case in cases:
        if case is baseline:
            continue
        throughput = case.per_second / baseline.per_second
        p50, p99 = case.cut(50) / baseline.cut(50), case.cut(99) / baseline.cut(99)
        print(
            f"{case.name} / {baseline.name}: throughput x{throughput:.2f}, "
            f"p50 x{p50:.2f}, p99 x{p99:.2f}"
        )
        print(
            f"{case.name} / direct call: p50 x{case.cut(50) / direct.cut(50):.0f}"
            f" (the cost of the queue, the process hop and the batching)"
        )


async def run(count: int, limit: float) -> None:
    with tempfile.TemporaryDirectory() as data:
        topic = await run_case("topic -> queue -> handler", True, count, limit, Path(data))
        queue = await run_case("queue -> handler", False, count, limit, Path(data))
    report([topic, queue], queue, direct_call_baseline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.messages, arguments.seconds))


if __name__ == "__main__":
    main()
