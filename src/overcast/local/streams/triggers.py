"""A service's stream triggers, wired: one dispatcher per declared ``StreamTrigger``.

Each dispatcher reads its table's SQLite file (the one the functions write, opened
with the same declaration) and keeps its checkpoint and failures in the service's
:class:`~overcast.local.streams.store.StreamStore`. Triggers are named
``<table>-><function>`` (``#2``, ``#3``... for a repeated pair), the names
``overcast streams failures`` shows.
"""

from __future__ import annotations

import logging
from pathlib import Path

from overcast import spec
from overcast.local.functions.invoker import Invoker
from overcast.local.streams.dispatcher import StreamDispatcher
from overcast.local.streams.events import StreamSource, stream_arn
from overcast.local.streams.store import StreamStore, store_path
from overcast.local.trigger_ids import trigger_ids
from overcast.ports.tables.sqlite import SqliteTable
from overcast.runtime.adapters import table_path
from overcast.runtime.config import RuntimeConfig

logger = logging.getLogger("overcast.streams")


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
        poll_seconds: float = 0.05,
    ) -> None:
        self.service = service
        config = RuntimeConfig(service=service.name, data_dir=data_dir, region=region)
        self._store = StreamStore(store_path(data_dir, service.name))
        self._tables: dict[str, SqliteTable] = {}
        self.dispatchers: list[StreamDispatcher] = []
        triggers = service.stream_triggers
        names = trigger_ids((t.table.name, t.function.name) for t in triggers)
        for trigger, name in zip(triggers, names, strict=True):
            table = self._table(trigger.table, config)
            physical = f"{service.name}-{trigger.table.name}"
            assert trigger.table.stream is not None  # StreamTrigger checks it
            source = StreamSource(
                arn=stream_arn(region, account_id, physical, table.stream_label()),
                region=region,
                view=trigger.table.stream,
            )
            self.dispatchers.append(
                StreamDispatcher(
                    trigger,
                    table,
                    invoker,
                    self._store,
                    source,
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

    def _table(self, declaration: spec.Table, config: RuntimeConfig) -> SqliteTable:
        if declaration.name not in self._tables:
            self._tables[declaration.name] = SqliteTable(
                declaration, table_path(config, declaration)
            )
        return self._tables[declaration.name]
