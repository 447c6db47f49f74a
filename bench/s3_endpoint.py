"""Benchmark: the S3 endpoint through boto3, against moto's server in the same run.

    .venv/bin/python -m bench.s3_endpoint [--small 100] [--large 3]

Starts, on this machine: moto's S3 server (``moto.server``, plain HTTP) and the local
cloud's S3 endpoint (``bench.s3_server``) once over plain HTTP and once over HTTPS.
For each, one boto3 client PUTs then GETs ``--small`` objects of 1 MiB and
``--large`` objects of 100 MiB, bodies read whole; then ``--clients`` boto3 clients,
each in a process of its own, GET the 1 MiB objects at once (the server's
throughput, which a single client's own overhead hides). Prints MB/s and
requests/s per case and the ratios against moto (the baseline, plain HTTP on both
sides).
Targets (issue 3): 1 MiB GET ≥ 3 times moto; 100 MiB GET ≥ 300 MB/s over HTTPS.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from rich.console import Console
from rich.table import Table

from overcast.local.credentials import load_or_create_root_credentials

MIB = 2**20


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    access_key: str
    secret_key: str
    verify: str | bool


@dataclass(frozen=True)
class Result:
    target: str
    case: str
    seconds: float
    count: int
    size: int

    @property
    def megabytes_per_second(self) -> float:
        return self.count * self.size / MIB / self.seconds

    @property
    def requests_per_second(self) -> float:
        return self.count / self.seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@contextmanager
def moto_server() -> Iterator[Target]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield Target("moto (http)", f"http://127.0.0.1:{port}", "testing", "testing", False)
    finally:
        process.terminate()
        process.wait()


@contextmanager
def overcast_server(scratch: Path, plain_http: bool) -> Iterator[Target]:
    data_dir = scratch / ("plain" if plain_http else "tls")
    command = [sys.executable, "-m", "bench.s3_server", str(data_dir)]
    process = subprocess.Popen(
        [*command, *(["--plain-http"] if plain_http else [])], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        root = load_or_create_root_credentials(data_dir)
        scheme = "http" if plain_http else "https"
        yield Target(
            f"overcast ({scheme})",
            f"{scheme}://127.0.0.1:{port}",
            root.access_key_id,
            root.secret_access_key,
            False if plain_http else str(data_dir / "tls" / "ca.pem"),
        )
    finally:
        process.terminate()
        process.wait()


def client(target: Target) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=target.url,
        region_name="us-east-1",
        aws_access_key_id=target.access_key,
        aws_secret_access_key=target.secret_key,
        verify=target.verify,
        config=Config(retries={"max_attempts": 1}, max_pool_connections=1),
    )


def _get_many(target: Target, keys: list[str]) -> float:
    """One client process: GET every key, bodies read whole; the seconds it took."""
    s3 = client(target)
    s3.get_object(Bucket="bench", Key=keys[0])["Body"].read()  # connect first
    began = time.perf_counter()
    for key in keys:
        s3.get_object(Bucket="bench", Key=key)["Body"].read()
    return time.perf_counter() - began


def measure_concurrent_gets(target: Target, small: int, clients: int) -> Result:
    keys = [f"1 MiB/{number}" for number in range(small)]
    with concurrent.futures.ProcessPoolExecutor(clients) as pool:
        seconds = list(pool.map(_get_many, [target] * clients, [keys] * clients))
    return Result(target.name, f"GET 1 MiB x{clients} clients", max(seconds), small * clients, MIB)


def measure(target: Target, small: int, large: int, clients: int) -> list[Result]:
    s3 = client(target)
    s3.create_bucket(Bucket="bench")
    results = []
    for size, count in ((MIB, small), (100 * MIB, large)):
        body = os.urandom(size)
        label = f"{size // MIB} MiB"
        began = time.perf_counter()
        for number in range(count):
            s3.put_object(Bucket="bench", Key=f"{label}/{number}", Body=body)
        results.append(
            Result(target.name, f"PUT {label}", time.perf_counter() - began, count, size)
        )
        began = time.perf_counter()
        for number in range(count):
            got = s3.get_object(Bucket="bench", Key=f"{label}/{number}")["Body"].read()
            assert len(got) == size
        results.append(
            Result(target.name, f"GET {label}", time.perf_counter() - began, count, size)
        )
    results.append(measure_concurrent_gets(target, small, clients))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100, help="1 MiB objects per case")
    parser.add_argument("--large", type=int, default=3, help="100 MiB objects per case")
    parser.add_argument("--clients", type=int, default=4, help="concurrent 1 MiB GET clients")
    arguments = parser.parse_args()
    console = Console()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as scratch:
        for server in (
            moto_server(),
            overcast_server(Path(scratch), plain_http=True),
            overcast_server(Path(scratch), plain_http=False),
        ):
            with server as target:
                console.print(f"measuring {target.name} at {target.url} ...")
                results += measure(target, arguments.small, arguments.large, arguments.clients)
    baseline = {r.case: r for r in results if r.target.startswith("moto")}
    table = Table(title="S3 through boto3 (one client, sequential requests)")
    for column in ("server", "case", "MB/s", "req/s", "vs moto"):
        table.add_column(column, justify="left" if column in ("server", "case") else "right")
    for result in results:
        ratio = result.megabytes_per_second / baseline[result.case].megabytes_per_second
        table.add_row(
            result.target,
            result.case,
            f"{result.megabytes_per_second:,.0f}",
            f"{result.requests_per_second:,.1f}",
            f"{ratio:.2f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
