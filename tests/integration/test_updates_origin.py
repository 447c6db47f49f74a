"""The update server (the existing app a CDN fronts), run as its own process on a free
port and driven over real sockets: manifest, release files, ranges, conditional
requests, HEAD, refused paths, the first-byte delay and the access log."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from overcast.apps.updates.releases import ReleaseFile, ReleaseStore

MODULE = "overcast.apps.updates.origin"
SIZE = 3 * 2**20 + 17


@dataclass
class Origin:
    process: subprocess.Popen[str]
    host: str
    port: int
    access_log: Path

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def log_lines(self, count: int) -> list[str]:
        """The access log once it has at least ``count`` lines (written after answering)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = self.access_log.read_text().splitlines()
            if len(lines) >= count:
                return lines
            time.sleep(0.02)
        return self.access_log.read_text().splitlines()


def start_origin(root: Path, log: Path, *extra: str) -> Origin:
    command = [sys.executable, "-m", MODULE, "serve", "--port", "0", "--root", str(root)]
    process = subprocess.Popen(
        [*command, "--access-log", str(log), *extra], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    match = re.fullmatch(r"http://([\d.]+):(\d+)", url)
    assert match, f"the origin printed {url!r}, not its URL"
    return Origin(process, match[1], int(match[2]), log)


def stop(origin: Origin) -> int:
    origin.process.terminate()
    code = origin.process.wait(timeout=10)
    if origin.process.stdout is not None:
        origin.process.stdout.close()
    return code


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Origin]:
    scratch = tmp_path_factory.mktemp("updates")
    ReleaseStore(scratch / "root").publish("2.0.0", SIZE, seed=3)
    running = start_origin(scratch / "root", scratch / "access.log")
    yield running
    stop(running)


@pytest.fixture(scope="module")
def release(origin: Origin) -> ReleaseFile:
    _, body = origin.request("GET", "/latest.json")
    entry = json.loads(body)["files"][0]
    return ReleaseFile(**entry)


def test_manifest_names_the_release_with_its_size_and_hash(origin: Origin) -> None:
    response, body = origin.request("GET", "/latest.json")

    manifest = json.loads(body)
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert manifest["version"] == "2.0.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["released_at"])
    [entry] = manifest["files"]
    assert entry["url"] == "/releases/2.0.0/update-2.0.0.bin"
    assert entry["size"] == SIZE
    assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])


def test_release_file_is_sent_whole_with_validators_and_no_cache_control(
    origin: Origin, release: ReleaseFile
) -> None:
    response, body = origin.request("GET", release.url)

    assert response.status == 200
    assert len(body) == release.size
    assert hashlib.sha256(body).hexdigest() == release.sha256
    assert response.getheader("ETag") == f'"{release.sha256}"'
    assert response.getheader("Last-Modified", "").endswith(" GMT")
    assert response.getheader("Accept-Ranges") == "bytes"
    assert response.getheader("Cache-Control") is None


def test_head_answers_the_headers_of_get_without_a_body(
    origin: Origin, release: ReleaseFile
) -> None:
    response, body = origin.request("HEAD", release.url)

    assert response.status == 200
    assert response.getheader("Content-Length") == str(release.size)
    assert response.getheader("ETag") == f'"{release.sha256}"'
    assert body == b""


def test_a_byte_range_is_answered_206_with_exactly_those_bytes(
    origin: Origin, release: ReleaseFile
) -> None:
    _, whole = origin.request("GET", release.url)

    middle, middle_body = origin.request("GET", release.url, {"Range": "bytes=1000-2999"})
    tail, tail_body = origin.request("GET", release.url, {"Range": "bytes=-10"})

    assert middle.status == tail.status == 206
    assert middle.getheader("Content-Range") == f"bytes 1000-2999/{release.size}"
    assert middle_body == whole[1000:3000]
    assert tail_body == whole[-10:]


def test_a_range_past_the_end_is_416_with_the_size(origin: Origin, release: ReleaseFile) -> None:
    response, _ = origin.request("GET", release.url, {"Range": f"bytes={release.size}-"})

    assert response.status == 416
    assert response.getheader("Content-Range") == f"bytes */{release.size}"


def test_a_stale_if_range_gets_the_whole_file(origin: Origin, release: ReleaseFile) -> None:
    headers = {"Range": "bytes=0-9", "If-Range": '"an-older-etag"'}

    response, body = origin.request("GET", release.url, headers)

    assert response.status == 200
    assert len(body) == release.size


def test_revalidating_with_the_current_etag_is_304_without_a_body(
    origin: Origin, release: ReleaseFile
) -> None:
    for path in (release.url, "/latest.json"):
        first, _ = origin.request("GET", path)
        etag = first.getheader("ETag", "")

        again, body = origin.request("GET", path, {"If-None-Match": etag})
        changed, changed_body = origin.request("GET", path, {"If-None-Match": '"other"'})

        assert (again.status, body) == (304, b"")
        assert again.getheader("ETag") == etag
        assert changed.status == 200
        assert changed_body


