"""Answering a viewer from a stored object (or one still being filled): pure functions.

What is mirrored (RFC 9110 as CloudFront applies it, "How CloudFront processes partial
requests for an object (range GETs)", "Request and response behavior"):

- **Conditional requests** (RFC 9110 section 13.2.2, in its order): ``If-None-Match``
  is compared with the object's ``ETag`` by the *weak* comparison (``W/"a"`` matches
  ``"a"``; ``*`` matches any); only without it is ``If-Modified-Since`` compared with
  ``Last-Modified``. A match is ``304 Not Modified`` with no body, carrying ``ETag``,
  ``Cache-Control``, ``Expires``, ``Last-Modified``, ``Vary`` and the edge's own
  headers (``Age``, ``X-Cache``...). Conditions apply to 200 responses only.
- **Range** (RFC 9110 section 14.2): ``bytes=a-b``, ``a-`` and ``-n``. One satisfiable
  range is ``206`` with ``Content-Range: bytes a-b/size``; none satisfiable is ``416``
  with ``Content-Range: bytes */size``; a header that does not parse (positions are
  ASCII digits, 19 at most) is ignored (200).
  ``If-Range`` (strong comparison of the ETag, or the exact ``Last-Modified`` date)
  that does not match turns the request into a plain GET.
- Several ranges: CloudFront "generally follows the RFC", but when the ranges are not
  in ascending order, overlap, or one of them is invalid, it returns the whole object
  with 200 instead of 206. Valid ones get ``multipart/byteranges``.
- ``HEAD`` gets the GET's headers; the server sends no body.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

from overcast.local.cdn.http_wire import decimal
from overcast.local.cdn.model import (
    EdgeResponse,
    FileBody,
    FillProgress,
    Headers,
    StreamBody,
    ViewerRequest,
    header,
)

# RFC 9110 section 15.4.5: what a 304 carries of the 200 it stands for.
_NOT_MODIFIED_KEEPS = frozenset(
    {"etag", "cache-control", "expires", "last-modified", "vary", "content-location"}
)
_BOUNDARY = "OVERCAST_BYTERANGES_3d6b6a416f9b"
_READ_CHUNK = 256 * 1024

Range = tuple[int, int]  # first and last byte, inclusive


@dataclass(frozen=True)
class Stored:
    """An object as the edge keeps it: its status, headers (without ``Content-Length``)
    and body file of ``size`` bytes; ``progress`` while a fill still writes it."""

    status: int
    headers: Headers
    body_path: Path
    size: int
    progress: FillProgress | None = None


class Unsatisfiable(Exception):
    """No range of the request lies within the object."""


def respond(request: ViewerRequest, stored: Stored, edge_headers: Headers) -> EdgeResponse:
    """The response to ``request`` from ``stored``, with the edge's own headers added."""
    if stored.status == 200 and not_modified(request.headers, stored.headers):
        kept = [(n, v) for n, v in stored.headers if n.lower() in _NOT_MODIFIED_KEEPS]
        return EdgeResponse(304, [*kept, *edge_headers])
    headers = [*stored.headers, *edge_headers]
    ranges = _wanted_ranges(request, stored)
    if ranges is None:
        body = FileBody(stored.body_path, 0, stored.size, stored.progress)
        return EdgeResponse(stored.status, _accepting_ranges(headers), body)
    try:
        satisfiable = satisfiable_ranges(ranges, stored.size)
    except Unsatisfiable:
        return EdgeResponse(416, [*edge_headers, ("Content-Range", f"bytes */{stored.size}")])
    return _partial(stored, headers, satisfiable)


def not_modified(request_headers: Headers, object_headers: Headers) -> bool:
    """Whether the viewer's copy is current (RFC 9110 section 13.2.2, steps 3 and 4)."""
    if_none_match = header(request_headers, "if-none-match")
    if if_none_match is not None:
        etag = header(object_headers, "etag")
        return _weak_match(if_none_match, etag)
    since = _http_date(header(request_headers, "if-modified-since"))
    modified = _http_date(header(object_headers, "last-modified"))
    return since is not None and modified is not None and modified <= since


def parse_range(value: str) -> list[tuple[int | None, int | None]] | None:
    """``bytes=`` specs as ``(first, last)`` (``(None, n)`` a suffix of n bytes), or
    None when the header does not parse (it is then ignored)."""
    unit, equals, specs = value.partition("=")
    if unit.strip().lower() != "bytes" or not equals:
        return None
    parsed: list[tuple[int | None, int | None]] = []
    for spec in specs.split(","):
        first, dash, last = spec.strip().partition("-")
        start, end = decimal(first), decimal(last)
        if not dash or (first and start is None) or (last and end is None):
            return None  # ASCII digits only, 19 at most (see .http_wire.decimal)
        if start is None and end is None:
            return None
        if start is not None and end is not None and end < start:
            return None
        parsed.append((start, end))
    return parsed or None


def satisfiable_ranges(specs: list[tuple[int | None, int | None]], size: int) -> list[Range]:
    """The byte ranges of ``specs`` within ``size`` bytes; raises :class:`Unsatisfiable`."""
    ranges: list[Range] = []
    for first, last in specs:
        if first is None:
            suffix = last or 0
            if suffix > 0 and size > 0:
                ranges.append((max(size - suffix, 0), size - 1))
        elif first < size:
            ranges.append((first, size - 1 if last is None else min(last, size - 1)))
    if not ranges:
        raise Unsatisfiable
    return ranges


def _wanted_ranges(
    request: ViewerRequest, stored: Stored
) -> list[tuple[int | None, int | None]] | None:
    value = header(request.headers, "range")
    if value is None or stored.status != 200 or request.method not in ("GET", "HEAD"):
        return None
    if not _if_range_holds(header(request.headers, "if-range"), stored.headers):
        return None
    return parse_range(value)


