"""Viewers who hang up early never cost the edge an origin connection: the edge, its
server and a real origin on real sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from overcast.local.cdn.edge import Edge
from overcast.local.cdn.http_server import EdgeServer
from overcast.local.cdn.origins import HttpOriginClient
from overcast.local.cdn.store import EdgeStore
from overcast.spec_cdn import Behavior, Distribution, HttpOrigin
from tests.fixtures.server_thread import ServerThread
from tests.integration.cdn.test_http_server import connection, get, read_response


async def denied(request: Request) -> Response:
    await asyncio.sleep(0.3)
    return Response(b"nope", status_code=401)  # 401: not cached (no error TTL applies)


async def hello(request: Request) -> Response:
    return Response(b"hello", headers={"Cache-Control": "no-store"})


@pytest.fixture(scope="module")
def origin_url() -> Iterator[str]:
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/denied/{n}", denied), Route("/hello", hello)])
    with ServerThread(app, bound):
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


async def hang_up_early(port: int, path: str) -> None:
    async with connection(port) as (_, writer):
        writer.write(get(path))
        await asyncio.sleep(0.1)


def test_viewers_hanging_up_before_an_uncacheable_answer_leave_the_pool_usable(
    tmp_path: Path, origin_url: str
) -> None:
    # Given an edge with two origin connections at most
    origin = HttpOrigin("app", url=origin_url)
    client = HttpOriginClient(origin_url, response_timeout_seconds=2, pool_size=2)
    store = EdgeStore(tmp_path / "cache", max_bytes=1 << 20)
    edge = Edge(
        Distribution("site", Behavior("*", origin)),
        {origin: client},
        store,
        distribution_id="E1TEST",
    )

    async def scenario() -> int:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = EdgeServer(edge)
        await server.start(sock)
        port = sock.getsockname()[1]
        try:
            # When four viewers hang up while the origin prepares an uncacheable answer
            await asyncio.gather(*(hang_up_early(port, f"/denied/{n}") for n in range(4)))
            await asyncio.sleep(1.0)  # the origin has answered them all by now
            # Then the next viewer is still served (not 504 for want of a connection)
            async with connection(port) as (reader, writer):
                writer.write(get("/hello"))
                return (await read_response(reader)).status
        finally:
            await server.close()
            await edge.close()

    assert asyncio.run(scenario()) == 200
