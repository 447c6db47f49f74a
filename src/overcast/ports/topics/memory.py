"""In-memory topics for unit tests, beside the in-memory queues: see
:mod:`overcast.ports.queues.memory`."""

from overcast.ports.queues.memory import MemoryMessaging

__all__ = ["MemoryMessaging"]
