"""The edge's HTTP/1.1 server on real sockets: framing, keep-alive, bodies, sendfile, TLS."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvloop

from overcast.local.cdn.http_server import EdgeServer
from overcast.local.cdn.model import EdgeResponse, FileBody, Handler, StreamBody, ViewerRequest
from overcast.local.tls import LocalCA

T = TypeVar("T")
LOOPS = {"stdlib": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def run(scenario: Callable[[], Awaitable[T]], loop: str = "stdlib") -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout=30)

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        return runner.run(bounded())


@asynccontextmanager
async def serving(handler: Handler, **options: Any) -> AsyncIterator[tuple[int, EdgeServer]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = EdgeServer(handler, **options)
    await server.start(sock)
    try:
        yield sock.getsockname()[1], server
    finally:
        await server.close()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_response(reader: asyncio.StreamReader, head: bool = False) -> Response:
    status_line = await reader.readline()
    if not status_line:
        raise EOFError("connection closed")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if head or status < 200 or status in (204, 304):
        return Response(status, headers, b"")
    if "content-length" in headers:
        return Response(status, headers, await reader.readexactly(int(headers["content-length"])))
    if headers.get("transfer-encoding") == "chunked":
        return Response(status, headers, await read_chunked(reader))
    return Response(status, headers, await reader.read())


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while size := int((await reader.readline()).strip(), 16):
        body += await reader.readexactly(size)
        await reader.readexactly(2)
    await reader.readexactly(2)
    return bytes(body)


@asynccontextmanager
async def connection(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


def get(path: str = "/", method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: edge\r\n{extra}\r\n".encode()


async def echo(request: ViewerRequest) -> EdgeResponse:
    text = f"{request.method} {request.path}?{request.query} {len(request.body)}"
    return EdgeResponse(200, [("Content-Type", "text/plain")], text.encode() + request.body)


def test_a_keep_alive_connection_answers_request_after_request() -> None:
    async def scenario() -> list[bytes]:
        async with serving(echo) as (port, _), connection(port) as (reader, writer):
            bodies = []
            for path in ("/a", "/b?x=1", "/c"):
                writer.write(get(path))
                bodies.append((await read_response(reader)).body)
            return bodies

    assert run(scenario) == [b"GET /a? 0", b"GET /b?x=1 0", b"GET /c? 0"]


def test_pipelined_requests_are_answered_in_order_even_when_the_first_is_slowest() -> None:
    async def slow_first(request: ViewerRequest) -> EdgeResponse:
        await asyncio.sleep(0.05 if request.path == "/1" else 0)
        return EdgeResponse(200, [], request.path.encode())

    async def scenario() -> list[bytes]:
        async with serving(slow_first) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/1") + get("/2") + get("/3"))
            return [(await read_response(reader)).body for _ in range(3)]

    assert run(scenario) == [b"/1", b"/2", b"/3"]


def test_head_gets_the_get_headers_and_length_but_no_body() -> None:
    async def scenario() -> tuple[Response, Response]:
        async with serving(echo) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/x", "HEAD") + get("/x"))
            return await read_response(reader, head=True), await read_response(reader)

    head, following = run(scenario)

    assert head.status == 200
    assert head.headers["content-length"] == str(len(b"HEAD /x? 0"))
    assert "date" in head.headers
    assert following.body == b"GET /x? 0"  # nothing of the HEAD's body came in between


def test_a_chunked_request_body_reaches_the_handler_whole() -> None:
    async def scenario() -> bytes:
        async with serving(echo) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/up", "POST", "Transfer-Encoding: chunked\r\n"))
            writer.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            return (await read_response(reader)).body

    assert run(scenario) == b"POST /up? 11hello world"


def test_a_declared_body_over_the_limit_gets_413_and_the_connection_closes() -> None:
    async def scenario() -> tuple[Response, bytes]:
        async with (
            serving(echo, max_body_bytes=100) as (port, _),
            connection(port) as (reader, writer),
        ):
            writer.write(get("/up", "POST", "Content-Length: 101\r\n") + b"x" * 101)
            return await read_response(reader), await reader.read()

    response, after = run(scenario)

    assert response.status == 413
    assert response.headers["connection"] == "close"
    assert after == b""


def test_a_chunked_body_growing_over_the_limit_gets_413() -> None:
    async def scenario() -> Response:
        async with (
            serving(echo, max_body_bytes=100) as (port, _),
            connection(port) as (reader, writer),
        ):
            writer.write(get("/up", "POST", "Transfer-Encoding: chunked\r\n"))
            writer.write(b"40\r\n" + b"x" * 64 + b"\r\n40\r\n" + b"y" * 64 + b"\r\n")
            return await read_response(reader)

    assert run(scenario).status == 413


def test_expect_100_continue_gets_the_interim_response_before_the_body_is_sent() -> None:
    async def scenario() -> tuple[int, Response]:
        async with serving(echo) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/up", "PUT", "Content-Length: 4\r\nExpect: 100-continue\r\n"))
            interim = await read_response(reader)
            writer.write(b"data")
            return interim.status, await read_response(reader)

    interim, final = run(scenario)

    assert interim == 100
    assert final.body == b"PUT /up? 4data"


def test_garbage_gets_400_and_the_connection_closes() -> None:
    async def scenario() -> tuple[Response, bytes]:
        async with serving(echo) as (port, _), connection(port) as (reader, writer):
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            return await read_response(reader), await reader.read()

    response, after = run(scenario)

    assert (response.status, response.headers["connection"], after) == (400, "close", b"")


def test_http_11_without_host_gets_400() -> None:
    async def scenario() -> Response:
        async with serving(echo) as (port, _), connection(port) as (reader, writer):
            writer.write(b"GET / HTTP/1.1\r\n\r\n")
            return await read_response(reader)

    assert run(scenario).status == 400


def test_a_header_section_over_64_kib_gets_431() -> None:
    async def scenario() -> Response:
        async with serving(echo) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/", extra="".join(f"X-Pad-{i}: {'p' * 1000}\r\n" for i in range(70))))
            return await read_response(reader)

    assert run(scenario).status == 431


def test_an_http_10_request_is_answered_then_the_connection_closes() -> None:
    async def scenario() -> tuple[Response, bytes]:
        async with serving(echo) as (port, _), connection(port) as (reader, writer):
            writer.write(b"GET /old HTTP/1.0\r\n\r\n")
            return await read_response(reader), await reader.read()

    response, after = run(scenario)

    assert (response.body, response.headers["connection"], after) == (b"GET /old? 0", "close", b"")


def test_a_failing_handler_gets_502_and_the_connection_serves_on() -> None:
    async def flaky(request: ViewerRequest) -> EdgeResponse:
        if request.path == "/boom":
            raise RuntimeError("handler bug")
        return await echo(request)

    async def scenario() -> tuple[int, bytes]:
        async with serving(flaky) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/boom") + get("/fine"))
            return (await read_response(reader)).status, (await read_response(reader)).body

    assert run(scenario) == (502, b"GET /fine? 0")


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout() -> None:
    async def scenario() -> bytes:
        async with (
            serving(echo, idle_timeout=0.1) as (port, _),
            connection(port) as (reader, writer),
        ):
            writer.write(get("/"))
            await read_response(reader)
            return await reader.read()  # the server closes after 0.1 s idle

    assert run(scenario) == b""


def test_a_request_body_that_stops_coming_gets_408() -> None:
    async def scenario() -> tuple[Response, bytes]:
        async with (
            serving(echo, idle_timeout=0.1) as (port, _),
            connection(port) as (reader, writer),
        ):
            writer.write(get("/up", "POST", "Content-Length: 10\r\n") + b"abc")
            return await read_response(reader), await reader.read()

    response, after = run(scenario)

    assert (response.status, response.headers["connection"], after) == (408, "close", b"")


@pytest.mark.parametrize("loop", ["stdlib", "uvloop"])
def test_file_bodies_are_byte_exact_for_any_offset_and_length(tmp_path: Path, loop: str) -> None:
    content = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "blob").write_bytes(content)
    ranges = [(0, len(content)), (1, 100), (1024 * 1024 - 3, 2 * 1024 * 1024 + 9), (7, 0)]

    async def file_range(request: ViewerRequest) -> EdgeResponse:
        offset, length = (int(n) for n in request.query.split(","))
        return EdgeResponse(200, [], FileBody(tmp_path / "blob", offset, length))

    async def scenario() -> list[bytes]:
        async with serving(file_range) as (port, _), connection(port) as (reader, writer):
            bodies = []
            for offset, length in ranges:
                writer.write(get(f"/blob?{offset},{length}"))
                bodies.append((await read_response(reader)).body)
            return bodies

    bodies = run(scenario, loop)

    assert bodies == [content[offset : offset + length] for offset, length in ranges]


class GrowingFile:
    """A fake cache fill: appends to a file in steps, as an origin download would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_bytes(b"")
        self._written = 0
        self.complete = False
        self.failed: BaseException | None = None
        self._changed = asyncio.Event()

    @property
    def written(self) -> int:
        return self._written

    def append(self, data: bytes) -> None:
        with self.path.open("ab") as file:
            file.write(data)
        self._written += len(data)
        self._wake()

    def finish(self) -> None:
        self.complete = True
        self._wake()

    def fail(self) -> None:
        self.failed = ConnectionResetError("origin went away")
        self._wake()

    async def wait_beyond(self, offset: int) -> None:
        while not (self._written > offset or self.complete or self.failed):
            await self._changed.wait()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


