"""HTTPS listeners: uvicorn servers sharing one event loop and one shutdown.

Each listener's socket is bound before any app is built, so that ``--ports auto``
knows every URL (the user pool's issuer names the AWS endpoint's port) up front.
uvicorn's public ``serve()`` installs signal handlers per server; with several
servers in one loop the local cloud handles signals once itself and drives each
server's lifecycle (``Server._serve``, stable across uvicorn releases and pinned in
``requirements.lock``).
"""

from __future__ import annotations

import asyncio
import errno
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from overcast.spec import DeclarationError


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
        if exc.errno == errno.EADDRINUSE:
            raise DeclarationError(
                f"Port {port} for {name} is already in use (another `overcast up`?). "
                "Stop it, pin other ports in the project configuration, or use --ports auto."
            ) from exc
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return Listener(name, sock)


async def serve(
    listeners: list[Listener], certfile: Path, keyfile: Path
) -> list[asyncio.Task[None]]:
    """Start every listener; return once all accept connections."""
    tasks: list[asyncio.Task[None]] = []
    for listener in listeners:
        config = uvicorn.Config(
            listener.app,
            ssl_certfile=str(certfile),
            ssl_keyfile=str(keyfile),
            http="httptools",
            loop="none",
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_keep_alive=30,
            # Keep-alive clients (an open boto3 client) must not hold up Ctrl-C.
            timeout_graceful_shutdown=1,
            backlog=2048,
        )
        listener.server = uvicorn.Server(config)
        tasks.append(asyncio.create_task(listener.server._serve(sockets=[listener.sock])))
    while not all(listener.server and listener.server.started for listener in listeners):
        failed = [task for task in tasks if task.done()]
        if failed:
            failed[0].result()
            raise RuntimeError("A listener stopped during start-up.")
        await asyncio.sleep(0.01)
    return tasks


async def shutdown(listeners: list[Listener], tasks: list[asyncio.Task[None]]) -> None:
    for listener in listeners:
        if listener.server is not None:
            listener.server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    for listener in listeners:
        listener.sock.close()
