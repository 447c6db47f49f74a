"""Invocation deadlines, checked by one periodic timer rather than a timer each.

A timer per invocation (``loop.call_later`` then ``cancel``) costs uvloop more than
the rest of the invoker's own work on the event loop. Here a deadline is one dict
entry, and while any is pending one timer checks them every ``tick`` (10 ms): an
invocation is given up at most one tick after its deadline. Lambda timeouts are
whole seconds and API Gateway's integration timeout at least 50 ms, so a tick is
well inside their precision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Deadlines:
    """Calls each expiry that is not forgotten by its deadline."""

    def __init__(self, tick: float = 0.01) -> None:
        self._tick = tick
        self._pending: dict[object, tuple[float, Callable[[], object]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watch(
        self, key: object, seconds: float, expire: Callable[[], object] | None = None
    ) -> None:
        """Call ``expire`` (default: cancel the future ``key``) unless forgotten in time."""
        loop = asyncio.get_running_loop()
        if expire is None:
            assert isinstance(key, asyncio.Future)
            expire = key.cancel
        self._pending[key] = (loop.time() + seconds, expire)
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_later(self._tick, self._check, loop)

    def forget(self, key: object) -> None:
        """Stop watching ``key``."""
        self._pending.pop(key, None)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._loop:
            return  # the timer of a loop this was used from before
        now = loop.time()
        expired = [key for key, (deadline, _) in self._pending.items() if deadline <= now]
        for key in expired:
            _, expire = self._pending.pop(key)
            expire()
        if self._pending:
            self._timer = loop.call_later(self._tick, self._check, loop)
        else:
            self._timer = None
