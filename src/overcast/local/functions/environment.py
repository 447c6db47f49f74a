"""Execution environments: one worker process per environment, one invocation at a time.

This mirrors Lambda's model, and it is what keeps functions apart in the local cloud:

- Module state lives per environment. Powertools keeps the current event in class
  attributes shared by every resolver of a process; in their own processes, two
  functions (or two environments of one function) can never see each other's events.
- The function's environment variables are the process's own, as on Lambda.
- A timed-out environment is killed, as Lambda discards it: its handler cannot go on
  writing after its caller was told it timed out.
- A function scales out to several environments under concurrent requests, up to its
  concurrency limit; an environment that is not busy is reused (a warm start).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from typing import cast

from overcast.local.functions.frames import frame, take_frame


class EnvironmentDied(Exception):
    """The worker process ended in the middle of an invocation."""


class NotStarted(Exception):
    """The worker ended before it began this invocation, which may run elsewhere."""


class InitError(Exception):
    """The worker could not import the handler (Lambda's init phase failed)."""


class _Channel(asyncio.Protocol):
    """The cloud's end of a worker's socket: requests out, replies in, in order.

    The worker runs one invocation at a time; requests sent while it is busy wait in
    the socket, so that it never idles while the cloud's event loop is busy elsewhere.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.replies: collections.deque[asyncio.Future[bytes]] = collections.deque()
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self.replies and (payload := take_frame(self._buffer)) is not None:
            reply = self.replies.popleft()
            if not reply.done():  # a reply nobody waits for any more is dropped
                reply.set_result(payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        running = True
        while self.replies:
            reply = self.replies.popleft()
            if not reply.done():
                error = EnvironmentDied if running else NotStarted
                reply.set_exception(error("the worker process ended"))
            running = False

    def expect_reply(self) -> asyncio.Future[bytes]:
        reply = asyncio.get_running_loop().create_future()
        self.replies.append(reply)
        return reply


class ExecutionEnvironment:
    """One worker process running one function's handler, one invocation at a time."""

    def __init__(self, process: subprocess.Popen[bytes], channel: _Channel) -> None:
        self._process = process
        self._channel = channel

    @classmethod
    async def start(cls, environment: Mapping[str, str]) -> ExecutionEnvironment:
        """Start a worker with these environment variables; return once its handler loaded."""
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "overcast.local.functions.worker", str(theirs.fileno())],
                env=dict(environment),
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        channel = _Channel()
        await asyncio.get_running_loop().create_unix_connection(lambda: channel, sock=ours)
        started = cls(process, channel)
        try:
            hello = json.loads(await channel.expect_reply())
        except EnvironmentDied as exc:
            raise InitError(f"the worker exited with status {started.kill()}") from exc
        if "errorType" in hello:
            started.kill()
            raise InitError(f"{hello['errorType']}: {hello['errorMessage']}")
        return started

    def invoke(self, request: bytes) -> asyncio.Future[bytes]:
        """Send one invocation; the future gets the worker's reply, or EnvironmentDied."""
        transport = self._channel.transport
        reply = self._channel.expect_reply()
        if transport is None:
            reply.set_exception(EnvironmentDied("the worker process ended"))
        else:
            transport.write(frame(request))
        return reply

    @property
    def pending(self) -> int:
        """Invocations sent and not yet answered (the first is running)."""
        return len(self._channel.replies)

    @property
    def alive(self) -> bool:
        """False once the worker's channel closed (it exited, or was killed)."""
        return self._channel.transport is not None

    def kill(self) -> int:
        """End the process at once (it may be running a handler nobody waits for)."""
        if self._process.poll() is None:
            self._process.kill()
        if self._channel.transport is not None:
            self._channel.transport.close()
        return self._process.wait()

    def close(self) -> None:
        """Ask the worker to end (it exits when its channel closes), or end it."""
        if self._channel.transport is not None:
            self._channel.transport.close()
        try:
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()


class EnvironmentPool:
    """A function's environments: an idle one, else a new one, else the least busy one."""

    def __init__(self, environment: Mapping[str, str], limit: int) -> None:
        if limit < 1:
            raise ValueError("A function needs a concurrency limit of at least 1.")
        self._environment = dict(environment)
        self._limit = limit
        self._ready: list[ExecutionEnvironment] = []
        self._starting: list[asyncio.Future[ExecutionEnvironment]] = []

    async def acquire(self) -> ExecutionEnvironment:
        """An environment for one invocation: warm if one is idle, cold if under the limit."""
        while True:
            for each in self._ready:
                if not each.pending and each.alive:
                    return each
            self._ready = [each for each in self._ready if each.alive]
            if len(self._ready) + len(self._starting) < self._limit:
                return await self._start()
            if self._ready:
                return min(self._ready, key=lambda each: each.pending)
            await asyncio.wait(self._starting)

    async def warm_up(self) -> None:
        """Start one environment ahead of the first invocation (and check the handler loads)."""
        await self._start()

    def discard(self, environment: ExecutionEnvironment) -> None:
        """Kill an environment that must not serve again (timed out, died, abandoned)."""
        environment.kill()
        if environment in self._ready:
            self._ready.remove(environment)

    def close(self) -> None:
        for environment in self._ready:
            environment.close()
        self._ready = []

    async def _start(self) -> ExecutionEnvironment:
        starting = asyncio.ensure_future(ExecutionEnvironment.start(self._environment))
        self._starting.append(starting)
        try:
            environment = await asyncio.shield(starting)
        finally:
            self._starting.remove(starting)
        self._ready.append(environment)
        return environment


def worker_environment(base: Mapping[str, str], python_path: list[str]) -> dict[str, str]:
    """The worker's variables: the function's, plus where to import it from."""
    return {**base, "PYTHONPATH": os.pathsep.join(python_path)}
