"""The existing update server: an ordinary, non-serverless web app (it stands for an EC2
instance) that Overcast fronts with a CDN and never changes. Standard library only.

    python -m overcast.apps.updates.origin serve --port P --root DIR [--host 127.0.0.1]
        [--first-byte-delay SECONDS] [--access-log FILE]
    python -m overcast.apps.updates.origin publish --root DIR --version V --size 100MiB

``serve`` answers ``GET``/``HEAD`` for ``/latest.json`` (the manifest) and
``/releases/<version>/<file>`` (immutable files, sent with ``sendfile``), with an ETag
from the content's SHA-256, ``Last-Modified``, single byte ranges and conditional
requests (see :mod:`.ranges`). Like many legacy apps it sends no ``Cache-Control`` at
all: how long a CDN keeps what it answers is the distribution's cache policies' choice.
It writes one access-log line per request (Common Log Format: status and body bytes
sent), prints its URL once listening, and stops on SIGINT or SIGTERM. With an empty
root it first publishes a small demo release. ``--first-byte-delay`` makes every
answer wait that long first: a busy origin.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from overcast.apps.updates.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    http_date,
    not_modified,
    parse_range,
    range_applies,
)
from overcast.apps.updates.releases import (
    MANIFEST_NAME,
    RELEASES_DIR,
    ReleaseError,
    ReleaseStore,
    parse_size,
)

_SENDFILE_CHUNK = 4 * 2**20


@dataclass(frozen=True)
class Resource:
    """Something the app serves: bytes in memory (the manifest) or a file."""

    content_type: str
    size: int
    etag: str
    last_modified: float
    body: bytes | Path


class AccessLog:
    """One line per request, Common Log Format, flushed as written (thread-safe)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, client: str, request_line: str, status: int, sent: int) -> None:
        when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        request = request_line.replace('"', "%22").encode("ascii", "backslashreplace").decode()
        with self._lock:
            self._stream.write(f'{client} - - [{when}] "{request}" {status} {sent}\n')
            self._stream.flush()


class ContentHashes:
    """SHA-256 of release files: from the release's manifest, else hashed once."""

    def __init__(self, store: ReleaseStore) -> None:
        self._store = store
        self._known: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    def sha256(self, version: str, name: str, path: Path, stat: os.stat_result) -> str:
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            found = self._known.get(key)
        if found is None:
            release = self._store.release(version)
            listed = release.file(name) if release else None
            if listed is not None and listed.size == stat.st_size:
                found = listed.sha256
            else:
                found = _hash_file(path)
            with self._lock:
                self._known[key] = found
        return found


