"""The local topics live in the local cloud's one messaging file, beside its queues:
see :mod:`overcast.ports.queues.sqlite` (a publish's fan-out is one SQLite transaction)."""

from overcast.ports.queues.sqlite import SqliteMessaging

__all__ = ["SqliteMessaging"]
