"""A lean thread pool for handler calls: one queue in, ``call_soon_threadsafe`` out.

``loop.run_in_executor`` on a ``ThreadPoolExecutor`` builds a ``concurrent.futures``
future (with its condition variable), a work item and a future chain for every call;
at API-gateway request rates that is the largest cost of an invocation. Here a call
is one tuple on a ``SimpleQueue`` and one ``call_soon_threadsafe`` back to the loop;
nothing else is counted or locked per call.

The ``max_workers`` threads start with the first call, and are daemon threads: a
handler that never returns cannot keep the local cloud from exiting. Each runs its
calls inside ``worker_context()`` (entered once per thread, not once per call). A call
whose future was cancelled (timed out) before a thread picked it up is skipped.

When a call times out, Lambda throws its execution environment away. A thread cannot
be killed, so :meth:`HandlerPool.abandon` retires the thread instead: it finishes the
call on its own, takes no more work, and a fresh thread serves the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

_Work = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class _Worker:
    """One worker thread's state: the call it runs, and whether it was retired."""

    __slots__ = ("current", "retired")

    def __init__(self) -> None:
        self.current: asyncio.Future[Any] | None = None
        self.retired = False


class HandlerPool:
    """Runs blocking calls on worker threads and settles asyncio futures with their results."""

    def __init__(
        self,
        max_workers: int,
        name: str,
        worker_context: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._max_workers = max_workers
        self._name = name
        self._worker_context = worker_context
        self._workers: list[_Worker] = []
        self._started = 0
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """``fn(*args)`` on a worker thread; its result (or exception) in the returned future."""
        if self._closed:
            raise RuntimeError("The handler pool is closed.")
        if not self._started:
            for _ in range(self._max_workers):
                self._start_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put((loop, future, fn, args))
        return future

    def abandon(self, future: asyncio.Future[Any]) -> None:
        """Give up on the call behind ``future``: retire its thread, start a fresh one."""
        for worker in self._workers:
            if worker.current is future:
                worker.retired = True
                self._workers.remove(worker)
                if not self._closed:
                    self._start_thread()
                return

    def close(self) -> None:
        """Stop the workers once their current call returns; queued calls are dropped."""
        self._closed = True
        for _ in self._workers:
            self._queue.put(None)

    def _start_thread(self) -> None:
        self._started += 1
        worker = _Worker()
        self._workers.append(worker)
        thread = threading.Thread(
            target=self._work, args=(worker,), name=f"{self._name}-{self._started}", daemon=True
        )
        thread.start()

    def _work(self, worker: _Worker) -> None:
        with self._worker_context():
            self._serve(worker)

    def _serve(self, worker: _Worker) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            loop, future, fn, args = work
            if self._closed:
                _deliver(loop, _fail, future, RuntimeError("The handler pool was closed."))
                continue
            # Set before the check: abandon() follows the cancel, so it either finds
            # this thread running the call or the call is skipped here.
            worker.current = future
            if not future.cancelled():
                _run(loop, future, fn, args)
            worker.current = None
            if worker.retired:
                return


def _run(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    fn: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    try:
        result = fn(*args)
    except BaseException as exc:  # delivered to the awaiting coroutine, never swallowed
        _deliver(loop, _fail, future, exc)
    else:
        _deliver(loop, _succeed, future, result)


def _deliver(
    loop: asyncio.AbstractEventLoop,
    settle: Callable[[asyncio.Future[Any], Any], None],
    future: asyncio.Future[Any],
    value: Any,
) -> None:
    try:  # noqa: SIM105 - no context manager per call on this hot path
        loop.call_soon_threadsafe(settle, future, value)
    except RuntimeError:  # a closed loop: nobody is waiting any more
        pass


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
