"""Existing apps behind a distribution, started by the local cloud as processes of their own.

A :class:`~overcast.spec.HttpOrigin` with a ``local_command`` stands for a server the
CDN fronts on AWS (an EC2 instance, an ALB): ``overcast up`` runs the command with
``{python}``, ``{port}`` and ``{data_dir}`` filled in, waits until its port accepts
connections, and stops it (SIGTERM, then SIGKILL after a grace period) at shutdown;
if the cloud is killed, Linux sends it SIGTERM (:mod:`overcast.local.parent_guard`).
Its output goes to ``<data dir>/logs/origin-<service>-<name>.log``. The app is not
changed in any way: the edge reaches it over plain HTTP, as CloudFront reaches a
custom origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from overcast.local.parent_guard import guarded
from overcast.spec import DeclarationError, HttpOrigin

START_TIMEOUT_SECONDS = 20.0
STOP_GRACE_SECONDS = 5.0


def free_port(host: str) -> int:
    """A port no one listens on now (the app binds it itself a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class OriginProcess:
    """One running origin app."""

    label: str
    command: list[str]
    host: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def of(cls, service: str, origin: HttpOrigin, *, data_dir: Path, host: str) -> OriginProcess:
        port = free_port(host)
        values = {"python": sys.executable, "port": str(port), "data_dir": str(data_dir)}
        try:
            command = [part.format(**values) for part in origin.local_command]
        except (KeyError, IndexError, ValueError) as exc:
            raise DeclarationError(
                f"HttpOrigin {origin.name!r}: local_command may use {{python}}, {{port}} and "
                f"{{data_dir}} only ({exc})."
            ) from exc
        log_path = data_dir / "logs" / f"origin-{service}-{origin.name}.log"
        return cls(f"{service}/{origin.name}", command, host, port, log_path)

    async def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Start the app; return once its port accepts connections."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                guarded(self.command),  # ends with the cloud, even a killed one
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DeclarationError(
                    f"The origin app {self.label} exited with status {self.process.returncode} "
                    f"before answering; its output is in {self.log_path}."
                )
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.close()
                return
            await asyncio.sleep(0.05)
        self.stop()
        raise DeclarationError(
            f"The origin app {self.label} did not accept connections on port {self.port} "
            f"within {timeout:.0f} s; its output is in {self.log_path}."
        )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within the grace period."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
