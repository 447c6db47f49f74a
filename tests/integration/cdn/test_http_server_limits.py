"""The edge's server against viewers that misbehave or vanish: a header that never
ends, a viewer that stops reading, a body file gone before the response starts."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from overcast.local.cdn.model import EdgeResponse, FileBody, ViewerRequest
from tests.integration.cdn.test_http_server import (
    Response,
    connection,
    echo,
    get,
    read_response,
    run,
    serving,
)


def test_a_header_line_still_arriving_past_64_kib_gets_431() -> None:
    # Given a viewer sending one header value that never ends
    async def scenario() -> Response:
        async with (
            serving(echo, idle_timeout=3) as (port, _),
            connection(port) as (reader, writer),
        ):
            writer.write(b"GET / HTTP/1.1\r\nHost: edge\r\nX-Big: ")
            for _ in range(4):
                writer.write(b"a" * 64 * 1024)
                await writer.drain()
            # Then it is refused once the header section passes the limit
            return await read_response(reader)

    response = run(scenario)
    assert (response.status, response.headers["connection"]) == (431, "close")


@pytest.mark.parametrize("loop", ["stdlib", "uvloop"])
def test_a_viewer_that_stops_reading_is_dropped_after_the_send_timeout(
    tmp_path: Path, loop: str
) -> None:
    big = tmp_path / "big"
    with big.open("wb") as file:
        file.truncate(64 * 1024 * 1024)

    async def whole_file(request: ViewerRequest) -> EdgeResponse:
        return EdgeResponse(200, [], FileBody(big, 0, big.stat().st_size))

    async def scenario() -> tuple[int, int]:
        async with serving(whole_file, send_timeout=0.3) as (port, server):
            viewers = []
            for _ in range(3):
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.setblocking(False)
                await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
                sock.send(get("/big"))  # and never read
                viewers.append(sock)
            await asyncio.sleep(0.1)
            during = server.connection_count
            for _ in range(300):
                if server.connection_count == 0:
                    break
                await asyncio.sleep(0.01)
            after = server.connection_count
            for sock in viewers:
                sock.close()
            return during, after

    assert run(scenario, loop) == (3, 0)


@pytest.mark.parametrize("loop", ["stdlib", "uvloop"])
def test_a_body_file_gone_before_the_response_starts_is_502(tmp_path: Path, loop: str) -> None:
    async def vanished(request: ViewerRequest) -> EdgeResponse:
        if request.path == "/gone":
            return EdgeResponse(200, [], FileBody(tmp_path / "deleted", 0, 10))
        return await echo(request)

    async def scenario() -> tuple[int, bytes]:
        async with serving(vanished) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/gone") + get("/next"))
            gone = await read_response(reader)
            return gone.status, (await read_response(reader)).body

    # Then the viewer gets an error, not a 200 cut short, and the connection serves on
    assert run(scenario, loop) == (502, b"GET /next? 0")