@pytest.mark.parametrize(
    "path",
    [
        "/releases/../../etc/passwd",
        "/releases/2.0.0/../../../etc/passwd",
        "/releases/%2e%2e/%2e%2e/etc/passwd",
        "/releases/2.0.0/..%2f..%2f..%2fetc%2fpasswd",
        "/releases/2.0.0/%2E%2E%2F%2E%2E%2Flatest.json",
        "/releases/..%5c..%5cetc%5cpasswd/x",
        "/releases/2.0.0/update-2.0.0.bin%00.txt",
        "//etc/passwd",
        "/etc/passwd",
        "/",
        "/releases/2.0.0/%ff%fe",
    ],
)
def test_paths_outside_the_releases_are_refused(origin: Origin, path: str) -> None:
    response, body = origin.request("GET", path)

    assert response.status in (400, 404)
    assert b"root:" not in body


def test_other_methods_are_refused(origin: Origin, release: ReleaseFile) -> None:
    response, _ = origin.request("DELETE", release.url)

    assert response.status == 501


def test_access_log_has_one_line_per_request_with_status_and_bytes_sent(tmp_path: Path) -> None:
    root = tmp_path / "root"
    ReleaseStore(root).publish("1.0.0", 5000)
    fresh = start_origin(root, tmp_path / "access.log")
    try:
        fresh.request("GET", "/releases/1.0.0/update-1.0.0.bin")
        fresh.request("HEAD", "/latest.json")
        fresh.request("GET", "/missing")
        fresh.request("GET", "/releases/1.0.0/update-1.0.0.bin", {"Range": "bytes=0-99"})
        lines = fresh.log_lines(4)
    finally:
        stop(fresh)

    summary = [re.search(r'"(\w+) (\S+) HTTP/1.1" (\d+) (\d+)$', line) for line in lines]
    # Each line is written once its response is sent, by that request's thread: the client
    # may have its answer (and send the next request) before the line is out, so the
    # lines are compared as a set of requests, not in order.
    assert sorted(
        match.groups() if match else line for match, line in zip(summary, lines, strict=True)
    ) == sorted(
        [
            ("GET", "/releases/1.0.0/update-1.0.0.bin", "200", "5000"),
            ("HEAD", "/latest.json", "200", "0"),
            ("GET", "/missing", "404", str(len("Not found.\n"))),
            ("GET", "/releases/1.0.0/update-1.0.0.bin", "206", "100"),
        ]
    )


def test_first_byte_delay_holds_every_answer_back(tmp_path: Path) -> None:
    slow = start_origin(tmp_path / "root", tmp_path / "access.log", "--first-byte-delay", "0.8")
    try:
        began = time.monotonic()
        response, _ = slow.request("GET", "/latest.json")
        waited = time.monotonic() - began
    finally:
        stop(slow)

    assert response.status == 200
    assert waited >= 0.8


def test_an_empty_root_gets_a_demo_release_and_sigterm_stops_the_server(tmp_path: Path) -> None:
    demo = start_origin(tmp_path / "empty", tmp_path / "access.log")
    try:
        response, body = demo.request("GET", "/latest.json")
    finally:
        code = stop(demo)

    assert response.status == 200
    assert json.loads(body)["version"] == "1.0.0"
    assert code == 0


def test_publish_command_writes_the_release_and_prints_its_manifest(tmp_path: Path) -> None:
    command = [sys.executable, "-m", MODULE, "publish", "--root", str(tmp_path)]
    done = subprocess.run(
        [*command, "--version", "3.1.0", "--size", "1MiB"],
        capture_output=True,
        text=True,
        check=True,
    )

    printed = json.loads(done.stdout)
    assert printed["files"][0]["size"] == 2**20
    assert json.loads((tmp_path / "latest.json").read_text()) == printed


def test_publishing_an_existing_version_fails_with_a_clear_message(tmp_path: Path) -> None:
    ReleaseStore(tmp_path).publish("1.0.0", 10)
    command = [sys.executable, "-m", MODULE, "publish", "--root", str(tmp_path)]

    done = subprocess.run(
        [*command, "--version", "1.0.0", "--size", "10"], capture_output=True, text=True
    )

    assert done.returncode == 2
    assert "already published" in done.stderr


def test_a_file_missing_from_the_release_manifest_gets_its_etag_from_its_content(
    origin: Origin,
) -> None:
    response, body = origin.request("GET", "/releases/2.0.0/release.json")

    assert response.status == 200
    assert response.getheader("ETag") == f'"{hashlib.sha256(body).hexdigest()}"'
    assert json.loads(body)["version"] == "2.0.0"
