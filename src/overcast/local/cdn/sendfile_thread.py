"""File ranges sent on plain-TCP sockets with ``os.sendfile``, each from a worker thread.

uvloop has no ``loop.sendfile``, and the standard loop's re-registers the socket with
epoll around every chunk. Here a worker thread calls ``sendfile(2)`` on the
connection's (non-blocking) socket until the range is out; when the socket's buffer is
full (``EAGAIN``) the thread waits for ``POLLOUT`` itself, so the event loop neither
copies the bytes nor hears of them.

- The caller writes nothing on the connection meanwhile, and its transport's buffer is
  empty when a send starts (the bytes would otherwise go out of order).
- The socket's descriptor is duplicated for the send: the transport may close its own
  (the viewer reset the connection) without the number being reused under the thread.
- A viewer that reads nothing for ``timeout`` (nginx's ``send_timeout``: "set only
  between two successive write operations") ends the send with :class:`ViewerStalled`.
- A send whose caller is cancelled (the viewer went away, the server is closing) stops
  within ``poll_interval``; the caller returns only once its thread let go of the file.
- Threads come from a pool of the server's own (``threads``), not the loop's default
  executor: a send occupies its thread for as long as the viewer takes to read. Past
  ``threads`` sends at once, the others wait for a thread (their timeout not running).
"""

from __future__ import annotations

import asyncio
import math
import os
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

THREADS = 128
POLL_INTERVAL = 0.05


class ViewerStalled(Exception):
    """The viewer read nothing for the send timeout."""


class FileEnded(Exception):
    """The file ended before the range did."""


@dataclass
class _Send:
    sock_fd: int
    file_fd: int
    offset: int
    count: int
    timeout: float
    poll_interval: float
    clock: Callable[[], float]
    stopped: threading.Event = field(default_factory=threading.Event)


def _send_all(send: _Send) -> None:
    poller = select.poll()
    poller.register(send.sock_fd, select.POLLOUT)
    offset, remaining = send.offset, send.count
    while remaining > 0 and not send.stopped.is_set():
        try:
            sent = os.sendfile(send.sock_fd, send.file_fd, offset, remaining)
        except BlockingIOError:
            _wait_writable(poller, send)
            continue
        if sent == 0:
            raise FileEnded(f"the file ended at byte {offset}, before {send.offset + send.count}")
        offset, remaining = offset + sent, remaining - sent


def _wait_writable(poller: select.poll, send: _Send) -> None:
    deadline = send.clock() + send.timeout
    while not send.stopped.is_set():
        left = deadline - send.clock()
        if left <= 0:
            raise ViewerStalled(f"the viewer read nothing for {send.timeout} s")
        if poller.poll(math.ceil(min(left, send.poll_interval) * 1000)):
            return  # writable, or an error that the next sendfile reports


class SendfileThreads:
    """Sends file ranges on sockets with ``os.sendfile`` from a pool of worker threads,
    created on the first send and shut down by :meth:`close`."""

    def __init__(
        self,
        name: str = "edge",
        *,
        threads: int = THREADS,
        poll_interval: float = POLL_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._threads = threads
        self._poll_interval = poll_interval
        self._clock = clock
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Sends whose thread has not finished."""
        return self._in_flight

    async def send(
        self, sock_fd: int, file_fd: int, offset: int, count: int, timeout: float
    ) -> None:
        """Send ``count`` bytes of ``file_fd`` from ``offset`` on the socket ``sock_fd``.

        Raises :class:`ViewerStalled`, :class:`FileEnded`, or the ``OSError`` of
        ``sendfile(2)`` (``BrokenPipeError``, ``ConnectionResetError``: the viewer left).
        """
        send = _Send(
            os.dup(sock_fd), file_fd, offset, count, timeout, self._poll_interval, self._clock
        )
        self._in_flight += 1
        try:
            work = self._executor().submit(_send_all, send)
            try:
                await asyncio.wrap_future(work)
            except asyncio.CancelledError:
                send.stopped.set()
                await _finished(work)
                raise
        finally:
            os.close(send.sock_fd)  # the thread is done with it, or never started
            self._in_flight -= 1

    def close(self) -> None:
        """Stop the threads once their sends are over (the callers ended them)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, f"{self._name} sendfile")
        return self._pool


async def _finished(work: Future[None]) -> None:
    """Wait (uncancellably) until ``work``'s thread let go of the descriptors."""
    if work.cancel() or work.done():
        return  # never started, or over
    waiting = asyncio.wrap_future(work)
    while not waiting.done():
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            continue
        except Exception:
            return
