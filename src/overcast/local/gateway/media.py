"""An API's binary media types, matched the way API Gateway matches them.

API Gateway (REST) treats a payload as binary when its media type is listed in the
API's ``binaryMediaTypes``; entries may be exact (``image/png``), a subtype wildcard
(``image/*``) or ``*/*`` (everything). Parameters such as ``; charset=utf-8`` are
ignored and the comparison is case-insensitive.

- Requests: a body whose ``Content-Type`` matches reaches the function base64-encoded
  with ``isBase64Encoded: true``.
- Responses: a base64 body (``isBase64Encoded: true``) is decoded only when the
  *first* media type of the request's ``Accept`` header matches; otherwise the client
  gets the base64 text (API Gateway honours only the first ``Accept`` media type).
"""

from __future__ import annotations

from collections.abc import Iterable


class BinaryMediaTypes:
    """The media types an API declares binary."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._exact: set[str] = set()
        self._families: set[str] = set()
        self._everything = False
        for pattern in (p.strip().lower() for p in patterns):
            if pattern == "*/*":
                self._everything = True
            elif pattern.endswith("/*"):
                self._families.add(pattern[:-1])
            else:
                self._exact.add(pattern)
        self._any = bool(self._everything or self._exact or self._families)

    def matches(self, media_type: str | None) -> bool:
        """Whether a ``Content-Type``-style value is binary for this API."""
        if not self._any:
            return False
        if self._everything:
            return True
        if not media_type:
            return False
        essence = media_type.partition(";")[0].strip().lower()
        if essence in self._exact:
            return True
        family, slash, _ = essence.partition("/")
        return bool(slash) and f"{family}/" in self._families

    def matches_accept(self, accept: str | None) -> bool:
        """Whether the first media type of an ``Accept`` header is binary for this API."""
        if not self._any:
            return False
        first = accept.partition(",")[0] if accept else None
        return self.matches(first)
