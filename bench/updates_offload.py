"""Benchmark: software update offloading — an update served by the app alone, through the
local CDN edge, and by nginx, in one run on this machine; then the monthly cost each way.

    .venv/bin/python -m bench.updates_offload [--clients 100] [--size-mib 100]
        [--client-processes 2] [--delay 10] [--devices 50000] [--polls-per-day 24]

Publishes one release (``--size-mib``, seeded random bytes) into a temporary root, then:

(a) origin: ``--clients`` concurrent downloads straight from the app
    (``overcast.apps.updates.origin``, the unchanged EC2 stand-in);
(b) edge, cold: the same through ``overcast cdn serve --from updates/releases --http`` on
    a fresh cache, the app answering only after ``--delay`` s (a busy origin); then
    (b') edge, warm: the same again, from the edge's cache;
(c) nginx: Debian's nginx (sendfile, tcp_nopush, one worker per core, no access log)
    serving the same file.

Clients are raw asyncio sockets (HTTP/1.1, one reusable buffer each) spread over
``--client-processes`` processes; every download's byte count is checked, and one per
scenario's SHA-256. Origin requests and bytes come from the app's access log.
Targets (issue 6): through the edge, exactly 1 origin request and ≥ 99% of the bytes
served by the edge despite the delay; edge (warm) throughput ≥ 80% of nginx's.
Prices: ``bench/prices.json`` (list prices, with their sources and the date read).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from overcast.apps.updates.releases import ReleaseFile, ReleaseStore

MIB = 2**20
NGINX = "/usr/sbin/nginx"
PRICES = Path(__file__).with_name("prices.json")
# Every download gives up after this long, so that the benchmark always ends.
DOWNLOAD_TIMEOUT_SECONDS = 300
_URL = re.compile(r"https?://[\w.\-\[\]:]+:\d+")
_LOG = re.compile(r'"(?:GET|HEAD) \S+ [^"]*" (\d{3}) (\d+)$')


@dataclass(frozen=True)
class Download:
    status: int
    received: int
    started: float
    finished: float
    sha256: str | None
    error: str | None = None


class Reader:
    """A socket read through one reusable buffer: lines for the head, counted body."""

    def __init__(self, sock: socket.socket, size: int = 256 * 1024) -> None:
        self.sock, self.buffer = sock, bytearray(size)
        self.view = memoryview(self.buffer)
        self.start = self.end = 0
        self.loop = asyncio.get_running_loop()

    async def _fill(self) -> bool:
        if self.start == self.end:
            self.start, self.end = 0, await self.loop.sock_recv_into(self.sock, self.view)
        return self.end > self.start

    async def line(self) -> bytes:
        found = bytearray()
        while not found.endswith(b"\n") and await self._fill():
            cut = self.buffer.find(b"\n", self.start, self.end)
            stop = cut + 1 if cut >= 0 else self.end
            found += self.view[self.start : stop]
            self.start = stop
        return bytes(found)

    async def body(self, length: float, sink: Callable[[memoryview], Any]) -> int:
        count = 0
        while count < length and await self._fill():
            piece = self.view[self.start : min(self.end, self.start + int(length - count))]
            sink(piece)
            self.start += len(piece)
            count += len(piece)
        return count


async def _fetch(host: str, port: int, path: str, verify: bool) -> Download:
    started, digest = time.time(), hashlib.sha256() if verify else None
    sink = digest.update if digest else (lambda piece: None)
    with socket.socket() as sock:
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, (host, port))
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
        await loop.sock_sendall(sock, request.encode())
        reader = Reader(sock)
        status = int((await reader.line()).split()[1])
        headers = {}
        while (line := await reader.line()).strip():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            received = 0
            while size := int((await reader.line()).split(b";")[0], 16):
                received += await reader.body(size, sink)
                await reader.line()
        else:
            received = await reader.body(float(headers.get("content-length", "inf")), sink)
    return Download(status, received, started, time.time(), digest.hexdigest() if digest else None)


async def _fetch_all(url: str, path: str, count: int, verify_first: bool, start_at: float) -> Any:
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    await asyncio.sleep(max(0.0, start_at - time.time()))

    async def one(number: int) -> Download:
        try:
            fetch = _fetch(host, int(port), path, verify_first and number == 0)
            return await asyncio.wait_for(fetch, DOWNLOAD_TIMEOUT_SECONDS)
        except (OSError, ValueError, IndexError, TimeoutError) as exc:
            return Download(0, 0, time.time(), time.time(), None, repr(exc))

    return await asyncio.gather(*(one(number) for number in range(count)))


def client_process(url: str, path: str, count: int, verify: bool, start_at: float) -> Any:
    """One client process: ``count`` concurrent downloads; and the CPU seconds it used."""
    cpu = time.process_time()
    downloads = asyncio.run(_fetch_all(url, path, count, verify, start_at))
    return downloads, time.process_time() - cpu


@dataclass
class Outcome:
    name: str
    downloads: list[Download]
    client_cpu: float
    origin: tuple[int, int] | None = None  # requests, bytes
    sha256_ok: bool = False

    @property
    def wall(self) -> float:
        return max(d.finished for d in self.downloads) - min(d.started for d in self.downloads)

    @property
    def served(self) -> int:
        return sum(d.received for d in self.downloads)

    @property
    def throughput(self) -> float:
        """MiB/s over the scenario's wall time."""
        return self.served / MIB / self.wall

    def percentile(self, fraction: float) -> float:
        times = sorted(d.finished - d.started for d in self.downloads)
        return times[min(len(times) - 1, int(fraction * len(times)))]


