"""The in-memory messaging passes the queue and topic contracts."""

from __future__ import annotations

import pytest

from overcast.ports.queues.memory import MemoryMessaging
from tests.queues_contract import *  # noqa: F403  (the contract's tests run here)
from tests.queues_contract import SERVICE, FakeClock, LocalHarness
from tests.topics_contract import *  # noqa: F403


@pytest.fixture
def messaging() -> LocalHarness:
    clock = FakeClock()
    local = MemoryMessaging(clock)
    local.declare(SERVICE)
    return LocalHarness(local, clock)
