"""Run ``overcast up`` as a real process on free ports, for end-to-end tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from overcast.local.endpoints import Endpoints

OVERCAST = [sys.executable, "-m", "overcast"]


@dataclass
class CloudProcess:
    """A local cloud started with ``overcast up --ports auto`` in ``data_dir``."""

    data_dir: Path
    project_dir: Path
    extra_args: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None
    endpoints: Endpoints | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-overcast.log"

    def start(self, timeout: float = 60.0) -> Endpoints:
        """Start ``overcast up``; return its endpoints once it is ready. Ready takes about
        2 s on an idle machine; ``timeout`` leaves room for a CI machine whose two cores
        run other clouds and a browser at the same time."""
        command = [*OVERCAST, "up", "--ports", "auto", "--data-dir", str(self.data_dir)]
        command += ["--project", str(self.project_dir), *self.extra_args]
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"}
            )
        endpoints_file = self.data_dir / "endpoints.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"overcast up exited early:\n{self.output()}")
            if endpoints_file.exists():
                endpoints = Endpoints.read(endpoints_file)
                if endpoints.pid == self.process.pid:
                    self.endpoints = endpoints
                    return endpoints
            time.sleep(0.02)
        output = self.output()
        self.process.send_signal(signal.SIGUSR1)  # `overcast up` dumps every thread's stack
        time.sleep(0.5)
        self.process.kill()
        self.process.wait()
        raise TimeoutError(
            f"overcast up was not ready in {timeout} s:\n{output}\n--- stacks ---\n"
            f"{self.output()[len(output) :]}"
        )

    def stop(self, timeout: float = 15.0) -> int:
        """Ctrl-C, as a user would; return the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
