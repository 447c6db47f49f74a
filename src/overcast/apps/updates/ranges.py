"""The HTTP rules the app applies to what it serves (RFC 9110), standard library only.

- ``Range`` (§14.2): one ``bytes=`` range — ``first-last``, ``first-`` or the suffix
  ``-count`` — is answered 206 with ``Content-Range``; a last position past the end is
  cut to the end (§14.1.1). A range starting at or past the end (or a zero suffix) is
  unsatisfiable: 416 with ``Content-Range: bytes */<size>`` (§15.5.17). A malformed
  header, another unit, or several ranges are ignored and the whole file sent, which a
  server may always do (§14.2: "A server MAY ignore the Range header field").
- ``If-Range`` (§13.1.5): the range applies only if the validator still matches (a
  strong ETag, compared strongly, or the exact ``Last-Modified`` date).
- ``If-None-Match`` (§13.1.2): ``*`` or any listed ETag matching weakly gives 304 to a
  GET or HEAD; ``If-Modified-Since`` (§13.1.3) counts only without ``If-None-Match``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """The one range asked for lies wholly past the end: answer 416."""


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive, as HTTP counts them."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to send of a ``size``-byte body, or None for the whole body."""
    match = _RANGE.match(header or "")
    if match is None:
        return None
    first, last = match[1], match[2]
    if not first:
        if not last:
            return None
        count = int(last)
        if count == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(0, size - count), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(header)
    return ByteRange(start, min(end, size - 1))


def http_date(timestamp: float) -> str:
    """An HTTP date (IMF-fixdate) for a POSIX timestamp."""
    return formatdate(timestamp, usegmt=True)


def _parse_date(text: str) -> float | None:
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` list names ``etag`` (weak comparison) or is ``*``."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or any(_opaque(tag) == _opaque(etag) for tag in tags)


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str, last_modified: float
) -> bool:
    """Whether a GET or HEAD with these conditions is answered 304."""
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if if_modified_since is None:
        return False
    since = _parse_date(if_modified_since)
    return since is not None and int(last_modified) <= since


def range_applies(if_range: str | None, etag: str, last_modified: float) -> bool:
    """Whether ``Range`` is honoured given ``If-Range``: only for an unchanged body."""
    if if_range is None:
        return True
    if if_range.strip().startswith(("W/", '"')):
        return not if_range.strip().startswith("W/") and if_range.strip() == etag
    return if_range.strip() == http_date(last_modified)
