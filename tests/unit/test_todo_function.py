"""The to-do function as Lambda runs it: one resolver per cold start, one request at a time."""

from __future__ import annotations

import io
import json
from typing import Any

from aws_lambda_powertools import Logger

from overcast.apps.todo.handler import TodoFunction, create_app
from overcast.apps.todo.service import todos_table
from overcast.ports.tables import Item, TableUnavailable
from overcast.ports.tables.memory import MemoryTable
from tests.todo_events import TodoApi, memory_folders, repository_on


class UnavailableTable(MemoryTable):
    """A table whose backend is down for reads."""

    def _get(self, key: dict[str, Any], *, consistent: bool = False) -> Item | None:
        raise TableUnavailable("database is locked")


def test_an_unavailable_table_is_503_and_logged() -> None:
    stream = io.StringIO()
    logger = Logger(service="todo-unavailable-test", stream=stream)
    app = create_app(repository_on(UnavailableTable(todos_table)), memory_folders(), logger)
    api = TodoApi(TodoFunction(app, logger).resolve)

    response = api.item("GET", "01ARYZ6S41TSV4RRFFQ69G5FAV")

    assert response.status == 503
    assert "try again" in response.message
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["message"] == "The to-do table is unavailable"
    assert record["function_request_id"] == "c6af9ac6-7b61-11e6-9a41-93e812345678"
    assert "database is locked" in record["exception"]