async def feed(fill: GrowingFile, content: bytes, step: int, fail_at: int | None = None) -> None:
    for start in range(0, len(content), step):
        if fail_at is not None and start >= fail_at:
            fill.fail()
            return
        await asyncio.sleep(0.001)
        fill.append(content[start : start + step])
    fill.finish()


@pytest.mark.parametrize("loop", ["stdlib", "uvloop"])
def test_a_file_still_being_filled_is_delivered_byte_exact(tmp_path: Path, loop: str) -> None:
    content = os.urandom(700_001)

    async def scenario() -> tuple[bytes, bytes]:
        fill = GrowingFile(tmp_path / "filling")

        async def filling(request: ViewerRequest) -> EdgeResponse:
            offset = int(request.query)
            return EdgeResponse(200, [], FileBody(fill.path, offset, len(content) - offset, fill))

        async with serving(filling) as (port, _):
            feeder = asyncio.create_task(feed(fill, content, 50_000))
            async with httpx.AsyncClient() as client:
                whole, tail = await asyncio.gather(
                    client.get(f"http://127.0.0.1:{port}/f?0"),
                    client.get(f"http://127.0.0.1:{port}/f?123457"),
                )
            await feeder
        return whole.content, tail.content

    whole, tail = run(scenario, loop)

    assert whole == content
    assert tail == content[123457:]


