"""Write → handler latency of the local change stream, at a steady write rate.

A writer process puts items into a SQLite table with a stream (as function workers
do), ``--rate`` per second for ``--seconds``; each item carries its write time. The
stream dispatcher (in this process, as in ``overcast up``) delivers the records to a
real worker process running :func:`handler`, which answers how long ago each record's
item was written. Reported: p50 and p99 of write → handler latency, next to two
baselines measured in the same run — the write itself (``put`` in the writer, commit
included) and a direct in-process call of the handler with a one-record event.

Targets (issue 5): p50 ≤ 100 ms and p99 ≤ 500 ms at 200 writes/s (AWS polls each
shard four times a second).

    .venv/bin/python -m bench.streams [--rate 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from overcast import spec
from overcast.local.functions.invoker import FunctionInvoker
from overcast.local.streams.change_log import LocalChangeLog
from overcast.local.streams.dispatcher import StreamDispatcher
from overcast.local.streams.events import StreamSource, stream_arn, stream_event, stream_record
from overcast.local.streams.store import StreamStore
from overcast.ports.tables.sqlite import SqliteTable

TABLE = spec.Table("bench", spec.Key("pk"), stream="NEW_IMAGE")
FUNCTION = spec.Function("latency", "bench.streams:handler", timeout_seconds=30)
REPO = Path(__file__).resolve().parent.parent


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Seconds since each record's item was written (its ``written_at``)."""
    now = time.time()
    return {
        "latencies": [
            now - float(record["dynamodb"]["NewImage"]["written_at"]["N"])
            for record in event["Records"]
        ]
    }


class Recording:
    """The real invoker; keeps the latencies the handler reports."""

    def __init__(self, invoker: FunctionInvoker) -> None:
        self.invoker = invoker
        self.latencies: list[float] = []

    def __contains__(self, function: object) -> bool:
        return function in self.invoker

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any:
        result = await self.invoker.invoke(function, event)
        self.latencies.extend(result["latencies"])
        return result


def write(path: str, rate: float, seconds: float, results: Any) -> None:
    """The writer process: ``rate`` puts a second, paced; sends back each put's duration."""
    table = SqliteTable(TABLE, path)
    durations = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        pause = start + n / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        began = time.perf_counter()
        table.put({"pk": f"item-{n}", "written_at": time.time()})
        durations.append(time.perf_counter() - began)
    table.close()
    results.put(durations)


def percentiles(samples: list[float]) -> str:
    if len(samples) < 2:
        return "no samples"
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49] * 1000:8.3f} ms   p99 {cuts[98] * 1000:8.3f} ms   (n={len(samples)})"


def direct_call_baseline(table: SqliteTable, source: StreamSource) -> list[float]:
    """A one-record event handed straight to the handler, in this process."""
    record = stream_record(table.stream_records(limit=1)[0], source)
    timings = []
    for _ in range(2000):
        event = stream_event([record])
        began = time.perf_counter()
        handler(event, None)
        timings.append(time.perf_counter() - began)
    return timings


async def run(rate: float, seconds: float, data: Path) -> None:
    path = data / "bench.sqlite3"
    table = SqliteTable(TABLE, path)
    source = StreamSource(
        stream_arn("us-east-1", "1", "bench", table.stream_label()), "us-east-1", "NEW_IMAGE"
    )
    invoker = FunctionInvoker(
        "bench", [FUNCTION], {}, region="us-east-1", account_id="1", python_path=[str(REPO)]
    )
    await invoker.start()
    recording = Recording(invoker)
    store = StreamStore(data / "streams.sqlite3")
    log = LocalChangeLog(table, region="us-east-1", account_id="1", table_name="bench")
    trigger = spec.StreamTrigger(TABLE, FUNCTION)
    dispatcher = StreamDispatcher(
        trigger, log, recording, store, region="us-east-1", trigger_id="bench"
    )
    dispatcher.start()
    results: Any = multiprocessing.get_context("spawn").Queue()
    writer = multiprocessing.get_context("spawn").Process(
        target=write, args=(str(path), rate, seconds, results)
    )
    writer.start()
    write_durations = await asyncio.to_thread(results.get)
    writer.join()
    expected = int(rate * seconds)
    deadline = time.monotonic() + 10
    while len(recording.latencies) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await dispatcher.stop()
    await invoker.close()
    print(f"{expected} writes at {rate:g}/s for {seconds:g} s; {len(recording.latencies)} handled")
    print(f"write -> handler   {percentiles(recording.latencies)}")
    print(f"baseline: put      {percentiles(write_durations)}")
    print(f"baseline: call     {percentiles(direct_call_baseline(table, source))}")
    table.close()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        asyncio.run(run(arguments.rate, arguments.seconds, Path(data)))


if __name__ == "__main__":
    main()
