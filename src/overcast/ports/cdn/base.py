"""The CDN port: drop paths of one distribution from its caches. Locally the local edge
(through the local CloudFront API), on AWS CloudFront.

Paths are CloudFront's invalidation paths: they start with ``/`` and may end with one
``*`` (every path with that prefix). The base checks that there is at least one and that
each starts with ``/``; the CDN checks the rest.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from overcast.ports.cdn.exceptions import InvalidPaths


class Invalidator(ABC):
    """Invalidates cached paths of one distribution."""

    def invalidate(self, paths: Sequence[str]) -> str:
        """Invalidate ``paths``; return the invalidation's id."""
        if isinstance(paths, str):
            raise InvalidPaths("Pass a sequence of paths, not one string.")
        if not paths:
            raise InvalidPaths("An invalidation needs at least one path.")
        for path in paths:
            if not path.startswith("/"):
                raise InvalidPaths(f"Invalidation path {path!r} must start with '/'.")
        return self._invalidate(list(paths))

    @abstractmethod
    def _invalidate(self, paths: list[str]) -> str: ...
