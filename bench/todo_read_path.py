"""Benchmark: MyToDoList's read path with no cache, the read cache, and the stage cache.

    .venv/bin/python -m bench.todo_read_path [--seconds 10] [--connections 64]

One local cloud (``overcast up --ports auto``) serves the to-do API three ways
(``bench/read_path``: no caches, the table's read cache, the API's stage cache), and a
raw ASGI hello-world runs on the same server and TLS setup. Each target gets one
signed-in user with 50 to-dos, then ``wrk`` (one thread, so the server keeps the
other core) loads authenticated ``GET /todos/{id}`` and ``GET /todos`` over HTTPS on
loopback. Prints requests/s, p50 and p99 per target, and the issue's targets: stage
cache hits >= 50% of the hello-world's requests/s with p99 <= 5 ms, and the read-cache
path >= 1.5x the uncached path. Then, in this process, the function's own duration
per invocation (what Lambda bills, and what DAX shortens) with and without the read
cache. Needs ``wrk`` (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import copy
import functools
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import httpx
from tests.cloud_process import CloudProcess

from bench.todo_api import PASSWORD, Result, wrk

PROJECT = Path(__file__).parent / "read_path"
VARIANTS = {"no cache": "bench-plain", "read cache": "bench-read", "stage cache": "bench-stage"}


def prepare_user(cloud: CloudProcess, service: str) -> tuple[str, str, str]:
    """An ID token, one to-do's URL and the list URL of ``service``, made through its APIs."""
    from overcast.local.credentials import load_or_create_root_credentials

    endpoints = cloud.endpoints
    assert endpoints is not None
    pool = endpoints.services[service].user_pools["users"]
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
    api = endpoints.services[service].api
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(verify=ssl.create_default_context(cafile=endpoints.ca_bundle)) as client:
        for number in range(50):
            created = client.post(
                f"{api}/todos", json={"title": f"To-do {number}"}, headers=headers
            )
            created.raise_for_status()
        for url in (f"{api}/todos/{created.json()['id']}", f"{api}/todos"):
            client.get(url, headers=headers).raise_for_status()  # warm every cache
    return token, f"{api}/todos/{created.json()['id']}", f"{api}/todos"


def run(seconds: int, connections: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as scratch:
        cloud = CloudProcess(Path(scratch) / "data", PROJECT, ["--quiet"])
        cloud.start()
        hello = subprocess.Popen(
            [sys.executable, "-m", "bench.hello_server", str(cloud.data_dir / "tls")],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert hello.stdout is not None
            hello_url = f"https://127.0.0.1:{hello.stdout.readline().strip()}/"
            targets = [("hello world (raw ASGI)", hello_url, {})]
            for label, service in VARIANTS.items():
                token, one_url, list_url = prepare_user(cloud, service)
                auth = {"Authorization": f"Bearer {token}"}
                targets.append((f"GET /todos/{{id}}, {label}", one_url, auth))
                targets.append((f"GET /todos (20 of 50), {label}", list_url, auth))
            return [wrk(name, url, seconds, connections, headers) for name, url, headers in targets]
        finally:
            hello.terminate()
            hello.wait()
            cloud.stop()


def report(results: list[Result], seconds: int, connections: int) -> None:
    by_name = {result.name: result for result in results}
    baseline = results[0].requests_per_second
    print(f"\n{connections} connections, {seconds} s each, HTTPS on loopback, wrk -t1\n")
    print(f"{'target':38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs hello':>9}")
    for result in results:
        print(
            f"{result.name:38} {result.requests_per_second:9.0f} {result.p50_ms:8.2f} "
            f"{result.p99_ms:8.2f} {result.errors:7d} {result.requests_per_second / baseline:9.1%}"
        )
    print("\nTargets:")
    for route in ("GET /todos/{id}", "GET /todos (20 of 50)"):
        stage = by_name[f"{route}, stage cache"]
        share = stage.requests_per_second / baseline
        verdict = "met" if share >= 0.5 and stage.p99_ms <= 5 else "MISSED"
        print(f"  {route}, stage cache: {share:.0%} of hello, p99 {stage.p99_ms:.2f} ms: {verdict}")
        speedup = (
            by_name[f"{route}, read cache"].requests_per_second
            / by_name[f"{route}, no cache"].requests_per_second
        )
        verdict = "met" if speedup >= 1.5 else "MISSED"
        print(f"  {route}, read cache: {speedup:.2f}x the uncached path: {verdict}")


def function_durations(invocations: int = 2000) -> dict[str, float]:
    """Microseconds per invocation of the to-do handler, on SQLite, with and without the
    read cache: the function alone, no HTTP, no process hop."""
    from tests.todo_events import (
        LambdaContext,
        TodoApi,
        id_token_claims,
        load_sample_event,
        memory_folders,
        repository_on,
        rest_event,
    )

    from overcast import spec
    from overcast.apps.todo.handler import create_app
    from overcast.apps.todo.service import todos_table
    from overcast.ports.tables.cached import CachedTable
    from overcast.ports.tables.sqlite import SqliteTable

    durations = {}
    base, claims = load_sample_event(), id_token_claims("user-a")
    with tempfile.TemporaryDirectory() as scratch:
        for label, cached in (("no cache", False), ("read cache", True)):
            table: Any = SqliteTable(todos_table, Path(scratch) / f"{label}.sqlite3")
            if cached:
                table = CachedTable(table, spec.ReadCache())
            app = create_app(repository_on(table), memory_folders())
            last = [TodoApi(app.resolve).create(title=f"To-do {n}") for n in range(50)][-1]
            one = rest_event(
                base, "GET", "/todos/{id}", path_parameters={"id": last["id"]}, claims=claims
            )
            listed = rest_event(base, "GET", "/todos", claims=claims)
            for route, event in (("GET /todos/{id}", one), ("GET /todos (20 of 50)", listed)):
                events = [copy.deepcopy(event) for _ in range(invocations + 1)]
                resolve = functools.partial(app.resolve, context=LambdaContext())
                durations[f"{route}, {label}"] = _mean_microseconds(resolve, events)
    return durations


def _mean_microseconds(call: Callable[[Any], Any], events: list[Any]) -> float:
    call(events.pop())  # warm
    began = time.perf_counter()
    for event in events:
        call(event)
    return (time.perf_counter() - began) / len(events) * 1e6


def report_durations(durations: dict[str, float]) -> None:
    print("\nThe function alone (in process, mean of 2000 invocations):\n")
    for route in ("GET /todos/{id}", "GET /todos (20 of 50)"):
        plain, cached = durations[f"{route}, no cache"], durations[f"{route}, read cache"]
        print(
            f"  {route:24} {plain:6.0f} us -> {cached:6.0f} us with the read cache: "
            f"{plain / cached:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("This benchmark needs wrk (Debian: apt-get install wrk).")
    report(run(args.seconds, args.connections), args.seconds, args.connections)
    report_durations(function_durations())


if __name__ == "__main__":
    main()
