"""The edge's HTTP/1.1 server: asyncio protocols, ``httptools`` parsing, ``sendfile``.

Why not uvicorn: ASGI has no way to hand a file to the kernel, and the edge exists to
serve big files from its cache to many viewers. Here a :class:`FileBody` goes out with
``loop.sendfile`` (``os.sendfile`` on the stdlib loop over plain TCP); uvloop and TLS
transports cannot, so the file is then read in 256 KiB chunks and written with flow
control. Nothing is held in memory beyond a chunk and the transport's high-water mark,
however slow the viewer.

HTTP/1.1 as CloudFront speaks it to viewers (RFC 9110/9112):

- persistent connections by default (HTTP/1.0 only with ``Connection: keep-alive``);
  pipelined requests are answered in order; idle connections close after 75 s;
- ``HEAD`` gets the GET's headers, ``Content-Length`` included, and no body;
- request bodies with ``Content-Length`` or chunked, up to ``max_body_bytes``: past it
  413 and the connection closes; ``Expect: 100-continue`` gets its interim response
  once the request is next in line, so the viewer sends its body only when read;
- a malformed request gets 400 (so does HTTP/1.1 without ``Host``, RFC 9112 §3.2),
  a header section over 64 KiB gets 431, a body that stalls for the idle timeout
  gets 408, and the connection closes (after a short
  linger, so the viewer reads the refusal rather than a reset);
- a response whose length is unknown is sent chunked (close-delimited for HTTP/1.0);
- a failure once the status line is out (the origin or a cache fill fails mid-way)
  aborts the connection, so the viewer sees a truncated response, not a short one
  that looks complete — what CloudFront does when an origin fails mid-response.

A handler's exception becomes a 502 and the connection carries on. :meth:`EdgeServer.close`
stops accepting, lets responses in flight finish for a grace period, then aborts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import IO, cast

import httptools

from overcast.local.cdn.model import (
    Body,
    EdgeResponse,
    FileBody,
    Handler,
    Headers,
    StreamBody,
    ViewerRequest,
    header,
)

logger = logging.getLogger("overcast.cdn")

MAX_HEADER_BYTES = 64 * 1024
IDLE_TIMEOUT = 75.0
GRACE_PERIOD = 5.0
LINGER = 2.0
CHUNK_BYTES = 256 * 1024
WRITE_HIGH_WATER = 512 * 1024
MAX_PIPELINED = 8
BACKLOG = 1024
# The server frames the message itself; a handler's framing headers would contradict it.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class _Abort(Exception):
    """The response cannot be completed: abort the connection."""


class _Refused(Exception):
    """Raised in a parser callback to stop parsing a request the server refuses."""


@dataclass(eq=False)
class _Pending:
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


class _RequestReader:
    """``httptools`` callbacks turned into :class:`_Pending` requests, in order."""

    def __init__(self, emit: Callable[[_Pending], None], max_body_bytes: int) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._emit = emit
        self._max_body = max_body_bytes
        self._url = bytearray()
        self._headers: Headers = []
        self._header_bytes = 0
        self._current: _Pending | None = None
        self._last: _Pending | None = None
        self._refusal: int | None = None
        self.stopped = False

    def feed(self, data: bytes) -> None:
        if self.stopped:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._stop(None)  # no upgrades: answer the request, then close
        except httptools.HttpParserError:
            self._stop(self._refusal or 400)

    def eof(self) -> None:
        """The viewer will send nothing more: a request cut short is malformed."""
        if self._current is not None and not self.stopped:
            self._stop(400)

    def _stop(self, refusal: int | None) -> None:
        self.stopped = True
        pending = self._current
        if pending is None and refusal is not None:
            pending = _Pending(refusal=refusal)
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

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        http_11 = self._parser.get_http_version() == "1.1"
        url = httptools.parse_url(bytes(self._url))
        expect = (header(self._headers, "expect") or "").lower()
        pending = _Pending(
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
        declared = header(self._headers, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body:
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


class _Connection(asyncio.Protocol):
    """One viewer's connection: reads requests, answers them in order on one task."""

    def __init__(self, server: EdgeServer) -> None:
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._reader = _RequestReader(self._enqueue, server.max_body_bytes)
        self._queue: deque[_Pending] = deque()
        self._queued = asyncio.Event()
        self._transport: asyncio.Transport | None = None
        self._worker: asyncio.Task[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._client_ip = "127.0.0.1"
        self._read_paused = self._write_paused = False
        self._busy = self._peer_eof = self._lost = self._closing = False
        self._sendfile_ok = True
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # --- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        # TLS encrypts in user space: the kernel cannot send the file for it.
        self._sendfile_ok = transport.get_extra_info("sslcontext") is None
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self._client_ip = str(peer[0])
        self._server._connections.add(self)
        self._worker = self._loop.create_task(self._serve(), name=f"{self._server.name} conn")

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        if len(self._queue) >= MAX_PIPELINED and not self._read_paused:
            self._read_paused = True
            self._transport_().pause_reading()

    def eof_received(self) -> bool | None:
        self._peer_eof = True
        self._reader.eof()
        self._queued.set()
        worker_running = self._worker is not None and not self._worker.done()
        keep_open = worker_running and (self._busy or bool(self._queue))
        # Over TLS a half-closed connection cannot stay open for writing.
        return keep_open and self._server.ssl_context is None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._set_timer(None)
        self._wake_writer()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._server._connections.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_writer()

    # --- used by the server -----------------------------------------------------

    def shut_down(self) -> None:
        """Close once the response in flight (if any) is out."""
        self._closing = True
        if not self._busy and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    @property
    def worker(self) -> asyncio.Task[None] | None:
        return self._worker

    # --- the worker -------------------------------------------------------------

    async def _serve(self) -> None:
        linger = False
        try:
            while (pending := await self._next()) is not None:
                self._busy = True
                keep_alive = await self._answer(pending)
                self._busy = False
                if not keep_alive or self._closing:
                    linger = pending.refusal is not None
                    break
        except (_Abort, OSError) as exc:
            logger.info("%s: response aborted: %r", self._server.name, exc)
            self._transport_().abort()
            return
        except Exception:
            logger.exception("%s: connection failed", self._server.name)
            self._transport_().abort()
            return
        self._close(linger)

    async def _next(self) -> _Pending | None:
        while not self._queue:
            if self._peer_eof or self._lost or self._closing:
                return None
            self._set_timer(self._server.idle_timeout)
            self._queued.clear()
            await self._queued.wait()
        pending = self._queue.popleft()
        if self._read_paused and len(self._queue) < MAX_PIPELINED:
            self._read_paused = False
            self._transport_().resume_reading()
        return pending

    def _enqueue(self, pending: _Pending) -> None:
        self._set_timer(None)
        self._queue.append(pending)
        self._queued.set()

    async def _answer(self, pending: _Pending) -> bool:
        if pending.expect_continue and pending.refusal is None and not pending.received.is_set():
            self._transport_().write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            await asyncio.wait_for(pending.received.wait(), self._server.idle_timeout)
        except TimeoutError:
            self._reader.stopped = True
            pending.refusal = 408  # a body that stopped coming (RFC 9110 §15.5.9)
        if pending.refusal is not None:
            await self._respond(pending, _refusal(pending.refusal), keep_alive=False)
            return False
        response = await self._call_handler(pending)
        return await self._respond(pending, response, pending.keep_alive and not self._closing)

    async def _call_handler(self, pending: _Pending) -> EdgeResponse:
        scheme = "http" if self._server.ssl_context is None else "https"
        request = ViewerRequest(
            pending.method,
            pending.path,
            pending.query,
            pending.headers,
            bytes(pending.body),
            self._client_ip,
            scheme,
        )
        try:
            return await self._server.handler(request)
        except Exception:
            logger.exception(
                "%s: handler failed: %s %s", self._server.name, pending.method, pending.path
            )
            return _refusal(502)

    async def _respond(self, pending: _Pending, response: EdgeResponse, keep_alive: bool) -> bool:
        status, body = response.status, response.body
        bodiless = status < 200 or status in (204, 304)
        length = None if bodiless else _body_length(body)
        chunked = not bodiless and length is None and pending.method != "HEAD"
        if chunked and not pending.http_11:
            chunked = keep_alive = False  # HTTP/1.0: the end of the body is the close
        framing = _framing(length, chunked, keep_alive, pending.http_11)
        head = _head(status, response.headers, self._server._date(), framing)
        if pending.method == "HEAD" or bodiless:
            self._transport_().write(head)
            await _close_stream(body)
        elif isinstance(body, bytes):
            await self._write(head + body if len(body) < CHUNK_BYTES else head)
            if len(body) >= CHUNK_BYTES:
                await self._write(body)
        else:
            self._transport_().write(head)
            await self._send_body(body, chunked)
        return keep_alive

    async def _send_body(self, body: FileBody | StreamBody, chunked: bool) -> None:
        if isinstance(body, FileBody):
            await self._send_file(body)
        else:
            await self._send_stream(body, chunked)

    # --- bodies -----------------------------------------------------------------

    async def _send_file(self, body: FileBody) -> None:
        position, end, progress = body.offset, body.offset + body.length, body.progress
        with open(body.path, "rb", buffering=0) as file:
            while position < end:
                if progress is not None and progress.failed is not None:
                    raise _Abort(f"cache fill failed: {progress.failed!r}")
                available = end if progress is None else min(end, progress.written)
                if available > position:
                    await self._send_range(file, position, available - position)
                    position = available
                elif progress is not None and progress.complete:
                    raise _Abort(f"cache fill ended at {progress.written} before byte {end}")
                elif progress is not None:
                    await progress.wait_beyond(position)

    async def _send_range(self, file: IO[bytes], offset: int, count: int) -> None:
        transport = self._transport_()
        if transport.is_closing():
            raise ConnectionResetError("the viewer went away")
        if self._sendfile_ok:
            try:
                sent = await self._loop.sendfile(transport, file, offset, count, fallback=False)
            except (NotImplementedError, asyncio.SendfileNotAvailableError):
                self._sendfile_ok = False  # uvloop, TLS: read and write instead
            else:
                if sent < count:
                    raise _Abort(f"{file.name!r} is shorter than its response")
                return
        await self._write_chunks(file.fileno(), offset, count)

    async def _write_chunks(self, fd: int, offset: int, count: int) -> None:
        while count > 0:
            chunk = os.pread(fd, min(CHUNK_BYTES, count), offset)
            if not chunk:
                raise _Abort("the file is shorter than its response")
            await self._write(chunk)
            offset += len(chunk)
            count -= len(chunk)

    async def _send_stream(self, body: StreamBody, chunked: bool) -> None:
        sent = 0
        try:
            async for chunk in body.chunks:
                if not chunk:
                    continue
                sent += len(chunk)
                if body.length is not None and sent > body.length:
                    raise _Abort("the stream is longer than its length")
                await self._write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
        except (_Abort, OSError):
            raise
        except Exception as exc:
            raise _Abort(f"the stream failed: {exc!r}") from exc
        finally:
            await _close_stream(body)
        if body.length is not None and sent != body.length:
            raise _Abort(f"the stream ended after {sent} of {body.length} bytes")
        if chunked:
            await self._write(b"0\r\n\r\n")

    # --- writing and closing ----------------------------------------------------

    async def _write(self, data: bytes) -> None:
        if self._lost:
            raise ConnectionResetError("the viewer went away")
        self._transport_().write(data)
        while self._write_paused and not self._lost:
            self._writable = self._loop.create_future()
            await self._writable
        if self._lost:
            raise ConnectionResetError("the viewer went away")

    def _wake_writer(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def _close(self, linger: bool) -> None:
        transport = self._transport_()
        if linger and not (self._peer_eof or transport.is_closing()) and transport.can_write_eof():
            # Read (and drop) what the viewer still sends, so it gets the refusal, not a reset.
            transport.write_eof()
            self._set_timer(LINGER)
        else:
            transport.close()

    def _set_timer(self, delay: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None if delay is None else self._loop.call_later(delay, self._expire)

    def _expire(self) -> None:
        self._timer = None
        self._transport_().close()

    def _transport_(self) -> asyncio.Transport:
        assert self._transport is not None
        return self._transport


class EdgeServer:
    """An HTTP/1.1 (optionally TLS) server calling ``handler`` for each request."""

    def __init__(
        self,
        handler: Handler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_body_bytes: int = 10 * 1024 * 1024,
        name: str = "edge",
        idle_timeout: float = IDLE_TIMEOUT,
        grace_period: float = GRACE_PERIOD,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.max_body_bytes = max_body_bytes
        self.name = name
        self.idle_timeout = idle_timeout
        self.grace_period = grace_period
        self._date = _HttpDate(clock)
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def start(self, sock: socket.socket) -> None:
        """Serve on ``sock``, bound (and possibly listening) already."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), sock=sock, ssl=self.ssl_context, backlog=BACKLOG
        )

    async def close(self) -> None:
        """Stop accepting; let responses in flight finish for the grace period, then abort."""
        if self._server is None:
            return
        self._server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.shut_down()
        if connections:
            await asyncio.wait([c.closed for c in connections], timeout=self.grace_period)
        for connection in connections:
            connection.abort()
        workers = [c.worker for c in connections if c.worker is not None]
        await asyncio.gather(*workers, *(c.closed for c in connections), return_exceptions=True)
        await self._server.wait_closed()
        self._server = None


def _body_length(body: Body) -> int | None:
    if isinstance(body, bytes):
        return len(body)
    return body.length


def _refusal(status: int) -> EdgeResponse:
    text = f"{status} {_reason(status)}\n".encode()
    return EdgeResponse(status, [("Content-Type", "text/plain; charset=utf-8")], text)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _framing(length: int | None, chunked: bool, keep_alive: bool, http_11: bool) -> list[str]:
    lines = [] if length is None else [f"Content-Length: {length}"]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if not keep_alive:
        lines.append("Connection: close")
    elif not http_11:
        lines.append("Connection: keep-alive")
    return lines


def _head(status: int, headers: Headers, date: str, framing: list[str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    if header(headers, "date") is None:
        lines.append(f"Date: {date}")
    lines += [f"{name}: {value}" for name, value in headers if name.lower() not in _FRAMING]
    lines += framing
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _HttpDate:
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


async def _close_stream(body: Body) -> None:
    if isinstance(body, StreamBody):
        chunks: AsyncIterator[bytes] = body.chunks
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
