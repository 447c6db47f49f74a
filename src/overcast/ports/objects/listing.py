"""S3's listing rules, written once for the local adapters (memory and filesystem).

An adapter supplies one primitive, a :data:`Scan`: the first ``count`` objects whose
keys lie in a range, in ascending UTF-8 byte order. :func:`list_page` builds a page
of ListObjects from it, as S3 does:

- Only keys that begin with ``prefix`` and sort after ``start_after`` are listed.
- With a delimiter, a key whose rest (after the prefix) contains the delimiter
  rolls up into one common prefix: the prefix plus the rest up to and including the
  first delimiter. A common prefix is one entry of the page, however many keys it
  holds; once it is emitted, the scan jumps past every key that starts with it
  (to :func:`prefix_end`), so a rolled-up "folder" of a million keys costs one row.
- ``next_marker`` is the last entry returned (key or common prefix) when more
  entries follow. Passed back as ``start_after``, a common prefix is not repeated:
  listing resumes after every key it holds (S3 behaves so with ``marker``).
- ``limit`` 0 returns an empty, untruncated page (S3's ``max-keys=0``).

Python compares strings by code point, which is UTF-8 byte order, S3's key order;
keys are valid Unicode (no lone surrogates), so the two orders always agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from overcast.ports.objects.base import ListPage, ObjectInfo
from overcast.ports.objects.exceptions import InvalidKey

Scan = Callable[[str, bool, str | None, int], Sequence[ObjectInfo]]
"""``scan(lower, inclusive, upper, count)``: the first ``count`` objects, in key
order, whose keys are after ``lower`` (or equal to it, if ``inclusive``) and before
``upper`` (``None``: no upper bound)."""

_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)

_Start = tuple[str, bool] | None


def list_page(
    scan: Scan, prefix: str, delimiter: str | None, start_after: str | None, limit: int
) -> ListPage:
    """One page of ListObjects over the keys ``scan`` reaches (see the module's rules)."""
    for text in (prefix, delimiter or "", start_after or ""):
        _check_text(text)
    delimiter = delimiter or None  # S3 treats an empty delimiter as none
    start = _start(prefix, delimiter, start_after)
    if limit <= 0 or start is None:
        return ListPage((), (), None)
    return _Page(scan, prefix, delimiter, limit).fill(start)


def common_prefix(key: str, prefix: str, delimiter: str | None) -> str | None:
    """The common prefix ``key`` rolls up into, or ``None`` if it is listed as itself."""
    if delimiter is None:
        return None
    found = key.find(delimiter, len(prefix))
    return None if found < 0 else key[: found + len(delimiter)]


def prefix_end(prefix: str) -> str | None:
    """The least string after every string that starts with ``prefix``; ``None`` if none.

    Increment the last code point (skipping surrogates, which no key holds); a last
    code point already at U+10FFFF is dropped and the one before is incremented.
    """
    while prefix:
        last = ord(prefix[-1])
        if last < _MAX_CODE_POINT:
            following = last + 1
            if following in _SURROGATES:
                following = _SURROGATES.stop
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None


class _Page:
    """Collects one page's entries, scanning in batches."""

    def __init__(self, scan: Scan, prefix: str, delimiter: str | None, limit: int) -> None:
        self._scan = scan
        self._prefix = prefix
        self._delimiter = delimiter
        self._upper = prefix_end(prefix) if prefix else None
        self._limit = limit
        self._objects: list[ObjectInfo] = []
        self._prefixes: list[str] = []
        self._last: str | None = None
        self._truncated = False
        # With a delimiter, any key may roll up, and then the rest of its batch is
        # wasted: so scan a row at a time after each common prefix, doubling the
        # batch while keys come one by one. A page then reads fewer than three rows
        # per entry, however many keys its common prefixes hold.
        self._batch = 1 if delimiter else limit + 1

    def fill(self, start: _Start) -> ListPage:
        while start is not None and not self._truncated:
            start = self._take(*start)
        marker = self._last if self._truncated else None
        return ListPage(tuple(self._objects), tuple(self._prefixes), marker)

    def _take(self, lower: str, inclusive: bool) -> _Start:
        """Take entries from one scan; where to scan next, or ``None`` when done."""
        wanted = min(self._limit - len(self._objects) - len(self._prefixes) + 1, self._batch)
        batch = self._scan(lower, inclusive, self._upper, wanted)
        for info in batch:
            if len(self._objects) + len(self._prefixes) == self._limit:
                self._truncated = True  # the page is full, and another entry follows
                return None
            rolled = common_prefix(info.key, self._prefix, self._delimiter)
            if rolled is not None:
                self._prefixes.append(rolled)
                self._last = rolled
                self._batch = 1
                following = prefix_end(rolled)
                return None if following is None else (following, True)
            self._objects.append(info)
            self._last = info.key
        if len(batch) < wanted:
            return None
        self._batch *= 2
        return batch[-1].key, False


def _start(prefix: str, delimiter: str | None, start_after: str | None) -> _Start:
    """Where the scan starts: at ``prefix``, or after ``start_after`` if that is later."""
    if start_after is None or start_after < prefix:
        return prefix, True
    if (
        start_after.startswith(prefix)
        and common_prefix(start_after, prefix, delimiter) == start_after
    ):
        # start_after is a common prefix (the last entry of the previous page): skip
        # every key it holds.
        following = prefix_end(start_after)
        return None if following is None else (following, True)
    return start_after, False


def _check_text(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise InvalidKey("A prefix, delimiter or marker must be valid Unicode.") from exc
