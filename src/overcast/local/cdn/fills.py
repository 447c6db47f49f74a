"""Request collapsing: one origin fetch per cache key, however many viewers ask at once.

CloudFront mirrors this as *request collapsing*: "if the edge location receives multiple
requests for the same object while a request to the origin for it is in progress,
CloudFront waits for the first response and serves it to all of them" (CloudFront
Developer Guide, "Simultaneous requests for the same object (request collapsing)").
Only requests whose cache key matches are collapsed; a response that is not cacheable
cannot be shared, so each waiting viewer then goes to the origin itself.

nginx's ``proxy_cache_lock`` does the same but lets the herd through after
``proxy_cache_lock_timeout``; ours has no timeout: a fill lasts as long as its origin
fetch, and viewers read the body file while it is written (``FileBody`` with a
:class:`Fill` as its progress), so nobody waits for the whole object.

A fill runs as its own task, started by the first viewer but owned by the registry: a
viewer who disconnects does not cancel it, so the next viewer still finds the object
cached. The fill leaves the registry when it finishes or fails; the next request for
the key starts anew (or finds the finished entry in the store).

A response that is not cacheable is handed to the viewer who started the fill (the
origin's stream, already open): that viewer *claims* it, or, if it left meanwhile,
*abandons* it, and the fill then closes it, so its origin connection goes back to the
pool. The fill's task waits for that decision (the starter makes it as soon as it
wakes), and closes an unclaimed stream when the registry is closed.

Wakeups are coalesced: readers waiting for more bytes are woken when at least
``wake_bytes`` more were written, when the fill completes or fails, or after
``wake_delay`` seconds for a trickle below that, so a fast fill does not pay
O(readers) for each small chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from overcast.local.cdn.model import Headers, StreamBody

logger = logging.getLogger("overcast.cdn")

WAKE_BYTES = 64 * 1024
WAKE_DELAY = 0.01


class FillAborted(RuntimeError):
    """A fill ended without a complete response: cancelled, or its start function
    returned without finishing it."""


@dataclass(frozen=True)
class FillResult:
    """The origin's answer, known once its headers arrive.

    ``body_path`` None means not cacheable: each waiting viewer goes to the origin
    itself, except the one that started the fill, which takes ``handoff`` (the origin's
    stream, already open). ``length`` is the body length when the origin said it.
    """

    status: int
    headers: Headers
    length: int | None
    body_path: Path | None
    handoff: StreamBody | None = None


class Fill:
    """One origin fetch being written to a body file; implements ``model.FillProgress``.

    The start function calls :meth:`ready` once the headers are known, then
    :meth:`advance` for each chunk written, then :meth:`finish` (or :meth:`fail`).
    """

    def __init__(
        self,
        key: str,
        *,
        on_settled: Callable[[Fill], None] = lambda fill: None,
        wake_bytes: int = WAKE_BYTES,
        wake_delay: float = WAKE_DELAY,
    ) -> None:
        self.key = key
        self._on_settled = on_settled
        self._wake_bytes = wake_bytes
        self._wake_delay = wake_delay
        self._result: FillResult | None = None
        self._ready_or_failed = asyncio.Event()
        self._changed = asyncio.Event()
        self._written = 0
        self._announced = 0
        self._complete = False
        self._failed: BaseException | None = None
        self._wake_timer: asyncio.TimerHandle | None = None
        self._handoff = "offered"  # then "claimed" or "abandoned"
        self._handoff_decided = asyncio.Event()

    # --- FillProgress ---------------------------------------------------------

    @property
    def written(self) -> int:
        return self._written

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def failed(self) -> BaseException | None:
        return self._failed

    async def wait_beyond(self, offset: int) -> None:
        """Return once ``written > offset`` (as announced to readers), or the fill
        completed or failed."""
        while not (self._announced > offset or self._complete or self._failed):
            await self._changed.wait()

    # --- the writer's side ----------------------------------------------------

    @property
    def settled(self) -> bool:
        return self._complete or self._failed is not None

    @property
    def result(self) -> FillResult | None:
        """The response once ready, else None."""
        return self._result

    def ready(self, result: FillResult) -> None:
        if self._result is not None:
            raise RuntimeError(f"fill {self.key!r} is already ready")
        if self._failed is not None:
            return
        self._result = result
        self._ready_or_failed.set()

    async def wait_ready(self) -> FillResult:
        """The origin's response once its headers are known; raises the fill's failure
        if it failed before that."""
        await self._ready_or_failed.wait()
        if self._result is None:
            assert self._failed is not None
            raise self._failed
        return self._result

    def claim_handoff(self) -> StreamBody | None:
        """The uncacheable response's open stream, for the viewer who started the fill;
        None if there is none or it was abandoned."""
        handoff = self._result.handoff if self._result is not None else None
        if handoff is None or self._handoff != "offered":
            return None
        self._handoff = "claimed"
        self._handoff_decided.set()
        return handoff

    def abandon_handoff(self) -> None:
        """The viewer who started the fill left: close any stream handed to it."""
        if self._handoff == "offered":
            self._handoff = "abandoned"
            self._handoff_decided.set()

    async def close_unclaimed_handoff(self) -> None:
        """Once the starter claimed or abandoned the handoff (if any), close it unless
        claimed; closed too when this wait is cancelled."""
        handoff = self._result.handoff if self._result is not None else None
        if handoff is None:
            return
        try:
            await self._handoff_decided.wait()
        finally:
            if self._handoff != "claimed":
                self._handoff = "abandoned"
                await close_stream(handoff)

    def advance(self, n: int) -> None:
        if self.settled:
            return
        self._written += n
        if self._written - self._announced >= self._wake_bytes:
            self._wake()
        elif self._wake_timer is None and self._written > self._announced:
            loop = asyncio.get_running_loop()
            self._wake_timer = loop.call_later(self._wake_delay, self._wake)

    def finish(self) -> None:
        if self.settled:
            return
        if self._result is None:
            self.fail(FillAborted(f"fill {self.key!r} finished before its headers were ready"))
            return
        self._complete = True
        self._settle()

    def fail(self, exc: BaseException) -> None:
        if self.settled:
            return
        self._failed = exc
        self._ready_or_failed.set()
        self._settle()

    def _settle(self) -> None:
        self._wake()
        self._on_settled(self)

    def _wake(self) -> None:
        if self._wake_timer is not None:
            self._wake_timer.cancel()
            self._wake_timer = None
        self._announced = self._written
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


class FillRegistry:
    """The fills in flight, one per cache key (single flight, no lock timeout)."""

    def __init__(self) -> None:
        self._fills: dict[str, Fill] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._fills)

    def join_or_start(
        self, key: str, start: Callable[[Fill], Awaitable[None]]
    ) -> tuple[Fill, bool]:
        """The fill for ``key`` and whether this call started it. ``start`` runs once,
        as a task of its own that viewers' cancellation does not reach."""
        fill = self._fills.get(key)
        if fill is not None:
            return fill, False
        fill = Fill(key, on_settled=self._forget)
        self._fills[key] = fill
        task = asyncio.create_task(self._run(fill, start), name=f"cdn fill {key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return fill, True

    async def close(self) -> None:
        """Cancel the running fills (their readers see them fail) and wait for them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, fill: Fill, start: Callable[[Fill], Awaitable[None]]) -> None:
        try:
            await start(fill)
        except asyncio.CancelledError:
            fill.fail(FillAborted(f"fill {fill.key!r} was cancelled"))
            raise
        except Exception as exc:
            logger.warning("cache fill %s failed", fill.key, exc_info=exc)
            fill.fail(exc)
        else:
            _settle_after_start(fill)
        finally:
            self._forget(fill)
        await fill.close_unclaimed_handoff()

    def _forget(self, fill: Fill) -> None:
        if self._fills.get(fill.key) is fill:
            del self._fills[fill.key]


def _settle_after_start(fill: Fill) -> None:
    """The start function returned: the fill ends with it. A response that was not
    cacheable has nothing left to write; a body left half-written never completes."""
    if fill.settled:
        return
    result = fill.result
    if result is not None and result.body_path is None:
        fill.finish()
    else:
        fill.fail(FillAborted(f"fill {fill.key!r} ended before its body was complete"))


async def close_stream(body: StreamBody) -> None:
    """Close a stream's source (an origin response), whether or not it was read."""
    close = getattr(body.chunks, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
