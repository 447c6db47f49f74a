"""Benchmark: the to-do API over HTTPS against a raw ASGI hello-world, in the same run.

    .venv/bin/python -m bench.todo_api [--seconds 10] [--connections 64]

Starts a real local cloud (``overcast up --ports auto``) and a hello-world served by
the same server and TLS setup, then loads each with ``wrk`` (one client thread, so the
server keeps the other core) on loopback, bounded in time. Prints requests/s, p50 and
p99 per target and the ratio of each target's requests/s to the hello-world's.
Needs ``wrk`` (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
from tests.cloud_process import CloudProcess

PASSWORD = "Bench-Password-1"
EMPTY_PROJECT = Path(__file__).parent


@dataclass(frozen=True)
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk(name: str, url: str, seconds: int, connections: int, headers: dict[str, str]) -> Result:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for header, value in headers.items():
        command += ["-H", f"{header}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Result(name, rate, _percentile(output, "50"), _percentile(output, "99"), errors)


def _percentile(output: str, which: str) -> float:
    value, unit = re.search(rf"\s{which}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def prepare_user(cloud: CloudProcess) -> tuple[str, str, str]:
    """An ID token, one to-do's URL and the list URL, made through the real APIs."""
    from overcast.local.credentials import load_or_create_root_credentials

    endpoints = cloud.endpoints
    assert endpoints is not None
    pool = endpoints.services["todo"].user_pools["users"]
    credentials = load_or_create_root_credentials(cloud.data_dir)
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=endpoints.aws["cognito-idp"],
        region_name=endpoints.region,
        verify=endpoints.ca_bundle,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
    )
    email = "bench@example.com"
    idp.admin_create_user(UserPoolId=pool.id, Username=email, MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool.id, Username=email, Password=PASSWORD, Permanent=True
    )
    token = idp.initiate_auth(
        ClientId=pool.clients["web"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]
    api = endpoints.services["todo"].api
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(verify=ssl.create_default_context(cafile=endpoints.ca_bundle)) as client:
        for number in range(50):
            created = client.post(
                f"{api}/todos", json={"title": f"To-do {number}"}, headers=headers
            )
            created.raise_for_status()
    return token, f"{api}/todos/{created.json()['id']}", f"{api}/todos"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("This benchmark needs wrk (Debian: apt-get install wrk).")
    with tempfile.TemporaryDirectory() as scratch:
        cloud = CloudProcess(Path(scratch) / "data", EMPTY_PROJECT, ["--quiet"])
        cloud.start()
        hello = subprocess.Popen(
            [sys.executable, "-m", "bench.hello_server", str(cloud.data_dir / "tls")],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert hello.stdout is not None
            hello_url = f"https://127.0.0.1:{hello.stdout.readline().strip()}/"
            token, one_url, list_url = prepare_user(cloud)
            auth = {"Authorization": f"Bearer {token}"}
            n, c = args.seconds, args.connections
            results = [
                wrk("hello world (raw ASGI)", hello_url, n, c, {}),
                wrk("GET /todos/{id}", one_url, n, c, auth),
                wrk("GET /todos (20 of 50)", list_url, n, c, auth),
            ]
        finally:
            hello.terminate()
            hello.wait()
            cloud.stop()
    baseline = results[0].requests_per_second
    print(f"\n{args.connections} connections, {args.seconds} s each, HTTPS on loopback, wrk -t1\n")
    print(f"{'target':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs hello':>9}")
    for result in results:
        print(
            f"{result.name:28} {result.requests_per_second:9.0f} {result.p50_ms:8.2f} "
            f"{result.p99_ms:8.2f} {result.errors:7d} {result.requests_per_second / baseline:9.1%}"
        )


if __name__ == "__main__":
    main()
