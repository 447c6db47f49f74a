"""An in-memory object store: the fake for unit tests, with the filesystem adapter's semantics.

Each object version is an immutable ``bytes`` body plus its :class:`ObjectInfo`; a
commit swaps the version under the key in one step under a lock, so a reader sees
the old version or the new one, and a reader opened before an overwrite or delete
keeps its version (it holds the old ``bytes``), as an open file does on the
filesystem. A conditional commit checks its precondition under the same lock. Keys
are kept sorted for listing, which follows :mod:`overcast.ports.objects.listing`
exactly as the filesystem adapter does.
Validation (keys, ranges) is the port's own, so what the fake refuses every adapter
refuses.
"""

from __future__ import annotations

import bisect
import builtins
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from overcast.ports.objects.base import (
    CHUNK_SIZE,
    ByteRange,
    Clock,
    ListPage,
    ObjectAttributes,
    ObjectInfo,
    ObjectReader,
    ObjectStore,
    ObjectWriter,
    WritePrecondition,
    check_key,
    last_modified,
    resolve_range,
    utc_now,
)
from overcast.ports.objects.exceptions import NoSuchKey
from overcast.ports.objects.listing import list_page


@dataclass(frozen=True)
class _Version:
    info: ObjectInfo
    body: bytes


class MemoryObjectStore(ObjectStore):
    """A thread-safe in-memory :class:`~overcast.ports.objects.ObjectStore` for tests."""

    def __init__(self, name: str = "bucket", *, clock: Clock = utc_now) -> None:
        self.name = name
        self._clock = clock
        self._versions: dict[str, _Version] = {}
        self._keys: builtins.list[str] = []  # sorted
        self._lock = threading.Lock()

    def writer(self, key: str) -> ObjectWriter:
        check_key(key)
        return _MemoryWriter(key, self._clock, self._commit)

    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        version = self._version(key)
        resolved = resolve_range(byte_range, version.info.size)
        return _MemoryReader(version, resolved)

    def head(self, key: str) -> ObjectInfo:
        return self._version(key).info

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            if self._versions.pop(key, None) is not None:
                del self._keys[bisect.bisect_left(self._keys, key)]

    def list(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        limit: int = 1000,
    ) -> ListPage:
        return list_page(self._scan, prefix, delimiter, start_after, limit)

    # --- internals --------------------------------------------------------------

    def _version(self, key: str) -> _Version:
        check_key(key)
        with self._lock:
            version = self._versions.get(key)
        if version is None:
            raise NoSuchKey(key)
        return version

    def _commit(self, version: _Version, precondition: WritePrecondition | None) -> None:
        key = version.info.key
        with self._lock:
            if precondition is not None:
                current = self._versions.get(key)
                precondition.check(key, None if current is None else current.info)
            if key not in self._versions:
                bisect.insort(self._keys, key)
            self._versions[key] = version

    def _scan(
        self, lower: str, inclusive: bool, upper: str | None, count: int
    ) -> Sequence[ObjectInfo]:
        found: builtins.list[ObjectInfo] = []
        with self._lock:
            keys = self._keys
            at = (bisect.bisect_left if inclusive else bisect.bisect_right)(keys, lower)
            while at < len(keys) and len(found) < count and (upper is None or keys[at] < upper):
                found.append(self._versions[keys[at]].info)
                at += 1
        return found


_Publish = Callable[[_Version, WritePrecondition | None], None]


class _MemoryWriter(ObjectWriter):
    def __init__(self, key: str, clock: Clock, publish: _Publish) -> None:
        super().__init__()
        self._key = key
        self._clock = clock
        self._publish = publish
        self._chunks: list[bytes] = []
        self._open = True

    def _write(self, chunk: bytes) -> None:
        self._check_open()
        self._chunks.append(bytes(chunk))

    def _commit(
        self, attributes: ObjectAttributes, etag: str | None, precondition: WritePrecondition | None
    ) -> ObjectInfo:
        self._check_open()
        info = ObjectInfo(
            key=self._key,
            size=self._size,
            etag=etag or self.md5_hex(),
            last_modified=last_modified(self._clock),
            attributes=_copied(attributes),
        )
        try:
            self._publish(_Version(info, b"".join(self._chunks)), precondition)
        finally:
            self.abort()
        return info

    def abort(self) -> None:
        self._open = False
        self._chunks = []

    def _check_open(self) -> None:
        if not self._open:
            raise ValueError("This writer has been committed or aborted.")


class _MemoryReader(ObjectReader):
    def __init__(self, version: _Version, byte_range: ByteRange | None) -> None:
        self.info = version.info
        self.byte_range = byte_range
        body = memoryview(version.body)
        if byte_range is not None:
            body = body[byte_range.first : byte_range.last + 1]
        self._body: memoryview | None = body

    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        if self._body is None:
            raise ValueError("This reader is closed.")
        body = self._body
        for at in range(0, len(body), size):
            yield bytes(body[at : at + size])

    def close(self) -> None:
        self._body = None


def _copied(attributes: ObjectAttributes) -> ObjectAttributes:
    """A copy the caller cannot change afterwards (its mappings are the caller's)."""
    return replace(
        attributes, metadata=dict(attributes.metadata), checksums=dict(attributes.checksums)
    )
