"""The stream dispatcher delivers change records as Lambda's event source mapping does:
batches in order, filters, retries, bisection, partial failures, record age, the batching
window, the on-failure destination and its redrive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.local.functions.invoker import FunctionError
from overcast.local.streams.change_log import LocalChangeLog
from overcast.local.streams.dispatcher import StreamDispatcher
from overcast.local.streams.store import StreamStore
from overcast.ports.tables.memory import MemoryTable

TABLE = spec.Table("blog", spec.Key("pk"), spec.Key("sk"), stream="NEW_AND_OLD_IMAGES")
FUNCTION = spec.Function("welcome", "overcast.apps.blog.welcome:handler")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class ScriptedInvoker:
    """Answers each invocation with ``answer(pks of the batch)``; remembers every batch."""

    def __init__(self, answer: Callable[[list[str]], Any] = lambda pks: None) -> None:
        self.batches: list[list[str]] = []
        self.answer = answer

    def __contains__(self, function: object) -> bool:
        return True

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any:
        pks = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        self.batches.append(pks)
        return self.answer(pks)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StreamStore]:
    opened = StreamStore(tmp_path / "streams" / "blog.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table(clock: Clock) -> MemoryTable:
    return MemoryTable(TABLE, clock=clock)


def dispatcher(
    table: MemoryTable,
    invoker: ScriptedInvoker,
    store: StreamStore,
    clock: Clock,
    sleeps: list[float] | None = None,
    **options: Any,
) -> StreamDispatcher:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    trigger = spec.StreamTrigger(TABLE, FUNCTION, **options)
    log = LocalChangeLog(table, region="us-east-1", account_id="1", table_name="blog")
    return StreamDispatcher(
        trigger,
        log,
        invoker,
        store,
        region="us-east-1",
        trigger_id="blog->welcome",
        clock=clock,
        sleep=sleep,
    )


def drain(running: StreamDispatcher) -> None:
    async def until_idle() -> None:
        while await running.run_once():
            pass

    asyncio.run(until_idle())


def write(table: MemoryTable, *pks: str) -> None:
    for pk in pks:
        table.put({"pk": pk, "sk": "S"})


def seq_of(table: MemoryTable, pk: str) -> str:
    (record,) = [r for r in table.stream_records() if r.change.keys["pk"] == pk]
    return f"{record.sequence:021d}"


def fails_on(poison: str) -> Callable[[list[str]], Any]:
    def answer(pks: list[str]) -> Any:
        if poison in pks:
            raise FunctionError("ValueError", f"cannot handle {poison}")

    return answer


def test_records_arrive_in_order_in_batches_and_a_restart_resumes_after_the_checkpoint(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "a", "b", "c", "d", "e")
    invoker = ScriptedInvoker()

    drain(dispatcher(table, invoker, store, clock, batch_size=2))
    write(table, "f")
    drain(dispatcher(table, invoker, store, clock, batch_size=2))

    assert invoker.batches == [["a", "b"], ["c", "d"], ["e"], ["f"]]


def test_filtered_out_records_are_never_delivered_but_are_checkpointed_past(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    table.put({"pk": "x", "sk": "PHOTO"})
    write(table, "a")
    table.delete({"pk": "a", "sk": "S"})
    invoker = ScriptedInvoker()
    only_new = ('{"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["S"]}}}}',)

    drain(dispatcher(table, invoker, store, clock, filter_patterns=only_new))

    assert invoker.batches == [["a"]]
    assert store.checkpoint("blog->welcome") == table.stream_records()[-1].sequence


def test_a_failed_batch_is_retried_with_backoff_until_it_succeeds(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "a", "b")
    calls = iter([FunctionError("Boom", "x"), FunctionError("Boom", "x"), None])

    def answer(pks: list[str]) -> Any:
        outcome = next(calls)
        if outcome is not None:
            raise outcome

    invoker, sleeps = ScriptedInvoker(answer), []  # type: ignore[var-annotated]
    drain(dispatcher(table, invoker, store, clock, sleeps))

    assert invoker.batches == [["a", "b"]] * 3
    assert sleeps[:2] == [0.1, 0.2]
    assert store.failures() == []


def test_when_retries_run_out_the_batch_goes_to_the_failure_destination_and_the_rest_flows(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "bad", "good")
    invoker = ScriptedInvoker(fails_on("bad"))

    drain(dispatcher(table, invoker, store, clock, batch_size=1, maximum_retry_attempts=2))

    assert invoker.batches == [["bad"]] * 3 + [["good"]]
    (failure,) = store.failures()
    assert failure.attempts == 3
    assert "ValueError" in failure.reason
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in failure.records] == ["bad"]


def test_bisecting_isolates_the_bad_record_and_delivers_the_others(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "a", "b", "bad", "d")
    invoker = ScriptedInvoker(fails_on("bad"))

    running = dispatcher(
        table,
        invoker,
        store,
        clock,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=3,
    )
    drain(running)

    delivered = [pks for pks in invoker.batches if "bad" not in pks]
    assert [pk for pks in delivered for pk in pks] == ["a", "b", "d"]
    (failure,) = store.failures()
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in failure.records] == ["bad"]


def test_reported_item_failures_retry_from_the_lowest_failed_record(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "a", "b", "c", "d")
    first = [True]

    def answer(pks: list[str]) -> Any:
        if first.pop() if first else False:
            failed = [seq_of(table, "d"), seq_of(table, "c")]
            return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
        return {"batchItemFailures": []}

    invoker = ScriptedInvoker(answer)
    drain(dispatcher(table, invoker, store, clock, report_batch_item_failures=True))

    assert invoker.batches == [["a", "b", "c", "d"], ["c", "d"]]


def test_an_unknown_item_identifier_fails_the_whole_batch(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "a", "b")
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "123"}]}, {}])
    invoker = ScriptedInvoker(lambda pks: next(answers))

    drain(dispatcher(table, invoker, store, clock, report_batch_item_failures=True))

    assert invoker.batches == [["a", "b"], ["a", "b"]]


def test_records_older_than_the_maximum_age_are_not_delivered_but_kept_as_failures(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "old")
    clock.now += 120
    write(table, "new")
    invoker = ScriptedInvoker()

    drain(dispatcher(table, invoker, store, clock, maximum_record_age_seconds=60))

    assert invoker.batches == [["new"]]
    (failure,) = store.failures()
    assert "MaximumRecordAge" in failure.reason


def test_the_batching_window_waits_for_a_full_batch_until_it_closes(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "a")
    invoker = ScriptedInvoker()
    running = dispatcher(table, invoker, store, clock, batch_size=3, batching_window_seconds=5)

    drain(running)
    assert invoker.batches == []
    write(table, "b", "c")
    drain(running)
    assert invoker.batches == [["a", "b", "c"]]
    write(table, "d")
    clock.now += 6
    drain(running)
    assert invoker.batches[-1] == ["d"]


def test_a_redriven_failure_is_delivered_again_and_removed(
    table: MemoryTable, store: StreamStore, clock: Clock
) -> None:
    write(table, "bad")
    broken = [True]
    invoker = ScriptedInvoker(lambda pks: fails_on("bad")(pks) if broken else None)
    running = dispatcher(table, invoker, store, clock, maximum_retry_attempts=0)
    drain(running)
    (failure,) = store.failures()

    broken.clear()
    assert store.request_redrive(failure.id)
    clock.now += 2
    drain(running)

    assert invoker.batches == [["bad"], ["bad"]]
    assert store.failures() == []
    assert not store.request_redrive("nope")
