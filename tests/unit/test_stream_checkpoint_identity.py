"""A checkpoint is a position in one stream: a trigger never skips a stream's records
because of a checkpoint saved in another (a DynamoDB endpoint's, a recreated table's)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.local.streams import ServiceStreams
from overcast.local.streams.store import StreamStore, store_path
from overcast.ports.tables.sqlite import SqliteTable
from overcast.runtime.adapters import table_path
from overcast.runtime.config import RuntimeConfig

TABLE = spec.Table("notes", spec.Key("pk"), stream="KEYS_ONLY")
FUNCTION = spec.Function("react", "tests.fixtures.handlers:echo")
SERVICE = spec.Service(
    name="notes",
    tables=(TABLE,),
    functions=(FUNCTION,),
    stream_triggers=(spec.StreamTrigger(TABLE, FUNCTION),),
)
MOTO_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/notes-notes/stream/2026-01-01T00:00:00"
MOTO_SEQUENCE = 1100000000017454423009


class Collecting:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def __contains__(self, function: object) -> bool:
        return True

    async def invoke(self, function: spec.Function, event: Any, **options: Any) -> Any:
        self.keys += [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        return None


def write(data_dir: Path, *pks: str) -> None:
    table = SqliteTable(TABLE, table_path(RuntimeConfig(service="notes", data_dir=data_dir), TABLE))
    for pk in pks:
        table.put({"pk": pk})
    table.close()


def deliver(data_dir: Path) -> list[str]:
    """What one ``overcast up`` (without a DynamoDB endpoint) delivers until idle."""
    invoker = Collecting()
    wired = ServiceStreams(
        SERVICE, invoker, data_dir=data_dir, region="us-east-1", account_id="123456789012"
    )

    async def drain() -> None:
        (dispatcher,) = wired.dispatchers
        while await dispatcher.run_once():
            pass
        await wired.stop()

    asyncio.run(drain())
    return invoker.keys


def save(data_dir: Path, sequence: int, stream: str) -> None:
    store = StreamStore(store_path(data_dir, "notes"))
    store.save_checkpoint("notes->react", sequence, stream=stream)
    store.close()


def saved(data_dir: Path) -> Any:
    store = StreamStore(store_path(data_dir, "notes"))
    try:
        return store.saved_checkpoint("notes->react")
    finally:
        store.close()


def test_a_checkpoint_from_a_dynamodb_endpoint_does_not_skip_the_local_tables_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a data dir last used with --dynamodb-endpoint (a 22-digit checkpoint in moto)
    save(tmp_path, MOTO_SEQUENCE, MOTO_ARN)
    write(tmp_path, "a", "b")

    # When the local cloud runs on SQLite's tables
    with caplog.at_level(logging.WARNING, logger="overcast.local.streams.dispatcher"):
        delivered = deliver(tmp_path)

    # Then every record of the local stream is delivered, and it said why once
    assert delivered == ["a", "b"]
    (line,) = [r.getMessage() for r in caplog.records]
    assert MOTO_ARN in line
    assert "TRIM_HORIZON" in line
    checkpoint = saved(tmp_path)
    assert checkpoint.stream.startswith("arn:aws:dynamodb:us-east-1:123456789012:table/notes-")
    assert checkpoint.stream != MOTO_ARN
    # And the next run resumes after its own checkpoint
    write(tmp_path, "c")
    assert deliver(tmp_path) == ["c"]


def test_a_recreated_table_file_is_a_new_stream_read_from_its_start(tmp_path: Path) -> None:
    # Given a trigger that consumed three records of a table's file
    write(tmp_path, "a", "b", "c")
    assert deliver(tmp_path) == ["a", "b", "c"]
    old = saved(tmp_path)
    # When the file is deleted and the table created again (a new label) with one record
    path = Path(table_path(RuntimeConfig(service="notes", data_dir=tmp_path), TABLE))
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        each.unlink(missing_ok=True)
    time.sleep(0.002)  # labels are the creation time, to the millisecond
    write(tmp_path, "new")
    # Then that record is delivered though its sequence number is below the checkpoint
    assert deliver(tmp_path) == ["new"]
    assert saved(tmp_path).stream != old.stream


VERSION_2 = (
    "CREATE TABLE stream_checkpoints (trigger TEXT PRIMARY KEY, sequence TEXT NOT NULL)",
    "CREATE TABLE stream_failures (id TEXT PRIMARY KEY, created REAL NOT NULL,"
    " trigger TEXT NOT NULL, function TEXT NOT NULL, reason TEXT NOT NULL,"
    " attempts INTEGER NOT NULL, first_sequence TEXT NOT NULL,"
    " last_sequence TEXT NOT NULL, records TEXT NOT NULL,"
    " redrive INTEGER NOT NULL DEFAULT 0)",
    "PRAGMA user_version = 2",
)


def version_2_store(data_dir: Path, sequence: int) -> None:
    path = store_path(data_dir, "notes")
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as old:
        for statement in VERSION_2:
            old.execute(statement)
        old.execute(
            "INSERT INTO stream_checkpoints VALUES ('notes->react', ?)", (f"{sequence:040d}",)
        )
    old.close()


def test_an_upgraded_stores_local_checkpoint_keeps_its_place(tmp_path: Path) -> None:
    # Given a version 2 store whose checkpoint (no stream) is past two local records
    write(tmp_path, "a", "b", "c")
    version_2_store(tmp_path, 2)
    # When the local cloud runs again, then only the third record is delivered
    assert deliver(tmp_path) == ["c"]


def test_an_upgraded_stores_long_checkpoint_is_no_position_in_a_local_stream(
    tmp_path: Path,
) -> None:
    # Given a version 2 store with a DynamoDB-sized checkpoint of an unknown stream
    write(tmp_path, "a")
    version_2_store(tmp_path, MOTO_SEQUENCE)
    # When the local cloud runs, then the local stream is read from its start
    assert deliver(tmp_path) == ["a"]