def test_a_fill_failing_midway_cuts_the_response_short(tmp_path: Path) -> None:
    content = os.urandom(400_000)

    async def scenario() -> tuple[Response | None, bytes]:
        fill = GrowingFile(tmp_path / "filling")

        async def filling(request: ViewerRequest) -> EdgeResponse:
            return EdgeResponse(200, [], FileBody(fill.path, 0, len(content), fill))

        async with serving(filling) as (port, _), connection(port) as (reader, writer):
            feeder = asyncio.create_task(feed(fill, content, 50_000, fail_at=200_000))
            writer.write(get("/f"))
            head = await read_response(reader, head=True)
            received = await reader.read()  # until the server aborts
            await feeder
            return head, received

    head, received = run(scenario)

    assert head is not None
    assert head.headers["content-length"] == str(len(content))
    assert len(received) <= 200_000  # never more than the fill wrote
    assert content.startswith(received)


def test_a_stream_without_length_is_sent_chunked() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"first ", b"", b"second ", b"third"):
            await asyncio.sleep(0)
            yield part

    async def streaming(request: ViewerRequest) -> EdgeResponse:
        return EdgeResponse(200, [("X-Kind", "stream")], StreamBody(chunks()))

    async def scenario() -> tuple[Response, bytes]:
        async with serving(streaming) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/s") + get("/s"))
            first = await read_response(reader)
            return first, (await read_response(reader)).body

    first, second = run(scenario)

    assert first.headers["transfer-encoding"] == "chunked"
    assert first.headers["x-kind"] == "stream"
    assert "content-length" not in first.headers
    assert first.body == second == b"first second third"


def test_a_stream_with_a_length_is_sent_with_content_length() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    async def streaming(request: ViewerRequest) -> EdgeResponse:
        return EdgeResponse(200, [("Content-Length", "999")], StreamBody(chunks(), 6))

    async def scenario() -> Response:
        async with serving(streaming) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/s"))
            return await read_response(reader)

    response = run(scenario)

    assert response.headers["content-length"] == "6"  # the handler's own framing is dropped
    assert "transfer-encoding" not in response.headers
    assert response.body == b"abcdef"


