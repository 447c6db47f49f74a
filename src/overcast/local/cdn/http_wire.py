"""HTTP/1.1 on the wire for the edge's server: requests parsed with ``httptools``, and
response heads written (RFC 9110/9112).

- A request is queued once its header section is in (:class:`PendingRequest`) and is
  complete with its body; the server answers requests in order.
- The header section (request line and fields) is limited to 64 KiB, counted as the
  bytes arrive: ``httptools`` buffers a field until its line ends, so a field that
  never ends would otherwise grow without bound. Past the limit: 431 (RFC 6585 §5).
- A malformed request is 400; so is HTTP/1.1 without ``Host`` (RFC 9112 §3.2); a body
  over the limit is 413 (declared or as it arrives). The connection then closes.
- Numbers in fields are ASCII digits only (RFC 9110 §5.6: ``DIGIT`` is ``%x30-39``),
  at most 19 of them: ``str.isdigit`` would accept ``²`` and ``int`` refuses more than
  4300 digits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

import httptools

from overcast.local.cdn.model import Body, EdgeResponse, Headers, header

MAX_HEADER_BYTES = 64 * 1024
_MAX_DIGITS = 19
# The server frames the message itself; a handler's framing headers would contradict it.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


def decimal(text: str) -> int | None:
    """``text`` (surrounding spaces aside) as a non-negative number of ASCII digits, or
    None if it is not one (or has more than 19 digits)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS):
        return None
    return int(text)


class _Refused(Exception):
    """Raised in a parser callback to stop parsing a request the server refuses."""


@dataclass(eq=False)
class PendingRequest:
    """A request being received: queued once its headers are in, complete with its body."""

    method: str = "GET"
    path: str = "/"
    query: str = ""
    headers: Headers = field(default_factory=list)
    keep_alive: bool = False
    http_11: bool = True
    expect_continue: bool = False
    body: bytearray = field(default_factory=bytearray)
    received: asyncio.Event = field(default_factory=asyncio.Event)
    refusal: int | None = None  # answer this status, then close


class RequestReader:
    """``httptools`` callbacks turned into :class:`PendingRequest` s, in order."""

    def __init__(self, emit: Callable[[PendingRequest], None], max_body_bytes: int) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._emit = emit
        self._max_body = max_body_bytes
        self._url = bytearray()
        self._headers: Headers = []
        self._header_bytes = 0
        self._in_head = False
        self._raw_head_bytes = 0
        self._current: PendingRequest | None = None
        self._last: PendingRequest | None = None
        self._refusal: int | None = None
        self.stopped = False

    def feed(self, data: bytes) -> None:
        if self.stopped:
            return
        was_in_head = self._in_head
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._stop(None)  # no upgrades: answer the request, then close
            return
        except httptools.HttpParserError:
            self._stop(self._refusal or 400)
            return
        self._count_raw_head(data, was_in_head)

    def eof(self) -> None:
        """The viewer will send nothing more: a request cut short is malformed."""
        if (self._current is not None or self._in_head) and not self.stopped:
            self._stop(400)

    def _count_raw_head(self, data: bytes, was_in_head: bool) -> None:
        # A header section still arriving: every byte of this chunk is part of it if it
        # was already under way (one that began in this chunk is counted from the next).
        if self._in_head and was_in_head:
            self._raw_head_bytes += len(data)
            if self._raw_head_bytes > MAX_HEADER_BYTES:
                self._stop(431)

    def _stop(self, refusal: int | None) -> None:
        self.stopped = True
        pending = self._current
        if pending is None and refusal is not None:
            pending = PendingRequest(refusal=refusal)
            self._emit(pending)
        elif pending is not None and pending.refusal is None:
            pending.refusal = refusal
        pending = pending or self._last
        if pending is not None:
            pending.keep_alive = False
            pending.received.set()

    def _refuse(self, status: int) -> None:
        self._refusal = status
        raise _Refused(status)

    def _count_header_bytes(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refuse(431)

    # --- httptools callbacks ----------------------------------------------------

    def on_message_begin(self) -> None:
        self._url.clear()
        self._headers = []
        self._header_bytes = 0
        self._in_head = True
        self._raw_head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._in_head = False
        http_11 = self._parser.get_http_version() == "1.1"
        url = httptools.parse_url(bytes(self._url))
        expect = (header(self._headers, "expect") or "").lower()
        pending = PendingRequest(
            method=self._parser.get_method().decode("ascii"),
            path=(url.path or b"/").decode("latin-1"),
            query=(url.query or b"").decode("latin-1"),
            headers=self._headers,
            keep_alive=self._parser.should_keep_alive(),
            http_11=http_11,
            expect_continue=http_11 and expect == "100-continue",
        )
        self._current = self._last = pending
        self._emit(pending)
        if http_11 and header(self._headers, "host") is None:
            self._refuse(400)
        declared = decimal(header(self._headers, "content-length") or "")
        if declared is not None and declared > self._max_body:
            self._refuse(413)

    def on_body(self, body: bytes) -> None:
        assert self._current is not None
        if len(self._current.body) + len(body) > self._max_body:
            self._refuse(413)
        self._current.body += body

    def on_message_complete(self) -> None:
        assert self._current is not None
        self._current.received.set()
        self._current = None


# --- response heads ------------------------------------------------------------------


def body_length(body: Body) -> int | None:
    if isinstance(body, bytes):
        return len(body)
    return body.length


def refusal(status: int) -> EdgeResponse:
    """The server's own plain-text answer with ``status``."""
    text = f"{status} {_reason(status)}\n".encode()
    return EdgeResponse(status, [("Content-Type", "text/plain; charset=utf-8")], text)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def framing(length: int | None, chunked: bool, keep_alive: bool, http_11: bool) -> list[str]:
    """The framing fields of a response: its length or chunking, and ``Connection``."""
    lines = [] if length is None else [f"Content-Length: {length}"]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if not keep_alive:
        lines.append("Connection: close")
    elif not http_11:
        lines.append("Connection: keep-alive")
    return lines


def response_head(status: int, headers: Headers, date: str, framing: list[str]) -> bytes:
    """The status line and header section, the handler's framing fields replaced."""
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    if header(headers, "date") is None:
        lines.append(f"Date: {date}")
    lines += [f"{name}: {value}" for name, value in headers if name.lower() not in _FRAMING]
    lines += framing
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpDate:
    """The ``Date`` header's value (RFC 9110 §5.6.7), formatted once a second."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._second = -1
        self._text = ""

    def __call__(self) -> str:
        now = int(self._clock())
        if now != self._second:
            self._second, self._text = now, formatdate(now, usegmt=True)
        return self._text
