"""HTTPS listeners: uvicorn servers sharing one event loop and one shutdown.

Each listener's socket is bound before any app is built, so that ``--ports auto``
knows every URL (the user pool's issuer names the AWS endpoint's port) up front.
uvicorn's public ``serve()`` installs signal handlers per server; with several
servers in one loop the local cloud handles signals once itself and drives each
server's lifecycle (``Server._serve``, stable across uvicorn releases and pinned in
``requirements.lock``).

Per request the listener does only what a loopback HTTPS endpoint needs: no proxy
header rewriting (nothing sits in front of it), no ``Server: uvicorn`` header (AWS
endpoints do not send it), and one write per response (see ``OneWritePerPass``).
Once every listener is up, the start-up heap is frozen (``gc.freeze``): the garbage
collector's full passes then scan only what requests allocate.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from overcast.spec import DeclarationError

# Buffered writes go out at once past this size, so that the real transport's flow
# control (pause_writing) still holds back large and streamed bodies.
_FLUSH_AT = 64 * 1024


@dataclass
class Listener:
    """One named HTTPS endpoint: a bound socket and the ASGI app it serves."""

    name: str
    sock: socket.socket
    app: Any = None
    server: uvicorn.Server | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])


def bind(name: str, host: str, port: int) -> Listener:
    """Bind ``host:port`` (0: any free port) or explain who is in the way."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise port_unavailable(name, port, exc) from exc
    sock.listen(2048)
    sock.setblocking(False)
    return Listener(name, sock)


def port_unavailable(name: str, port: int, error: OSError) -> DeclarationError:
    """The error that explains why ``name`` cannot listen on ``port``, and what to do."""
    if error.errno == errno.EADDRINUSE:
        reason = "is already in use (another `overcast up`?)"
    else:
        reason = f"cannot be used ({error.strerror or error})"
    return DeclarationError(
        f"Port {port} for {name} {reason}. Stop whatever holds it, pin other ports in the "
        "project configuration, or use --ports auto."
    )


async def serve(
    listeners: list[Listener], certfile: Path | None, keyfile: Path | None
) -> list[asyncio.Task[None]]:
    """Start every listener; return once all accept connections.

    Without a certificate the listeners speak plain HTTP: only benchmarks do that.
    """
    tasks: list[asyncio.Task[None]] = []
    for listener in listeners:
        config = uvicorn.Config(
            listener.app,
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
            http=_HttpProtocol,
            loop="none",
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_keep_alive=30,
            # Keep-alive clients (an open boto3 client) must not hold up Ctrl-C.
            timeout_graceful_shutdown=1,
            backlog=2048,
            proxy_headers=False,  # bound to loopback: no proxy in front to trust
            server_header=False,
        )
        listener.server = uvicorn.Server(config)
        tasks.append(asyncio.create_task(listener.server._serve(sockets=[listener.sock])))
    while not all(listener.server and listener.server.started for listener in listeners):
        failed = [task for task in tasks if task.done()]
        if failed:
            failed[0].result()
            raise RuntimeError("A listener stopped during start-up.")
        await asyncio.sleep(0.01)
    # Start-up is over, and what it built (modules, apps, adapters) lives as long as the
    # process. Frozen, it is left out of the collector's full passes, which otherwise
    # scan all of it every few thousand requests and stall the loop for tens of ms.
    gc.freeze()
    return tasks


async def shutdown(listeners: list[Listener], tasks: list[asyncio.Task[None]]) -> None:
    for listener in listeners:
        if listener.server is not None:
            listener.server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    for listener in listeners:
        listener.sock.close()


class OneWritePerPass(asyncio.Transport):
    """A transport that sends what is written during one event-loop pass as one write.

    uvicorn writes a response's status line and headers, then its body: over TLS two
    records, two ``send()`` calls, and the client woken twice. Held until the loop's
    next pass, a response leaves as one record in one segment. Everything but writing
    goes straight to the real transport; closing sends what is held first.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))
        self._held_size += len(data)
        if self._held_size >= _FLUSH_AT:
            self.flush()

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Send what is held, as one write."""
        if not self._held:
            return
        held = self._held
        self._held, self._held_size = [], 0
        self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held, self._held_size = [], 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def get_write_buffer_size(self) -> int:
        return self._held_size + self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)


class _HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through :class:`OneWritePerPass`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneWritePerPass(transport, self.loop))
