"""The types the edge's parts share: a viewer's request, the edge's response and its
bodies, and the progress of a cache fill that viewers may read while it is written.

Headers are ordered ``(name, value)`` pairs in the case they arrived; look them up
with :func:`header` / :func:`header_values` (case-insensitive, as HTTP field names are).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

Headers = list[tuple[str, str]]


def header(headers: Headers, name: str) -> str | None:
    """The first value of ``name`` (case-insensitive), or None."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def header_values(headers: Headers, name: str) -> list[str]:
    """Every value of ``name`` (case-insensitive), in order."""
    wanted = name.lower()
    return [value for key, value in headers if key.lower() == wanted]


@dataclass(frozen=True)
class ViewerRequest:
    """One request from a viewer (a browser, curl, an update client).

    ``path`` is the raw path as sent (percent-encoded), ``query`` the raw query string
    without ``?``. ``body`` is the whole request body (APIs behind the edge take small
    bodies; the server refuses more than its limit with 413).
    """

    method: str
    path: str
    query: str = ""
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    client_ip: str = "127.0.0.1"
    scheme: str = "https"


class FillProgress(Protocol):
    """A body file being written by a cache fill: how far it is, and a way to wait.

    ``written`` only grows. When ``failed`` is set, the fill stopped and the bytes
    after ``written`` will never come: a viewer mid-way has its connection closed, as
    CloudFront does when the origin fails during a response.
    """

    @property
    def written(self) -> int: ...

    @property
    def complete(self) -> bool: ...

    @property
    def failed(self) -> BaseException | None: ...

    async def wait_beyond(self, offset: int) -> None:
        """Return once ``written > offset``, or the fill completed or failed."""
        ...


@dataclass(frozen=True)
class FileBody:
    """``length`` bytes of ``path`` from ``offset``: sent with sendfile where the
    transport allows. With ``progress``, the file is still being written by a fill:
    the server sends what is there and waits for more."""

    path: Path
    offset: int
    length: int
    progress: FillProgress | None = None


@dataclass(frozen=True)
class StreamBody:
    """A body passed through from an origin as it arrives (responses the edge does not
    cache). ``length`` None: sent chunked."""

    chunks: AsyncIterator[bytes]
    length: int | None = None


Body = bytes | FileBody | StreamBody


@dataclass
class EdgeResponse:
    """What the edge answers. The server adds ``Content-Length`` (or chunked
    encoding), ``Date`` and ``Connection``; everything else is in ``headers``."""

    status: int
    headers: Headers = field(default_factory=list)
    body: Body = b""


class Handler(Protocol):
    """What the HTTP server calls for each request."""

    async def __call__(self, request: ViewerRequest) -> EdgeResponse: ...


# Origin access control: the edge signs its bucket requests as CloudFront's service
# principal and names its distribution's ARN in this header; the local S3 endpoint
# trusts it only from that principal and sets ``aws:SourceArn`` from it.
SOURCE_ARN_HEADER = "x-overcast-source-arn"