def _if_range_holds(if_range: str | None, object_headers: Headers) -> bool:
    # RFC 9110 section 13.1.5: an entity tag compares strongly; a date must equal
    # Last-Modified exactly.
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        etag = header(object_headers, "etag")
        return etag is not None and not value.startswith("W/") and value == etag.strip()
    return value == (header(object_headers, "last-modified") or "").strip()


def _accepting_ranges(headers: Headers) -> Headers:
    """``headers`` saying ``Accept-Ranges: bytes`` once (the edge serves ranges from its
    copy whatever the origin said)."""
    kept = [(name, value) for name, value in headers if name.lower() != "accept-ranges"]
    return [*kept, ("Accept-Ranges", "bytes")]


def _partial(stored: Stored, headers: Headers, ranges: list[Range]) -> EdgeResponse:
    size = stored.size
    if len(ranges) == 1:
        first, last = ranges[0]
        body = FileBody(stored.body_path, first, last - first + 1, stored.progress)
        return EdgeResponse(
            206, [*headers, ("Content-Range", f"bytes {first}-{last}/{size}")], body
        )
    if not _ascending_and_apart(ranges):
        # CloudFront: unordered or overlapping ranges get the whole object, with 200.
        body = FileBody(stored.body_path, 0, size, stored.progress)
        return EdgeResponse(200, _accepting_ranges(headers), body)
    content_type = header(stored.headers, "content-type")
    parts = [(_part_head(content_type, first, last, size), first, last) for first, last in ranges]
    length = sum(len(head) + last - first + 1 for head, first, last in parts)
    closing = f"\r\n--{_BOUNDARY}--\r\n".encode()
    chunks = _multipart(stored.body_path, parts, closing, stored.progress)
    others = [(n, v) for n, v in headers if n.lower() != "content-type"]
    multipart = ("Content-Type", f"multipart/byteranges; boundary={_BOUNDARY}")
    return EdgeResponse(206, [*others, multipart], StreamBody(chunks, length + len(closing)))


def _ascending_and_apart(ranges: list[Range]) -> bool:
    return all(before[1] < after[0] for before, after in itertools.pairwise(ranges))


def _part_head(content_type: str | None, first: int, last: int, size: int) -> bytes:
    lines = [f"\r\n--{_BOUNDARY}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Range: bytes {first}-{last}/{size}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _multipart(
    path: Path,
    parts: list[tuple[bytes, int, int]],
    closing: bytes,
    progress: FillProgress | None,
) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        for head, first, last in parts:
            yield head
            async for chunk in _file_range(file, first, last + 1, progress):
                yield chunk
    yield closing


async def _file_range(
    file: BinaryIO, start: int, end: int, progress: FillProgress | None
) -> AsyncIterator[bytes]:
    fd = file.fileno()
    offset = start
    while offset < end:
        if progress is not None and progress.written <= offset:
            if progress.failed is not None:
                raise progress.failed
            if progress.complete:
                raise OSError(f"the object ended at {progress.written}, before byte {end}")
            await progress.wait_beyond(offset)
            continue
        available = end if progress is None else min(end, progress.written)
        chunk = await asyncio.to_thread(os.pread, fd, min(_READ_CHUNK, available - offset), offset)
        if not chunk:
            raise OSError(f"{file.name!r} ended at {offset}, before byte {end}")
        offset += len(chunk)
        yield chunk


def _weak_match(if_none_match: str, etag: str | None) -> bool:
    if if_none_match.strip() == "*":
        return etag is not None
    if etag is None:
        return False
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in if_none_match.split(","))


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _http_date(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


_ERROR_PAGE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" \
"http://www.w3.org/TR/html4/loose.dtd">
<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">
<TITLE>ERROR: The request could not be satisfied</TITLE>
</HEAD><BODY>
<H1>{status} ERROR</H1>
<H2>The request could not be satisfied.</H2>
<HR noshade size="1px">
{message}
<BR clear="all">
<HR noshade size="1px">
<PRE>
Generated by overcast (Overcast)
Request ID: {request_id}
</PRE>
<ADDRESS>
</ADDRESS>
</BODY></HTML>"""


_MESSAGES = {
    400: "Bad request. The request could not be satisfied.",
    403: "This distribution is not configured to allow the HTTP request method that was "
    "used for this request. The distribution supports only cachable requests.",
    502: "Overcast wasn't able to connect to the origin.",
    504: "The origin did not answer within the origin response timeout.",
}


def edge_error(status: int, via: str) -> EdgeResponse:
    """An error the edge answers itself, with CloudFront's HTML page (400, 403, 502, 504)."""
    ident = request_id()
    page = _ERROR_PAGE.format(status=status, message=_MESSAGES[status], request_id=ident)
    headers = [("Content-Type", "text/html"), *edge_headers("Error", via, request_ident=ident)]
    return EdgeResponse(status, headers, page.encode())


def edge_headers(
    outcome: str, via: str, age: int | None = None, *, request_ident: str | None = None
) -> Headers:
    """The headers the edge adds to every response: ``X-Cache: <outcome> from overcast``
    (CloudFront says "from cloudfront"), ``Via``, its POP and request id, ``Age`` on hits."""
    aged = [] if age is None else [("Age", str(age))]
    return [
        *aged,
        ("X-Cache", f"{outcome} from overcast"),
        ("Via", via),
        ("X-Amz-Cf-Pop", "LOCAL1"),
        ("X-Amz-Cf-Id", request_ident or request_id()),
    ]


def request_id() -> str:
    """A request id as CloudFront's look: 56 characters of URL-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(42)).decode()
