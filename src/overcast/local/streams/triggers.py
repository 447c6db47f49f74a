"""A service's stream triggers, wired: one dispatcher per declared ``StreamTrigger``.

Each dispatcher reads its table's change log and keeps its checkpoint and failures in
the service's :class:`~overcast.local.streams.store.StreamStore`. The change log is the
table's SQLite file (the one the functions write, opened with the same declaration) or,
when the local cloud keeps its tables in a DynamoDB endpoint (``remote``), the table's
stream in that endpoint's DynamoDB Streams, polled four times a second per trigger as
Lambda polls each shard. Each trigger has its own reader of a remote stream (a reader
keeps its place in each shard between polls), and nothing asks the endpoint anything
before the first poll: an endpoint that is down at start delays the triggers (their
dispatchers retry with backoff) but not the local cloud. Triggers are named
``<table>-><function>`` (``#2``, ``#3``... for a repeated pair), the names
``overcast streams failures`` shows.
"""

from __future__ import annotations

import logging
from pathlib import Path

from overcast import spec
from overcast.local.functions.invoker import Invoker
from overcast.local.streams.change_log import ChangeLog, LocalChangeLog, RemoteStreams
from overcast.local.streams.dispatcher import StreamDispatcher
from overcast.local.streams.store import StreamStore, store_path
from overcast.local.trigger_ids import trigger_ids
from overcast.ports.tables.sqlite import SqliteTable
from overcast.runtime.adapters import table_path
from overcast.runtime.config import RuntimeConfig

logger = logging.getLogger("overcast.streams")

# Lambda polls each shard of a DynamoDB stream four times per second.
REMOTE_POLL_SECONDS = 0.25


class ServiceStreams:
    """The dispatchers of one service's stream triggers, started and stopped together."""

    def __init__(
        self,
        service: spec.Service,
        invoker: Invoker,
        *,
        data_dir: Path,
        region: str,
        account_id: str,
        poll_seconds: float | None = None,
        remote: RemoteStreams | None = None,
    ) -> None:
        self.service = service
        self._config = RuntimeConfig(service=service.name, data_dir=data_dir, region=region)
        self._account_id = account_id
        self._remote = remote
        self._store = StreamStore(store_path(data_dir, service.name))
        self._tables: dict[str, SqliteTable] = {}
        if poll_seconds is None:
            poll_seconds = 0.05 if remote is None else REMOTE_POLL_SECONDS
        self.dispatchers: list[StreamDispatcher] = []
        triggers = service.stream_triggers
        names = trigger_ids((t.table.name, t.function.name) for t in triggers)
        for trigger, name in zip(triggers, names, strict=True):
            self.dispatchers.append(
                StreamDispatcher(
                    trigger,
                    self._change_log(trigger.table),
                    invoker,
                    self._store,
                    region=region,
                    trigger_id=name,
                    poll_seconds=poll_seconds,
                )
            )

    def start(self) -> None:
        """Start every dispatcher on the running loop; log one line per trigger."""
        for dispatcher in self.dispatchers:
            trigger = dispatcher.trigger
            logger.info(
                "Stream trigger %s %s (batch %d%s)",
                self.service.name,
                dispatcher.trigger_id,
                trigger.batch_size,
                ", filtered" if trigger.filter_patterns else "",
            )
            dispatcher.start()

    async def stop(self) -> None:
        """Stop every dispatcher, then close the tables and the store."""
        for dispatcher in self.dispatchers:
            await dispatcher.stop()
        for table in self._tables.values():
            table.close()
        self._store.close()

    def _change_log(self, declaration: spec.Table) -> ChangeLog:
        """The table's change log: a reader of its remote stream, or its local table
        (opened once per table)."""
        physical = f"{self.service.name}-{declaration.name}"
        if self._remote is not None:
            from overcast.ports.tables.dynamodb_stream import DynamoDbStream

            return DynamoDbStream(physical, self._remote.dynamodb, self._remote.streams)
        if declaration.name not in self._tables:
            path = table_path(self._config, declaration)
            self._tables[declaration.name] = SqliteTable(declaration, path)
        return LocalChangeLog(
            self._tables[declaration.name],
            region=self._config.region,
            account_id=self._account_id,
            table_name=physical,
        )
