"""Benchmark: how fast `overcast up` is ready, and how much memory it holds when idle.

    .venv/bin/python -m bench.startup [--runs 5]

Each run starts a local cloud on free ports in a fresh data directory (first start:
CA and keys are created) and again on the same directory (a restart), measures the
time from spawn to ``endpoints.json``, then the process's resident memory after
2 s idle. The baseline, measured in the same run, is a bare ``python -c pass``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.cloud_process import CloudProcess


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its children (the functions' environments)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024 + sum(rss_mb(int(child)) for child in children)
    raise RuntimeError("no VmRSS")


def timed_start(cloud: CloudProcess) -> tuple[float, float]:
    began = time.perf_counter()
    cloud.start()
    ready = time.perf_counter() - began
    time.sleep(2)
    assert cloud.process is not None
    memory = rss_mb(cloud.process.pid)
    cloud.stop()
    return ready, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    baseline = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - began)
    first, restart, memory = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            cloud = CloudProcess(Path(scratch) / "data", Path(__file__).parent, ["--quiet"])
            ready, rss = timed_start(cloud)
            first.append(ready)
            ready, rss = timed_start(cloud)
            restart.append(ready)
            memory.append(rss)
    base = statistics.median(baseline)
    print(f"\nmedian of {runs} runs")
    print(f"{'python -c pass (baseline)':32} {base:6.2f} s")
    for name, values in (("overcast up, first start", first), ("overcast up, restart", restart)):
        median = statistics.median(values)
        print(
            f"{name:32} {median:6.2f} s  ({median / base:.0f}x baseline, max {max(values):.2f} s)"
        )
    rss = statistics.median(memory)
    print(f"{'idle RSS, with environments':32} {rss:6.0f} MB (max {max(memory):.0f})")


if __name__ == "__main__":
    main()