def _hash_file(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


class OriginServer(ThreadingHTTPServer):
    """The app's HTTP server: its releases, its first-byte delay, its access log."""

    daemon_threads = True
    # The listen backlog: socketserver's default (5) drops connections under a burst.
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        store: ReleaseStore,
        *,
        access_log: AccessLog,
        first_byte_delay: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(address, OriginHandler)
        self.store = store
        self.hashes = ContentHashes(store)
        self.access_log = access_log
        self.first_byte_delay = first_byte_delay
        self.sleep = sleep

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class OriginHandler(BaseHTTPRequestHandler):
    """GET and HEAD on the manifest and release files; nothing else."""

    server: OriginServer
    protocol_version = "HTTP/1.1"
    server_version = "updates-origin/1.0"
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 60
    _status: int | None = None
    _sent = 0

    def handle_one_request(self) -> None:
        self._status, self._sent = None, 0
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            if self._status is not None:
                client = self.client_address[0]
                self.server.access_log.write(client, self.requestline, self._status, self._sent)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self._status = int(code) if str(code).isdigit() else None

    def log_message(self, format: str, *args: Any) -> None:
        """Errors the base class reports go nowhere: the access log has the status."""

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        if self.server.first_byte_delay > 0:
            self.server.sleep(self.server.first_byte_delay)
        try:
            resource = self._find()
        except UnicodeDecodeError:
            self._send_plain(400, "The path is not valid UTF-8 once decoded.\n")
            return
        if resource is None:
            self._send_plain(404, "Not found.\n")
            return
        if not_modified(
            self.headers.get("If-None-Match"),
            self.headers.get("If-Modified-Since"),
            resource.etag,
            resource.last_modified,
        ):
            self._send_head(304, resource, None)
            return
        try:
            wanted = self._wanted_range(resource)
        except RangeNotSatisfiable:
            self._send_plain(416, "", content_range=f"bytes */{resource.size}")
            return
        self._send_head(206 if wanted else 200, resource, wanted)
        if send_body:
            self._send_body(resource, wanted or ByteRange(0, resource.size - 1))

    def _wanted_range(self, resource: Resource) -> ByteRange | None:
        if not range_applies(self.headers.get("If-Range"), resource.etag, resource.last_modified):
            return None
        return parse_range(self.headers.get("Range"), resource.size)

    def _find(self) -> Resource | None:
        """What the path names: only ``/latest.json`` and ``/releases/<v>/<file>``,
        each segment percent-decoded and checked on its own (no traversal)."""
        path = self.path.split("?", 1)[0]
        if not path.startswith("/"):
            return None
        segments = [unquote(raw, errors="strict") for raw in path[1:].split("/")]
        if segments == [MANIFEST_NAME]:
            return self._manifest()
        if len(segments) == 3 and segments[0] == RELEASES_DIR:
            return self._release_file(segments[1], segments[2])
        return None

    def _manifest(self) -> Resource | None:
        try:
            with self.server.store.manifest_path.open("rb") as file:
                body, stat = file.read(), os.fstat(file.fileno())
        except FileNotFoundError:
            return None
        etag = f'"{hashlib.sha256(body).hexdigest()}"'
        return Resource("application/json", len(body), etag, stat.st_mtime, body)

    def _release_file(self, version: str, name: str) -> Resource | None:
        path = self.server.store.file_path(version, name)
        if path is None:
            return None
        stat = path.stat()
        digest = self.server.hashes.sha256(version, name, path, stat)
        kind = "application/json" if path.suffix == ".json" else "application/octet-stream"
        return Resource(kind, stat.st_size, f'"{digest}"', stat.st_mtime, path)

    def _send_head(self, status: int, resource: Resource, wanted: ByteRange | None) -> None:
        self.send_response(status)
        self.send_header("ETag", resource.etag)
        self.send_header("Last-Modified", http_date(resource.last_modified))
        if status != 304:
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Accept-Ranges", "bytes")
            length = wanted.length if wanted else resource.size
            self.send_header("Content-Length", str(length))
        if wanted:
            self.send_header("Content-Range", wanted.content_range(resource.size))
        self.end_headers()

    def _send_plain(self, status: int, text: str, *, content_range: str = "") -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if content_range:
            self.send_header("Content-Range", content_range)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            self._sent += len(body)

    def _send_body(self, resource: Resource, wanted: ByteRange) -> None:
        if wanted.length <= 0:
            return
        if isinstance(resource.body, bytes):
            self.wfile.write(resource.body[wanted.start : wanted.end + 1])
            self._sent += wanted.length
            return
        with resource.body.open("rb") as file:
            offset, end = wanted.start, wanted.end + 1
            while offset < end:
                sent = self.connection.sendfile(file, offset, min(_SENDFILE_CHUNK, end - offset))
                if sent == 0:
                    self.close_connection = True
                    return
                offset += sent
                self._sent += sent


def _stop_on_signals(server: OriginServer) -> None:
    """SIGINT and SIGTERM stop the server (from another thread: shutdown() waits)."""

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def serve(arguments: argparse.Namespace) -> int:
    store = ReleaseStore(Path(arguments.root))
    if store.ensure_demo() is not None:
        print(f"published a demo release in {arguments.root}", file=sys.stderr)
    log_file = open(arguments.access_log, "a") if arguments.access_log else None  # noqa: SIM115
    try:
        server = OriginServer(
            (arguments.host, arguments.port),
            store,
            access_log=AccessLog(log_file or sys.stderr),
            first_byte_delay=arguments.first_byte_delay,
        )
        _stop_on_signals(server)
        print(server.url, flush=True)
        with server:
            server.serve_forever()
    finally:
        if log_file:
            log_file.close()
    return 0


def publish(arguments: argparse.Namespace) -> int:
    store = ReleaseStore(Path(arguments.root))
    manifest = store.publish(arguments.version, parse_size(arguments.size), seed=arguments.seed)
    sys.stdout.write(manifest.to_json().decode())
    return 0


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="python -m overcast.apps.updates.origin")
    commands = main_parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="serve the releases under --root")
    serving.add_argument("--root", required=True, help="the releases' directory")
    serving.add_argument("--port", type=int, required=True, help="0 picks a free port")
    serving.add_argument("--host", default="127.0.0.1")
    serving.add_argument("--first-byte-delay", type=float, default=0.0, metavar="SECONDS")
    serving.add_argument("--access-log", metavar="FILE", help="append here (default stderr)")
    serving.set_defaults(run=serve)
    publishing = commands.add_parser("publish", help="publish a release of random bytes")
    publishing.add_argument("--root", required=True)
    publishing.add_argument("--version", required=True)
    publishing.add_argument("--size", required=True, help="e.g. 8MiB, 100MiB")
    publishing.add_argument("--seed", type=int, default=0, help="same seed, same bytes")
    publishing.set_defaults(run=publish)
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        result: int = arguments.run(arguments)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
