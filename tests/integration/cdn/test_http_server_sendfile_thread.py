"""File bodies on uvloop over plain TCP: ``os.sendfile`` from the server's worker threads.

Real sockets and files; every scenario runs on uvloop, where ``loop.sendfile`` is not
available and the server sends from a thread instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from overcast.local.cdn.http_server import EdgeServer
from overcast.local.cdn.model import EdgeResponse, FileBody, ViewerRequest
from overcast.local.cdn.sendfile_thread import SendfileThreads, ViewerStalled
from tests.integration.cdn.test_http_server import (
    GrowingFile,
    connection,
    feed,
    get,
    read_response,
    run,
    serving,
)

MIB = 1024 * 1024


def file_server(path: Path) -> EdgeServer:
    async def ranges(request: ViewerRequest) -> EdgeResponse:
        if request.path == "/bytes":
            return EdgeResponse(200, [], b"b" * (3 * MIB))
        size = path.stat().st_size
        offset, length = (int(n) for n in request.query.split(",")) if request.query else (0, size)
        return EdgeResponse(200, [], FileBody(path, offset, length))

    return EdgeServer(ranges)


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as file:
        file.truncate(size)  # fast to make, as slow to send as any file
    return path


async def stalled_viewer(port: int) -> socket.socket:
    """A viewer that asks for a body and never reads it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    sock.send(get("/big"))
    return sock


async def until(condition: object, seconds: float = 5.0) -> float:
    """Seconds until ``condition()`` held (or ``seconds`` passed)."""
    started = time.monotonic()
    while not condition() and time.monotonic() - started < seconds:  # type: ignore[operator]
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def sendfile_threads_alive() -> int:
    return sum("sendfile" in thread.name for thread in threading.enumerate())


def test_a_20_mib_file_and_its_ranges_arrive_byte_exact(tmp_path: Path) -> None:
    # Given a 20 MiB file, and requests for it whole and for ranges, pipelined on one
    # connection behind a 3 MiB in-memory body that the viewer reads slowly (so that
    # part of it is still in the server's transport when the file's turn comes)
    content = os.urandom(20 * MIB + 7)
    (tmp_path / "blob").write_bytes(content)
    ranges = [(0, len(content)), (1, 100), (MIB - 3, 5 * MIB + 9), (len(content) - 1, 1), (7, 0)]

    async def scenario() -> tuple[bytes, list[bytes]]:
        server = file_server(tmp_path / "blob")
        async with serving(server.handler) as (port, _), slow_connection(port) as (reader, writer):
            writer.write(get("/bytes") + b"".join(get(f"/blob?{o},{n}") for o, n in ranges))
            first = await read_slowly(reader)
            return first, [(await read_response(reader)).body for _ in ranges]

    # When they are read
    first, bodies = run(scenario, "uvloop")

    # Then every body is byte-exact, in order
    assert first == b"b" * (3 * MIB)
    assert bodies == [content[offset : offset + length] for offset, length in ranges]


