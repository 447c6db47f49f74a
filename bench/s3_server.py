"""The local cloud's S3 endpoint alone, on plain HTTP or HTTPS: for bench/s3_endpoint.py.

    python -m bench.s3_server DATA_DIR [--plain-http]

Builds the same AWS services ``overcast up`` builds (``AwsServices``) on ``DATA_DIR``
and prints the port once it accepts connections; Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from overcast.local import servers
from overcast.local.aws_services import AwsServices
from overcast.local.credentials import load_or_create_root_credentials
from overcast.local.tls import LocalCA
from overcast.ports.mail.memory import MemoryMailer


async def main(data_dir: Path, plain_http: bool) -> None:
    ca = LocalCA(data_dir / "tls")
    ca.ensure()
    listener = servers.bind("the S3 endpoint", "127.0.0.1", 0)
    scheme = "http" if plain_http else "https"
    services = AwsServices(
        data_dir=data_dir,
        mailer=MemoryMailer(),
        public_url=f"{scheme}://127.0.0.1:{listener.port}",
        root=load_or_create_root_credentials(data_dir),
        region="us-east-1",
        account_id="000000000000",
        credential_seconds=3600,
    )
    listener.app = services.endpoint
    certificate = (None, None) if plain_http else (ca.server_cert_path, ca.server_key_path)
    tasks = await servers.serve([listener], *certificate)
    print(listener.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await servers.shutdown([listener], tasks)
    services.close()


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--plain-http", action="store_true")
    arguments = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(arguments.data_dir, arguments.plain_http))
