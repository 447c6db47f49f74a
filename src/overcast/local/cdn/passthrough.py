"""What the edge relays from an origin without storing it: requests it does not cache
(other methods, a policy that caches nothing) and answers it may not keep.

The origin's body streams to the viewer as it arrives (:class:`OriginRelay`). Whatever
becomes of the viewer, the origin response is closed: when its last chunk is read,
when reading fails, and when the relay is closed unread (a HEAD, a 304, a viewer gone,
an error page replacing it), so the origin connection always returns to the pool.
Closing is shielded from cancellation: a viewer's task is cancelled when its connection
drops, often while it closes the relay, and an httpx response whose ``aclose`` is cut
short keeps its pooled connection checked out for good.

A ``HEAD`` gets the origin's headers and no body; its length is the origin's
``Content-Length`` if it sent one and unknown otherwise (never a made-up 0).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from overcast.local.cdn.model import Body, StreamBody
from overcast.local.cdn.origins import OriginResponse, content_length
from overcast.local.cdn.stats import EdgeStats

BODILESS = frozenset({204, 304})


class OriginRelay:
    """An origin response's body as chunks, counted in ``stats.origin_bytes``;
    :meth:`aclose` closes the response whether or not it was read."""

    def __init__(self, response: OriginResponse, stats: EdgeStats) -> None:
        self._response = response
        self._stats = stats
        self._chunks: AsyncIterator[bytes] | None = None
        self._closed = False

    def __aiter__(self) -> OriginRelay:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        if self._chunks is None:
            self._chunks = self._response.aiter_bytes()
        try:
            chunk = await anext(self._chunks)
        except BaseException:  # the end, a failure, or the viewer's task cancelled
            await self.aclose()
            raise
        self._stats.origin_bytes += len(chunk)
        return chunk

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await close_response(self._response, self._chunks)


async def relayed_body(response: OriginResponse, method: str, stats: EdgeStats) -> Body:
    """The body the viewer gets for ``response``: streamed, or none for a HEAD or a
    bodiless status (the origin response then closed at once)."""
    length = content_length(response.headers)
    if method == "HEAD" or response.status in BODILESS:
        await close_response(response)
        return b"" if response.status in BODILESS else StreamBody(nothing(), length)
    return StreamBody(OriginRelay(response, stats), length)


async def close_response(
    response: OriginResponse, chunks: AsyncIterator[bytes] | None = None
) -> None:
    """Close ``response`` (and the iterator reading it) to the end, even if the caller
    is cancelled meanwhile; a failure to close is not the caller's concern."""
    closing = asyncio.ensure_future(_close(response, chunks))
    try:
        await asyncio.shield(closing)
    except asyncio.CancelledError:
        closing.add_done_callback(_retrieve)
        raise


async def _close(response: OriginResponse, chunks: AsyncIterator[bytes] | None) -> None:
    close = getattr(chunks, "aclose", None)
    try:
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
    finally:
        with contextlib.suppress(Exception):
            await response.aclose()


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


async def nothing() -> AsyncIterator[bytes]:
    """A body of no chunks (a HEAD's: the server sends none)."""
    return
    yield b""