def run_clients(
    pool: concurrent.futures.Executor,
    processes: int,
    name: str,
    url: str,
    release: ReleaseFile,
    clients: int,
) -> Outcome:
    start_at = time.time() + 0.5
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    jobs = [
        pool.submit(client_process, url, release.url, share, i == 0, start_at)
        for i, share in enumerate(shares)
    ]
    results = [job.result() for job in jobs]
    outcome = Outcome(name, [d for r in results for d in r[0]], sum(r[1] for r in results))
    bad = [d for d in outcome.downloads if d.status != 200 or d.received != release.size]
    hashes = [d.sha256 for d in outcome.downloads if d.sha256]
    outcome.sha256_ok = hashes == [release.sha256]
    if bad or not outcome.sha256_ok:
        first = bad[0] if bad else None
        print(f"  {name}: {len(bad)} bad downloads (e.g. {first}); hashes ok: {hashes}")
    return outcome


def origin_traffic(log: Path) -> tuple[int, int]:
    matches = [_LOG.search(line) for line in log.read_text().splitlines()]
    return len(matches), sum(int(m[2]) for m in matches if m)


class Server:
    """A child process whose output is drained in a thread; its URL once printed."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._printed = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if _URL.search(line):
                self._printed.set()

    def url(self, timeout: float = 60) -> str:
        if not self._printed.wait(timeout):
            raise RuntimeError(f"{self.process.args!r} printed no URL: {self.lines[-20:]}")
        # The last URL of the first line naming one ("edge for <origin> serving at <url>").
        url = next(found[-1] for line in self.lines if (found := _URL.findall(line)))
        return str(url).replace("localhost", "127.0.0.1")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def running(command: list[str]) -> Iterator[Server]:
    server = Server(command)
    try:
        yield server
    finally:
        server.stop()


def origin_command(root: Path, log: Path, delay: float = 0.0) -> list[str]:
    module = "overcast.apps.updates.origin"
    command = [sys.executable, "-m", module, "serve", "--port", "0", "--root", str(root)]
    return [*command, "--access-log", str(log), "--first-byte-delay", str(delay)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_command(scratch: Path, root: Path) -> tuple[list[str], str]:
    port, prefix = free_port(), scratch / "nginx"
    prefix.mkdir()
    temps = "\n".join(
        f"  {kind}_temp_path {prefix}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"{user}\nworker_processes auto;\ndaemon off;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\nevents {{ worker_connections 4096; }}\n"
        f"http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n{temps}\n"
        f"  default_type application/octet-stream;\n"
        f"  server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n"
    )
    command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"]
    return command, f"http://127.0.0.1:{port}"


def wait_for(url: str, timeout: float = 30) -> None:
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((host, int(port))) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answers at {url}")


def edge_available() -> bool:
    command = [sys.executable, "-m", "overcast", "cdn", "serve", "--help"]
    return subprocess.run(command, capture_output=True).returncode == 0


def edge_command(origin_url: str, cache_dir: Path) -> list[str]:
    command = [sys.executable, "-m", "overcast", "cdn", "serve", "--origin", origin_url]
    command += ["--from", "updates/releases", "--http", "--host", "127.0.0.1"]
    return [*command, "--port", str(free_port()), "--cache-dir", str(cache_dir)]


def measure(arguments: argparse.Namespace, scratch: Path, console: Console) -> list[Outcome]:
    root = scratch / "root"
    size = arguments.size_mib * MIB
    console.print(f"publishing a {arguments.size_mib} MiB release into {root} ...")
    manifest = ReleaseStore(root).publish("9.0.0", size, seed=6)
    release, outcomes = manifest.files[0], []
    spawn = multiprocessing.get_context("spawn")
    processes, clients = arguments.client_processes, arguments.clients
    pool = concurrent.futures.ProcessPoolExecutor(processes, mp_context=spawn)
    with pool, ExitStack() as stack:
        list(pool.map(time.sleep, [0.1] * processes))  # the client processes are up
        log = scratch / "origin-a.log"
        with running(origin_command(root, log)) as origin:
            console.print("(a) straight from the origin ...")
            outcome = run_clients(pool, processes, "(a) origin", origin.url(), release, clients)
            outcome.origin = origin_traffic(log)
            outcomes.append(outcome)
        if edge_available():
            log = scratch / "origin-b.log"
            origin = stack.enter_context(running(origin_command(root, log, arguments.delay)))
            edge = stack.enter_context(running(edge_command(origin.url(), scratch / "cache")))
            url = edge.url()
            for name in ("(b) edge, cold", "(b') edge, warm"):
                console.print(f"{name} (origin first-byte delay {arguments.delay:g} s) ...")
                before = origin_traffic(log)
                outcome = run_clients(pool, processes, name, url, release, clients)
                after = origin_traffic(log)
                outcome.origin = (after[0] - before[0], after[1] - before[1])
                outcomes.append(outcome)
        else:
            console.print("[yellow](b) skipped: `overcast cdn serve` is not available yet[/]")
        command, url = nginx_command(scratch, root)
        with running(command):
            wait_for(url)
            console.print("(c) nginx ...")
            outcomes.append(run_clients(pool, processes, "(c) nginx", url, release, clients))
    return outcomes


def report(outcomes: list[Outcome], size: int, console: Console) -> None:
    table = Table(title=f"{len(outcomes[0].downloads)} concurrent downloads of {size // MIB} MiB")
    columns = ("scenario", "origin req", "origin MiB", "served MiB", "wall s", "MiB/s")
    for column in (*columns, "p50 s", "p99 s", "ok", "sha256", "client CPU"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for o in outcomes:
        ok = sum(d.status == 200 and d.received == size for d in o.downloads)
        requests, sent = o.origin if o.origin else ("-", 0)
        table.add_row(
            o.name,
            str(requests),
            f"{sent / MIB:,.0f}" if o.origin else "-",
            f"{o.served / MIB:,.0f}",
            f"{o.wall:.2f}",
            f"{o.throughput:,.0f}",
            f"{o.percentile(0.5):.2f}",
            f"{o.percentile(0.99):.2f}",
            f"{ok}/{len(o.downloads)}",
            "ok" if o.sha256_ok else "WRONG",
            f"{o.client_cpu / o.wall:.0%} of a core",
        )
    console.print(table)
    console.print(f"cores on this machine: {os.cpu_count()} (servers and clients share them)")
    by_name = {o.name[:4]: o for o in outcomes}
    if "(b) " in by_name:
        cold = by_name["(b) "]
        assert cold.origin is not None
        from_edge = 1 - cold.origin[1] / cold.served
        console.print(
            f"edge, cold: {cold.origin[0]} origin request(s) (target exactly 1); "
            f"{from_edge:.2%} of the bytes served by the edge (target ≥ 99%)"
        )
    if "(b')" in by_name and "(c) " in by_name:
        ratio = by_name["(b')"].throughput / by_name["(c) "].throughput
        console.print(f"edge (warm) throughput vs nginx: {ratio:.0%} (target ≥ 80%)")


def tiered(gigabytes: float, tiers: list[list[Any]]) -> float:
    """Cost of ``gigabytes`` under cumulative tiers ``[[up_to_gb | None, usd_per_gb], ...]``."""
    cost, floor = 0.0, 0.0
    for ceiling, price in tiers:
        top = gigabytes if ceiling is None else min(gigabytes, ceiling)
        cost += max(0.0, top - floor) * price
        floor = ceiling if ceiling is not None else floor
    return cost


def monthly_costs(prices: dict[str, Any], arguments: argparse.Namespace, poll_bytes: int) -> Any:
    gb = prices["gb_bytes"]
    polls = arguments.devices * arguments.polls_per_day * 30
    volume = (arguments.devices * arguments.size_mib * MIB + polls * poll_bytes) / gb
    ec2, cdn = prices["ec2_data_transfer_out"], prices["cloudfront"]
    direct = tiered(max(0.0, volume - ec2["free_gb"]), ec2["tiers"])
    requests = arguments.devices + polls
    billed_requests = max(0, requests - cdn["free_requests"])
    edge = tiered(max(0.0, volume - cdn["free_gb"]), cdn["data_transfer_out_tiers"])
    edge += billed_requests / 10_000 * cdn["https_requests_per_10000"]
    return volume, requests, direct, edge


def cost_report(arguments: argparse.Namespace, poll_bytes: int, console: Console) -> None:
    prices = json.loads(PRICES.read_text())
    volume, requests, direct, edge = monthly_costs(prices, arguments, poll_bytes)
    console.print(
        f"\nMonthly cost, {arguments.devices:,} devices x one {arguments.size_mib} MiB update "
        f"+ a manifest poll ({poll_bytes} B) {arguments.polls_per_day}x/day, 30 days: "
        f"{volume:,.0f} GB out, {requests:,} requests (prices read {prices['read_on']}, "
        f"{prices['region']})"
    )
    console.print(f"  EC2 (+ALB) serving devices directly, data transfer out: ${direct:,.2f}")
    console.print(
        f"  CloudFront (HTTPS), data transfer out + requests; origin fetches from EC2 free: "
        f"${edge:,.2f} ({1 - edge / direct:.0%} less)"
    )
    console.print("  (instance and ALB hours left out: the same or smaller behind the CDN)")


def manifest_response_bytes(root: Path) -> int:
    """What one manifest poll moves: the body plus the headers the app sends (~250 B)."""
    return len((root / "latest.json").read_bytes()) + 250


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100, help="concurrent downloads")
    parser.add_argument("--size-mib", type=int, default=100, help="the release's size")
    parser.add_argument("--client-processes", type=int, default=2, help="1 on two cores")
    parser.add_argument("--delay", type=float, default=10.0, help="origin first-byte delay (b)")
    parser.add_argument("--devices", type=int, default=50_000, help="cost profile: devices")
    parser.add_argument("--polls-per-day", type=int, default=24, help="manifest polls/device")
    parser.add_argument("--costs-only", action="store_true", help="skip the measurements")
    arguments = parser.parse_args()
    console = Console(width=150)
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        if not arguments.costs_only:
            outcomes = measure(arguments, scratch, console)
            report(outcomes, arguments.size_mib * MIB, console)
            poll_bytes = manifest_response_bytes(scratch / "root")
        else:
            poll_bytes = 290 + 250
    cost_report(arguments, poll_bytes, console)


if __name__ == "__main__":
    main()
