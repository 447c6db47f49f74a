"""Execution environments: one worker process per environment, one invocation at a time.

This mirrors Lambda's model, and it is what keeps functions apart in the local cloud:

- Module state lives per environment. Powertools keeps the current event in class
  attributes shared by every resolver of a process; in their own processes, two
  functions (or two environments of one function) never see each other's events.
- The function's environment variables are the process's own, as on Lambda (plus
  ``TZ=:UTC`` and an unbuffered log, as Lambda's runtime sets them).
- An invocation's timeout counts from when its environment starts it. Past it, the
  environment is killed, as Lambda discards it: nothing the handler would still have
  done happens after its caller was answered.
- Requests sent to a busy environment wait in its socket, in order, so that the
  worker never idles while the cloud's event loop is busy elsewhere. A request that
  was waiting when its environment ended did not start: it runs on another one.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import cast

from overcast.local.functions.deadlines import Deadlines
from overcast.local.functions.frames import EXIT_ERROR, error_reply, frame, take_frame

_EXIT_REPLY = error_reply(EXIT_ERROR, "")[: len(b'{"errorType": "') + len(EXIT_ERROR)]


class EnvironmentDied(Exception):
    """The worker process ended in the middle of an invocation."""


class NotStarted(Exception):
    """The environment ended before it began this invocation, which may run elsewhere."""


class HandlerTimedOut(Exception):
    """The invocation ran past the function's timeout; its environment was killed."""


class InitError(Exception):
    """The worker could not import the handler (Lambda's init phase failed)."""


class _Invocation:
    __slots__ = ("reply", "timeout")

    def __init__(self, reply: asyncio.Future[bytes], timeout: float) -> None:
        self.reply = reply
        self.timeout = timeout