def test_head_and_304_send_no_body_and_close_the_origin_stream() -> None:
    closed: list[str] = []

    class OriginStream:
        """An origin response body: ``aclose`` releases its connection."""

        def __init__(self, name: str) -> None:
            self.name, self.parts = name, [b"never sent"]

        def __aiter__(self) -> OriginStream:
            return self

        async def __anext__(self) -> bytes:
            if not self.parts:
                raise StopAsyncIteration
            return self.parts.pop()

        async def aclose(self) -> None:
            closed.append(self.name)

    async def streaming(request: ViewerRequest) -> EdgeResponse:
        status = 304 if request.path == "/cond" else 200
        return EdgeResponse(status, [("ETag", '"v1"')], StreamBody(OriginStream(request.path), 10))

    async def scenario() -> tuple[Response, Response, Response]:
        async with serving(streaming) as (port, _), connection(port) as (reader, writer):
            writer.write(get("/head", "HEAD") + get("/cond") + get("/ok"))
            head = await read_response(reader, head=True)
            return head, await read_response(reader), await read_response(reader)

    head, not_modified, ok = run(scenario)

    assert head.headers["content-length"] == "10"
    assert not_modified.status == 304
    assert "content-length" not in not_modified.headers
    assert ok.body == b"never sent"  # nothing of the earlier bodies leaked in between
    assert closed == ["/head", "/cond", "/ok"]


def test_a_stream_failing_midway_aborts_the_response() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("origin reset")

    async def streaming(request: ViewerRequest) -> EdgeResponse:
        return EdgeResponse(200, [], StreamBody(broken()))

    async def scenario() -> None:
        async with serving(streaming) as (port, _), httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/s")

    with pytest.raises(httpx.RemoteProtocolError):
        run(scenario)


def test_tls_with_the_local_ca_serves_files_and_streams(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "tls")
    content = os.urandom(1024 * 1024 + 5)
    (tmp_path / "blob").write_bytes(content)

    async def mixed(request: ViewerRequest) -> EdgeResponse:
        if request.path == "/file":
            return EdgeResponse(200, [], FileBody(tmp_path / "blob", 0, len(content)))
        return EdgeResponse(200, [], request.scheme.encode())

    async def scenario() -> tuple[bytes, bytes]:
        serving_tls = ca.server_ssl_context()
        trusting = ssl.create_default_context(cafile=str(ca.ca_cert_path))
        async with (
            serving(mixed, ssl_context=serving_tls) as (port, _),
            httpx.AsyncClient(verify=trusting) as client,
        ):
            file = await client.get(f"https://localhost:{port}/file")
            scheme = await client.get(f"https://localhost:{port}/scheme")
        return file.content, scheme.content

    assert run(scenario) == (content, b"https")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("loop", ["stdlib", "uvloop"])
def test_a_viewer_leaving_mid_download_frees_its_connection_and_file(
    tmp_path: Path, loop: str
) -> None:
    big = tmp_path / "big"
    with big.open("wb") as file:
        file.truncate(256 * 1024 * 1024)  # sparse: fast to make, slow to send to a stalled viewer

    async def whole_file(request: ViewerRequest) -> EdgeResponse:
        return EdgeResponse(200, [], FileBody(big, 0, big.stat().st_size))

    async def scenario() -> tuple[int, int, int]:
        async with serving(whole_file) as (port, server):
            before = open_fds()
            async with connection(port) as (reader, writer):
                writer.write(get("/big"))
                await reader.readexactly(100_000)
                during = server.connection_count
            for _ in range(200):
                if server.connection_count == 0 and open_fds() == before:
                    break
                await asyncio.sleep(0.01)
            return during, server.connection_count, open_fds() - before

    during, after, leaked_fds = run(scenario, loop)

    assert (during, after, leaked_fds) == (1, 0, 0)


def test_closing_the_server_lets_a_response_in_flight_finish() -> None:
    started = asyncio.Event()

    async def slow(request: ViewerRequest) -> EdgeResponse:
        started.set()
        await asyncio.sleep(0.1)
        return EdgeResponse(200, [], b"finished")

    async def scenario() -> tuple[Response, bool]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = EdgeServer(slow, grace_period=5)
        await server.start(sock)
        async with connection(sock.getsockname()[1]) as (reader, writer):
            writer.write(get("/"))
            await started.wait()
            closing = asyncio.create_task(server.close())
            response = await read_response(reader)
            await closing
            return response, sock.fileno() == -1

    response, listener_closed = run(scenario)

    assert (response.body, response.headers["connection"]) == (b"finished", "close")
    assert listener_closed
