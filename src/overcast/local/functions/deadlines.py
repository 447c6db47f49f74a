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
from typing import Any


class Deadlines:
    """Cancels the futures that are not done by their deadline."""

    def __init__(self, tick: float = 0.01) -> None:
        self._tick = tick
        self._pending: dict[asyncio.Future[Any], float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, future: asyncio.Future[Any], seconds: float) -> None:
        """Cancel ``future`` unless it is done (or forgotten) within ``seconds``."""
        loop = future.get_loop()
        self._pending[future] = loop.time() + seconds
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_later(self._tick, self._check, loop)

    def forget(self, future: asyncio.Future[Any]) -> None:
        """Stop watching ``future``."""
        self._pending.pop(future, None)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._loop:
            return  # the timer of a loop this was used from before
        now = loop.time()
        expired = [future for future, deadline in self._pending.items() if deadline <= now]
        for future in expired:
            del self._pending[future]
            future.cancel()
        if self._pending:
            self._timer = loop.call_later(self._tick, self._check, loop)
        else:
            self._timer = None