class _Channel(asyncio.Protocol):
    """The cloud's end of a worker's socket: requests out, replies in, in order."""

    def __init__(
        self, on_start: Callable[[_Invocation], None], on_end: Callable[[_Invocation], None]
    ) -> None:
        self.transport: asyncio.Transport | None = None
        self.queue: collections.deque[_Invocation] = collections.deque()
        self.exiting = False
        self._on_start = on_start
        self._on_end = on_end
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self.queue and (payload := take_frame(self._buffer)) is not None:
            finished = self.queue.popleft()
            self._on_end(finished)
            if payload.startswith(_EXIT_REPLY):
                self.exiting = True  # the worker ends after this reply: nothing else starts
            elif self.queue:
                self._on_start(self.queue[0])
            if not finished.reply.done():  # a reply nobody waits for any more is dropped
                finished.reply.set_result(payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.fail_all(running=not self.exiting)

    def fail_all(self, *, running: bool) -> None:
        """Settle every awaited reply: the head as died (if running), the rest as not started."""
        while self.queue:
            invocation = self.queue.popleft()
            self._on_end(invocation)
            if not invocation.reply.done():
                error = EnvironmentDied if running else NotStarted
                invocation.reply.set_exception(error("the worker process ended"))
            running = False


class ExecutionEnvironment:
    """One worker process running one function's handler."""

    def __init__(self, process: subprocess.Popen[bytes], deadlines: Deadlines) -> None:
        self._process = process
        self._deadlines = deadlines
        self._channel = _Channel(self._started, deadlines.forget)

    @classmethod
    async def start(
        cls, environment: Mapping[str, str], deadlines: Deadlines
    ) -> ExecutionEnvironment:
        """Start a worker with these environment variables; return once its handler loaded."""
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "overcast.local.functions.worker", str(theirs.fileno())],
                env=dict(environment),
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C is for the cloud, which ends its workers
            )
        finally:
            theirs.close()
        started = cls(process, deadlines)
        loop = asyncio.get_running_loop()
        await loop.create_unix_connection(lambda: started._channel, sock=ours)
        hello = loop.create_future()
        started._channel.queue.append(_Invocation(hello, 0))
        try:
            ready = json.loads(await hello)
        except (EnvironmentDied, NotStarted) as exc:
            raise InitError(f"the worker exited with status {started.kill()}") from exc
        if "errorType" in ready:
            started.kill()
            raise InitError(f"{ready['errorType']}: {ready['errorMessage']}")
        return started

    def invoke(self, request: bytes, timeout: float) -> asyncio.Future[bytes]:
        """Send one invocation; its reply, or EnvironmentDied / NotStarted / HandlerTimedOut."""
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        invocation = _Invocation(reply, timeout)
        transport = self._channel.transport
        if transport is None or self._channel.exiting:
            reply.set_exception(NotStarted("the environment has ended"))
            return reply
        self._channel.queue.append(invocation)
        if len(self._channel.queue) == 1:
            self._started(invocation)
        transport.write(frame(request))
        return reply

    @property
    def pending(self) -> int:
        """Invocations sent and not yet answered (the first is running)."""
        return len(self._channel.queue)

    @property
    def alive(self) -> bool:
        """False once the worker's channel closed (it exited, or was killed)."""
        return self._channel.transport is not None and not self._channel.exiting

    def kill(self) -> int:
        """End the process at once; replies still awaited settle as died or not started."""
        if self._process.poll() is None:
            self._process.kill()
        transport, self._channel.transport = self._channel.transport, None
        if transport is not None:
            transport.abort()
        self._channel.fail_all(running=not self._channel.exiting)
        return self._process.wait()

    def end_input(self) -> None:
        """Tell the worker no more requests come: it exits after the one it runs."""
        if self._channel.transport is not None:
            self._channel.transport.close()

    def wait(self, until: float) -> None:
        """Wait (blocking) for the worker to exit until ``until`` (monotonic); else kill it."""
        try:
            self._process.wait(timeout=max(0.0, until - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _started(self, invocation: _Invocation) -> None:
        if invocation.timeout:
            self._deadlines.watch(
                invocation, invocation.timeout, lambda: self._time_out(invocation)
            )

    def _time_out(self, invocation: _Invocation) -> None:
        if not invocation.reply.done():
            invocation.reply.set_exception(HandlerTimedOut())
        self.kill()


class EnvironmentPool:
    """A function's environments: an idle one, else a new one, else the least busy one."""

    def __init__(self, environment: Mapping[str, str], limit: int, deadlines: Deadlines) -> None:
        if limit < 1:
            raise ValueError("A function needs a concurrency limit of at least 1.")
        self._environment = {**base_variables(), **environment}
        self._limit = limit
        self._deadlines = deadlines
        self._ready: list[ExecutionEnvironment] = []
        self._starting: list[asyncio.Future[ExecutionEnvironment]] = []
        self._ended = False

    def ready(self) -> ExecutionEnvironment | None:
        """An environment at once, if one is idle, or busy while no more may start."""
        for each in self._ready:
            if not each.pending and each.alive:
                return each
        self._ready = [each for each in self._ready if each.alive]
        if self._ready and len(self._ready) + len(self._starting) >= self._limit:
            return min(self._ready, key=lambda each: each.pending)
        return None

    async def acquire(self) -> ExecutionEnvironment:
        """An environment for one invocation: warm if one is idle, cold if under the limit."""
        if self._ended:
            raise EnvironmentDied("the local cloud is stopping")
        while (environment := self.ready()) is None:
            if len(self._ready) + len(self._starting) < self._limit:
                return await self._start()
            await asyncio.wait(self._starting)
        return environment

    async def warm_up(self) -> None:
        """Start one environment ahead of the first invocation (and check the handler loads)."""
        await self._start()

    def live(self) -> list[ExecutionEnvironment]:
        """The environments that are running."""
        return [each for each in self._ready if each.alive]

    def discard(self, environment: ExecutionEnvironment) -> None:
        """Kill an environment that must not serve again."""
        environment.kill()
        if environment in self._ready:
            self._ready.remove(environment)

    def end(self) -> list[ExecutionEnvironment]:
        """Stop taking work; the environments to wait for."""
        self._ended = True
        ending, self._ready = self._ready, []
        for starting in self._starting:
            starting.add_done_callback(_kill_started)
        for environment in ending:
            environment.end_input()
        return ending

    async def _start(self) -> ExecutionEnvironment:
        starting = asyncio.ensure_future(
            ExecutionEnvironment.start(self._environment, self._deadlines)
        )
        self._starting.append(starting)
        starting.add_done_callback(self._started)
        return await asyncio.shield(starting)

    def _started(self, starting: asyncio.Future[ExecutionEnvironment]) -> None:
        self._starting.remove(starting)
        if not starting.cancelled() and starting.exception() is None:
            self._ready.append(starting.result())  # even if its first caller went away


def _kill_started(starting: asyncio.Future[ExecutionEnvironment]) -> None:
    if not starting.cancelled() and starting.exception() is None:
        starting.result().kill()


def base_variables() -> dict[str, str]:
    """What Lambda's runtime always sets: UTC, UTF-8, unbuffered output, a PATH."""
    return {
        "TZ": ":UTC",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PATH": os.pathsep.join((os.path.dirname(sys.executable), os.defpath)),
    }
