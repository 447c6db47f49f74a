"""The edge's HTTP/1.1 server: asyncio protocols, ``httptools`` parsing, ``sendfile``.

Why not uvicorn: ASGI has no way to hand a file to the kernel, and the edge exists to
serve big files from its cache to many viewers. A :class:`FileBody` goes out with
``sendfile(2)`` over plain TCP: ``loop.sendfile`` on the standard loop; on uvloop,
which has none, from a worker thread of the server's own on the connection's socket
(:mod:`.sendfile_thread`), once the transport has written everything before it. In
``bench/updates_offload.py`` (100 viewers, 100 MiB, two cores), in runs where nginx
was undisturbed (3,150-3,580 MiB/s), that took the edge (warm) from 2,500-2,680 MiB/s
(75-77% of nginx; 1 MiB chunks written by the loop) to 3,100-3,340 MiB/s (96-100%).
Over TLS the bytes are encrypted in the process: the file is read in 1 MiB chunks and
written with flow control. Nothing is held in memory beyond a chunk and the
transport's high-water mark, however slow the viewer.

HTTP/1.1 as CloudFront speaks it to viewers (RFC 9110/9112):

- persistent connections by default (HTTP/1.0 only with ``Connection: keep-alive``);
  pipelined requests are answered in order; idle connections close after 75 s;
- ``HEAD`` gets the GET's headers, ``Content-Length`` included, and no body;
- request bodies with ``Content-Length`` or chunked, up to ``max_body_bytes``: past it
  413 and the connection closes; ``Expect: 100-continue`` gets its interim response
  once the request is next in line, so the viewer sends its body only when read;
- a malformed request gets 400 (so does HTTP/1.1 without ``Host``, RFC 9112 §3.2), a
  header section over 64 KiB gets 431 (counted as it arrives, :mod:`.http_wire`), a
  body that stalls for the idle timeout gets 408, and the connection closes (after a
  short linger, so the viewer reads the refusal rather than a reset);
- a response whose length is unknown is sent chunked (close-delimited for HTTP/1.0);
- a viewer that reads nothing for ``send_timeout`` (60 s, nginx's ``send_timeout``) is
  dropped: each write (a chunk, a ``loop.sendfile`` piece, or a wait of the sending
  thread for room in the socket) must complete within that timeout;
- a body file is opened before the status line: one deleted meanwhile is a 502;
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
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Literal, TypeVar, cast

from overcast.local.cdn.http_wire import (
    HttpDate,
    PendingRequest,
    RequestReader,
    body_length,
    framing,
    refusal,
    response_head,
)
from overcast.local.cdn.model import (
    Body,
    EdgeResponse,
    FileBody,
    Handler,
    StreamBody,
    ViewerRequest,
)
from overcast.local.cdn.sendfile_thread import FileEnded, SendfileThreads, ViewerStalled

logger = logging.getLogger("overcast.cdn")
T = TypeVar("T")

IDLE_TIMEOUT = 75.0
# nginx's send_timeout (60 s): the longest a write may wait for the viewer to read.
SEND_TIMEOUT = 60.0
GRACE_PERIOD = 5.0
LINGER = 2.0
CHUNK_BYTES = 1024 * 1024
WRITE_HIGH_WATER = 1024 * 1024
MAX_PIPELINED = 8
BACKLOG = 1024
# sendfile goes out in pieces of this size, each within the send timeout.
SENDFILE_PIECE = 4 * CHUNK_BYTES
# How a file body goes out: ``loop.sendfile`` (the standard loop over plain TCP),
# ``os.sendfile`` from a worker thread (uvloop over plain TCP), or read and written in
# chunks (TLS: the bytes are encrypted in the process).
FileMode = Literal["loop", "thread", "chunks"]


class _Abort(Exception):
    """The response cannot be completed: abort the connection."""


class _Connection(asyncio.Protocol):
    """One viewer's connection: reads requests, answers them in order on one task."""

    def __init__(self, server: EdgeServer) -> None:
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._reader = RequestReader(self._enqueue, server.max_body_bytes)
        self._queue: deque[PendingRequest] = deque()
        self._queued = asyncio.Event()
        self._transport: asyncio.Transport | None = None
        self._worker: asyncio.Task[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._client_ip = "127.0.0.1"
        self._read_paused = self._write_paused = False
        self._busy = self._peer_eof = self._lost = self._closing = False
        self._file_mode: FileMode = "loop"
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # --- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        # TLS encrypts in user space: the kernel cannot send the file for it.
        plain = transport.get_extra_info("sslcontext") is None
        self._file_mode = "loop" if plain and transport.get_extra_info("socket") else "chunks"
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

    async def _next(self) -> PendingRequest | None:
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

    def _enqueue(self, pending: PendingRequest) -> None:
        self._set_timer(None)
        self._queue.append(pending)
        self._queued.set()

    async def _answer(self, pending: PendingRequest) -> bool:
        if pending.expect_continue and pending.refusal is None and not pending.received.is_set():
            self._transport_().write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            await asyncio.wait_for(pending.received.wait(), self._server.idle_timeout)
        except TimeoutError:
            self._reader.stopped = True
            pending.refusal = 408  # a body that stopped coming (RFC 9110 §15.5.9)
        if pending.refusal is not None:
            await self._respond(pending, refusal(pending.refusal), keep_alive=False)
            return False
        response = await self._call_handler(pending)
        return await self._respond(pending, response, pending.keep_alive and not self._closing)

    async def _call_handler(self, pending: PendingRequest) -> EdgeResponse:
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
            return refusal(502)

    async def _respond(
        self, pending: PendingRequest, response: EdgeResponse, keep_alive: bool
    ) -> bool:
        status, body = response.status, response.body
        bodiless = status < 200 or status in (204, 304)
        no_body = bodiless or pending.method == "HEAD"
        length = None if bodiless else body_length(body)
        chunked = not no_body and length is None
        if chunked and not pending.http_11:
            chunked = keep_alive = False  # HTTP/1.0: the end of the body is the close
        file = None
        if isinstance(body, FileBody) and not no_body:
            # Opened before the status line goes out: a body deleted meanwhile (an
            # invalidation, an eviction) is then a 502, not a 200 cut short.
            file = self._open(body)
            if file is None:
                return await self._respond(pending, refusal(502), keep_alive)
        lines = framing(length, chunked, keep_alive, pending.http_11)
        head = response_head(status, response.headers, self._server._date(), lines)
        if no_body:
            self._transport_().write(head)
            await _close_stream(body)
        elif isinstance(body, bytes):
            await self._write(head + body if len(body) < CHUNK_BYTES else head)
            if len(body) >= CHUNK_BYTES:
                await self._write(body)
        elif isinstance(body, FileBody):
            assert file is not None
            with file:
                self._transport_().write(head)
                await self._send_file(file, body)
        else:
            self._transport_().write(head)
            await self._send_stream(body, chunked)
        return keep_alive

    def _open(self, body: FileBody) -> IO[bytes] | None:
        try:
            return open(body.path, "rb", buffering=0)
        except OSError as exc:
            logger.warning("%s: body file unreadable: %r", self._server.name, exc)
            return None

    # --- bodies -----------------------------------------------------------------

    async def _send_file(self, file: IO[bytes], body: FileBody) -> None:
        position, end, progress = body.offset, body.offset + body.length, body.progress
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
        if self._transport_().is_closing():
            raise ConnectionResetError("the viewer went away")
        if self._file_mode == "loop":
            offset, count = await self._loop_sendfile(file, offset, count)
        if count > 0 and self._file_mode == "thread":
            await self._thread_sendfile(file, offset, count)
        elif count > 0:
            await self._write_chunks(file.fileno(), offset, count)

    async def _loop_sendfile(self, file: IO[bytes], offset: int, count: int) -> tuple[int, int]:
        """Send with ``loop.sendfile``; what is left if the loop cannot (uvloop)."""
        while count > 0:
            piece = min(count, SENDFILE_PIECE)
            try:
                sent = await self._within_send_timeout(
                    self._loop.sendfile(self._transport_(), file, offset, piece, fallback=False)
                )
            except (NotImplementedError, asyncio.SendfileNotAvailableError):
                self._file_mode = "thread"  # uvloop: os.sendfile from a thread instead
                break
            if sent < piece:
                raise _Abort(f"{file.name!r} is shorter than its response")
            offset, count = offset + piece, count - piece
        return offset, count

    async def _thread_sendfile(self, file: IO[bytes], offset: int, count: int) -> None:
        await self._drain()  # the head (and any earlier response) first, in order
        sock = self._transport_().get_extra_info("socket")
        threads, timeout = self._server._sendfile_threads, self._server.send_timeout
        try:
            await threads.send(sock.fileno(), file.fileno(), offset, count, timeout)
        except ViewerStalled as exc:
            raise _Abort(str(exc)) from None
        except FileEnded as exc:
            raise _Abort(f"{file.name!r} is shorter than its response: {exc}") from None

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
        await self._writable_again()

    async def _writable_again(self) -> None:
        while self._write_paused and not self._lost:
            self._writable = self._loop.create_future()
            await self._within_send_timeout(self._writable)
        if self._lost:
            raise ConnectionResetError("the viewer went away")

    async def _within_send_timeout(self, waiting: Awaitable[T]) -> T:
        # nginx's send_timeout: "set only between two successive write operations";
        # a viewer that reads nothing for that long is dropped.
        try:
            return await asyncio.wait_for(waiting, self._server.send_timeout)
        except TimeoutError:
            raise _Abort(f"the viewer read nothing for {self._server.send_timeout} s") from None

    async def _drain(self) -> None:
        """Wait until the transport has written everything it holds."""
        transport = self._transport_()
        if transport.get_write_buffer_size() > 0:
            # Paused above nothing, resumed at nothing: the writer wakes once it is empty.
            transport.set_write_buffer_limits(high=0, low=0)
            try:
                await self._writable_again()
            finally:
                transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        if self._lost or transport.is_closing():
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
        send_timeout: float = SEND_TIMEOUT,
        grace_period: float = GRACE_PERIOD,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.max_body_bytes = max_body_bytes
        self.name = name
        self.idle_timeout = idle_timeout
        self.send_timeout = send_timeout
        self.grace_period = grace_period
        self._date = HttpDate(clock)
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._sendfile_threads = SendfileThreads(name)

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def file_sends_in_flight(self) -> int:
        """File bodies being sent from worker threads (uvloop, plain TCP)."""
        return self._sendfile_threads.in_flight

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
        self._sendfile_threads.close()


async def _close_stream(body: Body) -> None:
    if isinstance(body, StreamBody):
        chunks: AsyncIterator[bytes] = body.chunks
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
