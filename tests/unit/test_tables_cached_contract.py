"""A read cache is invisible: ``CachedTable`` over the in-memory table passes the table
port's whole contract (``tests/tables_contract.py``), reads served from the cache included.
"""

from __future__ import annotations

import pytest

from overcast import spec
from overcast.ports.tables import Table
from overcast.ports.tables.cached import CachedTable
from overcast.ports.tables.memory import MemoryTable
from tests.tables_contract import *  # noqa: F403  (the contract's tests run here)


@pytest.fixture
def table(request: pytest.FixtureRequest) -> Table:
    declaration: spec.Table = request.param
    return CachedTable(MemoryTable(declaration), spec.ReadCache(max_items=64, max_queries=16))
