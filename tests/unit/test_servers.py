"""The listener's transport sends what one event-loop pass writes as one write."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from overcast.local.servers import OneWritePerPass

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class RecordingTransport(asyncio.Transport):
    """A fake transport that records what reaches it."""

    def __init__(self) -> None:
        super().__init__(extra={"peername": ("127.0.0.1", 5555)})
        self.writes: list[bytes] = []
        self.events: list[str] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))
        self.events.append("write")

    def close(self) -> None:
        self.events.append("close")

    def abort(self) -> None:
        self.events.append("abort")

    def get_write_buffer_size(self) -> int:
        return 0


async def test_status_line_headers_and_body_leave_as_one_write() -> None:
    raw = RecordingTransport()
    transport = OneWritePerPass(raw, asyncio.get_running_loop())

    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(bytearray(b"hi"))
    assert raw.writes == []
    await asyncio.sleep(0)

    assert raw.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"]


async def test_closing_sends_what_is_held_first() -> None:
    raw = RecordingTransport()
    transport = OneWritePerPass(raw, asyncio.get_running_loop())

    transport.write(b"last words")
    transport.close()
    await asyncio.sleep(0)

    assert raw.events == ["write", "close"]
    assert raw.writes == [b"last words"]


async def test_large_bodies_go_out_at_once_for_flow_control() -> None:
    raw = RecordingTransport()
    transport = OneWritePerPass(raw, asyncio.get_running_loop())
    chunk = b"x" * (64 * 1024)

    transport.write(b"headers")
    transport.write(chunk)

    assert raw.writes == [b"headers" + chunk]
    assert transport.get_write_buffer_size() == 0


async def test_abort_drops_what_is_held() -> None:
    raw = RecordingTransport()
    transport = OneWritePerPass(raw, asyncio.get_running_loop())

    transport.write(b"never sent")
    transport.abort()
    await asyncio.sleep(0)

    assert raw.events == ["abort"]


async def test_everything_but_writing_is_the_real_transports() -> None:
    raw = RecordingTransport()
    transport = OneWritePerPass(raw, asyncio.get_running_loop())

    assert transport.get_extra_info("peername") == ("127.0.0.1", 5555)
    assert transport.get_extra_info("sslcontext", "none") == "none"
