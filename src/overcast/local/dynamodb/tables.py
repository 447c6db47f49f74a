"""The declared tables, as DynamoDB's API names them, on the local cloud's SQLite files.

A declared table is ``<service>-<table>`` (its physical name, as deployed), kept in
``<data dir>/tables/<service>/<table>.sqlite3`` (``runtime.adapters.table_path``): the
very file the service's functions open, so a write through the API is their data, and
lands in the table's stream. Each file is opened once, on first use, and shared by
every request (the SQLite adapter gives each thread its connection).

When the cloud keeps its tables in another DynamoDB endpoint (``--dynamodb-endpoint``),
the SQLite files are not the functions' data: every call is refused, pointing at that
endpoint, rather than serving stale files.
"""

from __future__ import annotations

import threading
from pathlib import Path

from overcast import spec
from overcast.local.dynamodb import errors
from overcast.ports.tables.sqlite import SqliteTable


class DeclaredTables:
    """The tables the services declare, by physical name; their SQLite files."""

    def __init__(
        self,
        data_dir: Path,
        *,
        region: str,
        account_id: str,
        remote_endpoint: str | None = None,
    ) -> None:
        self._data_dir = data_dir
        self.region = region
        self.account_id = account_id
        self._remote = remote_endpoint
        self._declared: dict[str, tuple[str, spec.Table]] = {}
        self._open: dict[str, SqliteTable] = {}
        self._lock = threading.Lock()

    def declare(self, service: spec.Service) -> None:
        for table in service.tables:
            self._declared[f"{service.name}-{table.name}"] = (service.name, table)

    def names(self) -> list[str]:
        self.check_served()
        return sorted(self._declared)

    def check_served(self) -> None:
        """Refuse every call when the tables live in another endpoint."""
        if self._remote is not None:
            raise errors.ValidationException(
                f"The local cloud keeps its tables in the DynamoDB endpoint {self._remote} "
                "(--dynamodb-endpoint): call that endpoint instead (overcast env exports it "
                "as AWS_ENDPOINT_URL_DYNAMODB)."
            )

    def declaration(self, name: str) -> spec.Table:
        self.check_served()
        found = self._declared.get(name)
        if found is None:
            raise errors.ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        return found[1]

    def table(self, name: str) -> SqliteTable:
        """The open table ``name``; ``ResourceNotFoundException`` if none is declared."""
        declaration = self.declaration(name)
        with self._lock:
            opened = self._open.get(name)
            if opened is None:
                service = self._declared[name][0]
                path = self._data_dir / "tables" / service / f"{declaration.name}.sqlite3"
                opened = self._open[name] = SqliteTable(declaration, path)
        return opened

    def arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{name}"

    def close(self) -> None:
        with self._lock:
            for table in self._open.values():
                table.close()
            self._open.clear()
