"""``overcast cdn serve``: the edge in front of any existing app, as a process of its own.

The distribution is either the default one (every path under CloudFront's managed
``CachingOptimized`` policy: the origin's ``Cache-Control`` rules, 24 hours without
one) or a declared distribution (``--from SERVICE/DISTRIBUTION``) whose origins are all
custom HTTP origins: its behaviours and cache policies apply, and every origin is the
``--origin`` URL.

It runs on uvloop, as ``overcast up`` does. Over plain TCP (``--http``) the edge's
server sends cached files with ``sendfile(2)`` from worker threads, zero-copy
(:mod:`overcast.local.cdn.sendfile_thread`: uvloop offers no ``loop.sendfile``, and the
standard loop's re-registers the socket with epoll around every chunk); over TLS (the
default, with the local cloud's CA) the bytes are read in 1 MiB chunks and encrypted
in the process, as TLS requires. Figures: ``bench/updates_offload.py`` and the README.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from overcast import spec
from overcast.local.cdn.edge import Edge
from overcast.local.cdn.http_server import EdgeServer
from overcast.local.cdn.origins import HttpOriginClient, OriginClient
from overcast.local.cdn.stats import EdgeStats
from overcast.local.cdn.store import EdgeStore
from overcast.local.cloudfront.ids import distribution_id


@dataclass(frozen=True)
class ServeOptions:
    """What ``overcast cdn serve`` was asked for."""

    origin: str
    host: str
    port: int
    cache_dir: Path
    max_cache_bytes: int
    distribution: spec.Distribution | None = None
    tls: tuple[Path, Path] | None = None  # certificate and key; None: plain HTTP
    ca_bundle: str | None = None


def default_distribution(origin_url: str) -> spec.Distribution:
    """One behaviour, ``*``, under CachingOptimized, to ``origin_url``."""
    return spec.Distribution("edge", spec.Behavior("*", spec.HttpOrigin("origin", url=origin_url)))


def custom_origins_only(distribution: spec.Distribution) -> str | None:
    """Why ``distribution`` cannot front an arbitrary URL, or None if it can."""
    for origin in distribution.origins:
        if not isinstance(origin, spec.HttpOrigin):
            return (
                f"distribution {distribution.name!r} has a {type(origin).__name__}; "
                "`cdn serve --from` takes distributions whose origins are HttpOrigins only"
            )
    return None


def build_edge(options: ServeOptions) -> tuple[Edge, EdgeStore]:
    distribution = options.distribution or default_distribution(options.origin)
    origins: dict[spec.Origin, OriginClient] = {
        origin: HttpOriginClient(
            options.origin,
            ca_bundle=options.ca_bundle,
            response_timeout_seconds=getattr(origin, "response_timeout_seconds", 30),
        )
        for origin in distribution.origins
    }
    store = EdgeStore(options.cache_dir, max_bytes=options.max_cache_bytes)
    store.recover()
    ident = distribution_id("cdn-serve", distribution.name)
    return Edge(distribution, origins, store, distribution_id=ident), store


async def serve(options: ServeOptions, ready: Callable[[str], None]) -> EdgeStats:
    """Serve until SIGINT/SIGTERM; ``ready(url)`` once listening. Returns the figures."""
    edge, _store = build_edge(options)
    sock = socket.socket(socket.AF_INET6 if ":" in options.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((options.host, options.port))
    context = None
    if options.tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*options.tls)
    server = EdgeServer(edge, ssl_context=context, name="cdn serve")
    await server.start(sock)
    scheme = "https" if context else "http"
    ready(f"{scheme}://{options.host}:{sock.getsockname()[1]}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # pragma: no cover - Windows
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()
        await edge.close()
    return edge.stats
