"""Conditional requests (``If-*``) and byte ranges (``Range``), as S3 reads them.

Preconditions, in RFC 9110's order (section 13.2.2), with S3's documented outcomes
(GetObject / HeadObject, "If-Match", "If-None-Match", ...):

1. ``If-Match`` false: 412 ``PreconditionFailed``. When it is true, ``If-Unmodified-Since``
   is not looked at: "If both of the If-Match and If-Unmodified-Since headers are
   present ... If-Match condition evaluates to true, and; If-Unmodified-Since condition
   evaluates to false; then, S3 returns 200 OK".
2. Else ``If-Unmodified-Since`` false (modified after the date): 412.
3. ``If-None-Match`` false (an ETag matches): 304 for GET and HEAD. When present,
   ``If-Modified-Since`` is not looked at: "If-None-Match condition evaluates to false,
   and; If-Modified-Since condition evaluates to true; then, S3 returns 304".
4. Else ``If-Modified-Since`` false (not modified since the date): 304.

ETag lists are comma-separated, quoted or not; ``*`` matches any object. A date that
does not parse is ignored, as HTTP requires. CopyObject's
``x-amz-copy-source-if-*`` headers follow the same rules on the source, except that
every failure is 412 (S3's CopyObject reference).

Ranges: one ``bytes=first-last``, ``bytes=first-`` or ``bytes=-suffix``. A header S3
would not honour is ignored and the whole object served: several ranges, another
unit, or bad syntax. A range that starts past the end, or a suffix of 0, is 416
``InvalidRange``; a last byte past the end is clipped (RFC 9110, 14.1.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import Enum

from overcast.local.s3.errors import InvalidRange, PreconditionFailed, S3Error
from overcast.local.s3.responses import unquoted
from overcast.ports.objects import ByteRange, ObjectInfo

# A last byte past any object's end; the object store clips it to the end.
OPEN_END = 2**63 - 1


class Outcome(Enum):
    """What the preconditions say about serving an object."""

    PROCEED = "proceed"
    NOT_MODIFIED = "not-modified"


@dataclass(frozen=True)
class Preconditions:
    """The ``If-*`` headers of a request (``None``: header absent or unreadable)."""

    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None

    @classmethod
    def read(cls, headers: Mapping[str, str], prefix: str = "") -> Preconditions | None:
        """The preconditions in ``headers`` (named ``<prefix>if-match`` etc.); ``None``
        when there are none, the common case, so that it costs nothing."""
        names = [f"{prefix}if-match", f"{prefix}if-none-match"]
        names += [f"{prefix}if-modified-since", f"{prefix}if-unmodified-since"]
        values = [headers.get(name) for name in names]
        if not any(values):
            return None
        return cls(_etags(values[0]), _etags(values[1]), _date(values[2]), _date(values[3]))

    def evaluate(self, info: ObjectInfo, *, header_prefix: str = "") -> Outcome:
        """``PROCEED`` or ``NOT_MODIFIED``; raises 412 ``PreconditionFailed`` (its
        ``Condition`` detail names the header) when a precondition fails."""
        if self.if_match is not None:
            if not _matches(self.if_match, info.etag):
                raise PreconditionFailed(Condition=f"{_title(header_prefix)}If-Match")
        elif self.if_unmodified_since is not None and info.last_modified > self.if_unmodified_since:
            raise PreconditionFailed(Condition=f"{_title(header_prefix)}If-Unmodified-Since")
        if self.if_none_match is not None:
            if _matches(self.if_none_match, info.etag):
                return Outcome.NOT_MODIFIED
        elif self.if_modified_since is not None and info.last_modified <= self.if_modified_since:
            return Outcome.NOT_MODIFIED
        return Outcome.PROCEED

    def require(self, info: ObjectInfo, header_prefix: str) -> None:
        """As :meth:`evaluate`, where "not modified" fails too (CopyObject's rule)."""
        if self.evaluate(info, header_prefix=header_prefix) is Outcome.NOT_MODIFIED:
            name = "If-None-Match" if self.if_none_match is not None else "If-Modified-Since"
            raise PreconditionFailed(Condition=f"{_title(header_prefix)}{name}")


@dataclass(frozen=True)
class RangeRequest:
    """One byte range asked for: ``first``..``last`` (``last`` may be past the end), or
    the last ``suffix`` bytes."""

    first: int = 0
    last: int = OPEN_END
    suffix: int | None = None

    @classmethod
    def read(cls, header: str | None) -> RangeRequest | None:
        """The single range of a ``Range`` header, ``None`` when S3 would ignore it."""
        if not header:
            return None
        unit, _, spec = header.strip().partition("=")
        if unit.strip().lower() != "bytes" or "," in spec:
            return None  # another unit, or several ranges: S3 serves the whole object
        first, dash, last = spec.strip().partition("-")
        first, last = first.strip(), last.strip()
        if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
            return None
        if not first:
            return cls(suffix=int(last)) if last else None
        if last and int(last) < int(first):
            return None  # syntactically invalid: ignored (RFC 9110, 14.1.1)
        return cls(int(first), int(last) if last else OPEN_END)

    @property
    def needs_size(self) -> bool:
        """A suffix range is resolved against the object's size."""
        return self.suffix is not None

    def resolve(self, size: int) -> ByteRange:
        """The bytes to serve of an object of ``size`` bytes (416 ``InvalidRange``)."""
        if self.suffix is not None:
            if self.suffix == 0 or size == 0:
                raise invalid_range(self, size)
            return ByteRange(max(size - self.suffix, 0), size - 1)
        if self.first >= size:
            raise invalid_range(self, size)
        return ByteRange(self.first, min(self.last, size - 1))

    def as_byte_range(self) -> ByteRange:
        """A ``first-last`` range as the object store takes it (it clips the end)."""
        return ByteRange(self.first, self.last)

    def __str__(self) -> str:
        if self.suffix is not None:
            return f"bytes=-{self.suffix}"
        return f"bytes={self.first}-" + ("" if self.last == OPEN_END else str(self.last))


def invalid_range(requested: RangeRequest, size: int) -> S3Error:
    """S3's 416, with the details it gives (and the size for ``Content-Range``)."""
    return InvalidRange(RangeRequested=str(requested), ActualObjectSize=str(size))


def content_range(byte_range: ByteRange, size: int) -> str:
    return f"bytes {byte_range.first}-{byte_range.last}/{size}"


def _etags(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(unquoted(tag) for tag in value.split(",") if tag.strip())


def _matches(etags: tuple[str, ...], etag: str) -> bool:
    return "*" in etags or etag in etags


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return None if moment.tzinfo is None else moment


def _title(header_prefix: str) -> str:
    return "x-amz-copy-source-" if header_prefix else ""
