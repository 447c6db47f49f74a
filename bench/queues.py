"""Messages/s and end-to-end latency through topic → queue → handler, locally.

Sender processes (as function workers would) publish messages to a topic of the local
SQLite messaging, each stamped with its send time; the topic fans out to a subscribed
queue (SNS's JSON envelope); a queue dispatcher (in this process, as in ``overcast
up``: batches of 10, two pollers) invokes a real worker process running
:func:`handler`, which answers how long ago each message was sent.

Two runs per case: **throughput** — ``--senders`` processes send ``--messages`` in
all as fast as they can (messages/s from the first send to the last handled); and
**latency** — one sender at a steady ``--rate`` for ``--messages`` / 4 messages (p50
and p99 of send → handler, without a backlog). Baselines measured in the same run,
with ratios: the same messages sent straight to the queue (no topic), and a direct
in-process call of the handler with a one-record event.

Bounded in time: each run stops after ``--seconds`` even if messages are left.

    .venv/bin/python -m bench.queues [--messages 2000] [--senders 4] [--rate 100]
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

    def concurrency(self, function: spec.Function) -> int:
        return self.invoker.concurrency(function)

    async def invoke(
        self, function: spec.Function, event: Any, *, start_within: float | None = None
    ) -> Any:
        result = await self.invoker.invoke(function, event, start_within=start_within)
        self.latencies.extend(result["latencies"])
        self.last = time.time()
        return result


def send(path: str, via_topic: bool, count: int, rate: float | None, started: Any) -> None:
    """A sender process: ``count`` messages, one call each, ``rate`` a second (or as fast
    as it can)."""
    messaging = SqliteMessaging(path)
    topic = messaging.topic(SERVICE.topic_name(TOPIC)) if via_topic else None
    queue = messaging.queue(SERVICE.queue_name(QUEUE))
    began = time.perf_counter()
    started.put(time.time())
    for n in range(count):
        pause = began + n / rate - time.perf_counter() if rate else 0
        if pause > 0:
            time.sleep(pause)
        body = json.dumps({"n": n, "sent_at": time.time()})
        if topic is not None:
            topic.publish(body)
        else:
            queue.send(OutgoingMessage(body))


@dataclass(frozen=True)
class Load:
    messages: int
    senders: int
    rate: float | None  # per sender; None: as fast as it can
    limit: float


async def run_case(name: str, via_topic: bool, load: Load, data: Path) -> Case:
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
    each = load.messages // load.senders
    senders = [
        context.Process(target=send, args=(str(path), via_topic, each, load.rate, started))
        for _ in range(load.senders)
    ]
    for sender in senders:
        sender.start()
    began = min([await asyncio.to_thread(started.get) for _ in senders])
    count = each * load.senders
    deadline = time.monotonic() + load.limit
    while len(recording.latencies) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await dispatcher.stop()
    await invoker.close()
    for sender in senders:
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


def report(title: str, cases: list[Case], baseline: Case, direct: Case) -> None:
    print(f"\n{title}")
    print(f"{'case':<26}{'handled':>9}{'msg/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for case in [*cases, direct]:
        print(
            f"{case.name:<26}{len(case.latencies):>9}{case.per_second:>10.0f}"
            f"{case.cut(50) * 1000:>10.3f}{case.cut(99) * 1000:>10.3f}"
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


async def run(loads: dict[str, Load]) -> None:
    direct = direct_call_baseline()
    for title, load in loads.items():
        with tempfile.TemporaryDirectory() as data:
            topic = await run_case("topic -> queue -> handler", True, load, Path(data))
            queue = await run_case("queue -> handler", False, load, Path(data))
        report(title, [topic, queue], queue, direct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    arguments = parser.parse_args()
    count, limit = arguments.messages, arguments.seconds
    loads = {
        f"throughput: {arguments.senders} senders, as fast as they can": Load(
            count, arguments.senders, None, limit
        ),
        f"latency: 1 sender at {arguments.rate:g} messages/s": Load(
            max(count // 4, 2), 1, arguments.rate, limit
        ),
    }
    asyncio.run(run(loads))


if __name__ == "__main__":
    main()