@asynccontextmanager
async def slow_connection(
    port: int,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    try:
        yield reader, writer
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def read_slowly(reader: asyncio.StreamReader) -> bytes:
    """A response's body with ``Content-Length``, read 32 KiB at a time, with pauses."""
    head = await read_response(reader, head=True)
    body = bytearray()
    while len(body) < int(head.headers["content-length"]):
        body += await reader.read(min(32 * 1024, int(head.headers["content-length"]) - len(body)))
        await asyncio.sleep(0.002)
    return bytes(body)


def test_a_file_still_being_filled_is_streamed_to_completion(tmp_path: Path) -> None:
    # Given a 6 MiB cache fill written in 256 KiB steps while two viewers read it
    content = os.urandom(6 * MIB + 11)

    async def scenario() -> list[bytes]:
        fill = GrowingFile(tmp_path / "filling")

        async def filling(request: ViewerRequest) -> EdgeResponse:
            offset = int(request.query)
            return EdgeResponse(200, [], FileBody(fill.path, offset, len(content) - offset, fill))

        async with serving(filling) as (port, _):
            feeder = asyncio.create_task(feed(fill, content, 256 * 1024))

            async def fetch(offset: int) -> bytes:
                async with connection(port) as (reader, writer):
                    writer.write(get(f"/f?{offset}"))
                    return (await read_response(reader)).body

            bodies = await asyncio.gather(fetch(0), fetch(3 * MIB + 5))
            await feeder
        return list(bodies)

    # Then each gets what the fill wrote, to the last byte
    assert run(scenario, "uvloop") == [content, content[3 * MIB + 5 :]]


def test_a_viewer_that_stops_reading_is_dropped_after_the_send_timeout_and_its_thread_ends(
    tmp_path: Path,
) -> None:
    # Given a viewer that asks for a 64 MiB file and reads nothing, send_timeout 0.3 s
    big = sparse(tmp_path / "big", 64 * MIB)

    async def whole_file(request: ViewerRequest) -> EdgeResponse:
        return EdgeResponse(200, [], FileBody(big, 0, big.stat().st_size))

    async def scenario() -> tuple[int, float, int, int]:
        async with serving(whole_file, send_timeout=0.3) as (port, server):
            viewer = await stalled_viewer(port)
            await until(lambda: server.file_sends_in_flight == 1)
            sending = server.file_sends_in_flight
            waited = await until(lambda: server.connection_count == 0)
            viewer.close()
            return sending, waited, server.connection_count, server.file_sends_in_flight

    sending, waited, connections, in_flight = run(scenario, "uvloop")

    # Then it was being sent from a thread, and is dropped after the timeout, not before
    assert sending == 1
    assert 0.2 <= waited < 3.0
    assert (connections, in_flight) == (0, 0)


def test_fifty_concurrent_viewers_all_get_the_file_byte_exact(tmp_path: Path) -> None:
    # Given a 4 MiB file and 50 viewers downloading it at once
    content = os.urandom(4 * MIB + 3)
    (tmp_path / "blob").write_bytes(content)

    async def scenario() -> list[str]:
        server = file_server(tmp_path / "blob")
        async with serving(server.handler) as (port, _):

            async def fetch() -> str:
                async with connection(port) as (reader, writer):
                    writer.write(get("/blob"))
                    return hashlib.sha256((await read_response(reader)).body).hexdigest()

            return list(await asyncio.gather(*(fetch() for _ in range(50))))

    # Then every one of them is byte-exact
    assert run(scenario, "uvloop") == [hashlib.sha256(content).hexdigest()] * 50


def test_closing_the_server_during_a_send_ends_promptly_and_stops_its_threads(
    tmp_path: Path,
) -> None:
    # Given viewers stalled mid-body (send timeout 60 s) and a server closing with 0.2 s grace
    big = sparse(tmp_path / "big", 64 * MIB)

    async def whole_file(request: ViewerRequest) -> EdgeResponse:
        return EdgeResponse(200, [], FileBody(big, 0, big.stat().st_size))

    async def scenario() -> tuple[int, float, int, int]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = EdgeServer(whole_file, grace_period=0.2, send_timeout=60)
        await server.start(sock)
        viewers = [await stalled_viewer(sock.getsockname()[1]) for _ in range(3)]
        await until(lambda: server.file_sends_in_flight == 3)
        sending = server.file_sends_in_flight
        started = time.monotonic()
        await server.close()
        took = time.monotonic() - started
        for viewer in viewers:
            viewer.close()
        return sending, took, server.file_sends_in_flight, sendfile_threads_alive()

    sending, took, in_flight, threads = run(scenario, "uvloop")

    # Then close returns soon after the grace period, and no sending thread is left
    assert sending == 3
    assert took < 1.5
    assert (in_flight, threads) == (0, 0)


def test_a_file_shorter_than_its_response_cuts_the_response_short(tmp_path: Path) -> None:
    # Given a response that promises more bytes than the file holds
    content = os.urandom(2 * MIB)
    (tmp_path / "short").write_bytes(content)

    async def too_long(request: ViewerRequest) -> EdgeResponse:
        return EdgeResponse(200, [], FileBody(tmp_path / "short", 0, 3 * MIB))

    async def scenario() -> tuple[str, bytes]:
        async with serving(too_long) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/short"))
            head = await read_response(reader, head=True)
            return head.headers["content-length"], await reader.read()

    length, received = run(scenario, "uvloop")

    # Then the viewer gets the bytes there are and a closed connection, never a padded body
    assert (length, received) == (str(3 * MIB), content)


def test_a_cancelled_send_returns_once_its_thread_let_go(tmp_path: Path) -> None:
    # Given a send to a socket whose peer reads nothing, with a long send timeout
    big = sparse(tmp_path / "big", 16 * MIB)

    async def scenario() -> tuple[float, int, bool]:
        threads = SendfileThreads("test", threads=2, poll_interval=0.02)
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        with big.open("rb") as file, ours, theirs:
            send = asyncio.create_task(threads.send(ours.fileno(), file.fileno(), 0, 16 * MIB, 60))
            await until(lambda: threads.in_flight == 1)
            await asyncio.sleep(0.1)
            # When it is cancelled
            started = time.monotonic()
            send.cancel()
            await asyncio.gather(send, return_exceptions=True)
            took = time.monotonic() - started
        threads.close()
        return took, threads.in_flight, send.cancelled()

    took, in_flight, cancelled = run(scenario, "uvloop")

    # Then it ends within a few poll intervals, its thread done with the descriptors
    assert cancelled
    assert took < 0.5
    assert in_flight == 0


def test_a_send_to_a_peer_that_reads_nothing_times_out(tmp_path: Path) -> None:
    # Given a send with a 0.2 s timeout to a peer that reads nothing
    big = sparse(tmp_path / "big", 16 * MIB)

    async def scenario() -> BaseException | None:
        threads = SendfileThreads("test", threads=1)
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        with big.open("rb") as file, ours, theirs:
            sending = threads.send(ours.fileno(), file.fileno(), 0, 16 * MIB, 0.2)
            outcome = (await asyncio.gather(sending, return_exceptions=True))[0]
        threads.close()
        return outcome

    # Then it fails as stalled
    assert isinstance(run(scenario, "uvloop"), ViewerStalled)
