"""The distributions the local cloud serves, as the CloudFront API finds them.

The local cloud adds a :class:`DistributionRecord` for each edge it starts; the record's
``invalidate`` removes matching objects from that edge's cache and returns how many.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from overcast import spec

Invalidate = Callable[[Sequence[str]], int]


@dataclass(frozen=True)
class DistributionRecord:
    """A running distribution: its CloudFront id, ARN and domain, and its edge's
    invalidation. ``declaration`` (when given) fills GetDistribution's configuration."""

    id: str
    arn: str
    domain_name: str
    service: str
    name: str
    invalidate: Invalidate
    declaration: spec.Distribution | None = None


class DistributionDirectory:
    """The running distributions by id; safe to share between threads."""

    def __init__(self) -> None:
        self._records: dict[str, DistributionRecord] = {}
        self._declarations: dict[str, spec.Distribution] = {}
        self._lock = threading.Lock()

    def declare(self, distribution_id: str, declaration: spec.Distribution) -> None:
        """Remember the declaration of ``distribution_id`` (for GetDistribution's
        configuration), before or after its edge starts."""
        with self._lock:
            self._declarations[distribution_id] = declaration

    def declaration(self, record: DistributionRecord) -> spec.Distribution | None:
        """The record's own declaration, else the one declared for its id."""
        with self._lock:
            return record.declaration or self._declarations.get(record.id)

    def add(self, record: DistributionRecord) -> None:
        """Serve ``record`` (replacing an earlier record of the same id, e.g. a restart)."""
        with self._lock:
            self._records[record.id] = record

    def remove(self, distribution_id: str) -> None:
        with self._lock:
            self._records.pop(distribution_id, None)

    def get(self, distribution_id: str) -> DistributionRecord | None:
        with self._lock:
            return self._records.get(distribution_id)

    def all(self) -> list[DistributionRecord]:
        """Every record, ordered by id (ListDistributions' order)."""
        with self._lock:
            return sorted(self._records.values(), key=lambda record: record.id)
