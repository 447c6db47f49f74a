"""The baseline: a raw ASGI hello-world served by the local cloud's own server and TLS setup."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from overcast.local import servers
from overcast.local.tls import LocalCA


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
        }
    )
    await send({"type": "http.response.body", "body": b"Hello, world!"})


async def main(tls_dir: Path) -> None:
    ca = LocalCA(tls_dir)
    ca.ensure()
    listener = servers.bind("hello", "127.0.0.1", 0)
    listener.app = hello
    tasks = await servers.serve([listener], ca.server_cert_path, ca.server_key_path)
    print(listener.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await servers.shutdown([listener], tasks)


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser()
    parser.add_argument("tls_dir", type=Path)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(parser.parse_args().tls_dir))
