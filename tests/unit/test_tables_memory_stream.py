"""The in-memory table keeps the change stream's contract (``tests/tables_stream_contract.py``)."""

from __future__ import annotations

import pytest

from overcast import spec
from overcast.ports.tables import Table
from overcast.ports.tables.memory import MemoryTable
from tests.tables_stream_contract import *  # noqa: F403  (the contract's tests run here)


@pytest.fixture
def table(request: pytest.FixtureRequest) -> Table:
    declaration: spec.Table = request.param
    return MemoryTable(declaration)
