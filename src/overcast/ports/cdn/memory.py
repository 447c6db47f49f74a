"""An in-memory invalidator: the fake that handlers' tests use.

It records every batch it accepts in :attr:`MemoryInvalidator.batches`, in order, and
returns a fresh id per batch, as CloudFront returns an invalidation ``Id``. Validation is
the port's own, so a batch the fake refuses is one every adapter refuses.
"""

from __future__ import annotations

import itertools
import threading

from overcast.ports.cdn.base import Invalidator
from overcast.ports.cdn.exceptions import CdnError


class MemoryInvalidator(Invalidator):
    """Records invalidated batches in :attr:`batches`; safe to share between threads.

    Pass ``fail_with`` to make every call raise that error and record nothing.
    """

    def __init__(self, fail_with: CdnError | None = None) -> None:
        self.batches: list[list[str]] = []
        self.ids: list[str] = []
        self.fail_with = fail_with
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def paths(self) -> list[str]:
        """Every path invalidated, in order."""
        with self._lock:
            return [path for batch in self.batches for path in batch]

    def _invalidate(self, paths: list[str]) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            invalidation_id = f"IMEMORY{next(self._numbers):07d}"
            self.batches.append(paths)
            self.ids.append(invalidation_id)
        return invalidation_id
