"""A service's stream triggers, as ``overcast up`` runs them: the dispatchers poll the
SQLite table in the background and deliver within a poll or two; stopped, they resume
from their checkpoint."""

from __future__ import annotations

import asyncio
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

pytestmark = pytest.mark.anyio

TABLE = spec.Table("notes", spec.Key("pk"), stream="KEYS_ONLY")
FUNCTION = spec.Function("react", "tests.fixtures.handlers:echo")
SERVICE = spec.Service(
    name="notes",
    tables=(TABLE,),
    functions=(FUNCTION,),
    stream_triggers=(spec.StreamTrigger(TABLE, FUNCTION),),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Collecting:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def __contains__(self, function: object) -> bool:
        return True

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any:
        self.keys += [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        assert all("NewImage" not in r["dynamodb"] for r in event["Records"])  # KEYS_ONLY
        return None


async def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def test_running_dispatchers_deliver_soon_and_resume_after_a_restart(tmp_path: Path) -> None:
    config = RuntimeConfig(service="notes", data_dir=tmp_path)
    writer = SqliteTable(TABLE, table_path(config, TABLE))
    invoker = Collecting()

    streams = ServiceStreams(
        SERVICE, invoker, data_dir=tmp_path, region="us-east-1", account_id="123456789012"
    )
    streams.start()
    began = time.monotonic()
    writer.put({"pk": "one"})
    await wait_for(lambda: invoker.keys == ["one"])
    latency = time.monotonic() - began
    await streams.stop()

    writer.put({"pk": "two"})  # written while nothing runs
    again = ServiceStreams(
        SERVICE, invoker, data_dir=tmp_path, region="us-east-1", account_id="123456789012"
    )
    again.start()
    await wait_for(lambda: len(invoker.keys) == 2)
    await again.stop()
    writer.close()

    assert invoker.keys == ["one", "two"]
    assert latency < 1.0
    store = StreamStore(store_path(tmp_path, "notes"))
    assert store.checkpoint("notes->react") == writer_last_sequence(tmp_path, config)
    store.close()


def writer_last_sequence(tmp_path: Path, config: RuntimeConfig) -> int:
    table = SqliteTable(TABLE, table_path(config, TABLE))
    last = table.stream_records()[-1].sequence
    table.close()
    return last
