"""Bodies in and out of the filesystem store (for :mod:`.filesystem`): one system call
per chunk, and nothing kept in memory but the chunk.

A :class:`FilesystemReader` holds the blob's file descriptor, so it reads the version
it opened even after the blob is unlinked by an overwrite; ``fileno()``, ``offset``
and ``length`` let a server hand the body to ``os.sendfile`` instead of reading it.
A :class:`FilesystemWriter` appends to a temporary file and hashes as it goes. Both
release their file when closed, or when garbage-collected if nobody closed them.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from overcast.ports.objects.base import (
    CHUNK_SIZE,
    ByteRange,
    Clock,
    ObjectAttributes,
    ObjectInfo,
    ObjectReader,
    ObjectWriter,
    WritePrecondition,
    last_modified,
)
from overcast.ports.objects.exceptions import ObjectStoreUnavailable

Publish = Callable[[Path, ObjectInfo, WritePrecondition | None], None]
"""Make a complete, fsynced temporary file the body of an object (if the precondition
holds, checked atomically with it)."""


class FilesystemReader(ObjectReader):
    """An open object version: ``length`` bytes of the blob at ``offset``."""

    def __init__(
        self, info: ObjectInfo, byte_range: ByteRange | None, descriptor: int, path: Path
    ) -> None:
        self.info = info
        self.byte_range = byte_range
        self.path = path  # for diagnostics: an overwrite may unlink it; read fileno()
        self.offset = 0 if byte_range is None else byte_range.first
        self.length = info.size if byte_range is None else byte_range.length
        self._descriptor = descriptor
        self._closer = weakref.finalize(self, os.close, descriptor)
        if self.length:
            _advise_sequential(descriptor, self.offset, self.length)

    def fileno(self) -> int:
        """The blob's file descriptor (for ``os.sendfile``); valid until :meth:`close`."""
        if not self._closer.alive:
            raise ValueError("This reader is closed.")
        return self._descriptor

    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        descriptor = self.fileno()
        position, end = self.offset, self.offset + self.length
        while position < end:
            try:
                chunk = os.pread(descriptor, min(size, end - position), position)
            except OSError as exc:
                raise ObjectStoreUnavailable(f"Cannot read {self.info.key!r}: {exc}.") from exc
            if not chunk:
                raise ObjectStoreUnavailable(
                    f"The body of {self.info.key!r} ({self.path}) is shorter than recorded."
                )
            position += len(chunk)
            yield chunk

    def close(self) -> None:
        self._closer()


class FilesystemWriter(ObjectWriter):
    """A new object being written to the temporary file ``path``."""

    def __init__(self, key: str, path: Path, clock: Clock, publish: Publish) -> None:
        super().__init__()
        self.key = key
        self.path = path
        self._clock = clock
        self._publish = publish
        self._file: BinaryIO = open(path, "xb")  # noqa: SIM115  (closed by commit or abort)
        self._discarder = weakref.finalize(self, _discard, self._file, path)
        self._open = True

    def _write(self, chunk: bytes) -> None:
        if not self._open:
            raise ValueError("This writer has been committed or aborted.")
        try:
            self._file.write(chunk)
        except OSError as exc:
            raise ObjectStoreUnavailable(f"Cannot write {self.key!r}: {exc}.") from exc

    def _commit(
        self, attributes: ObjectAttributes, etag: str | None, precondition: WritePrecondition | None
    ) -> ObjectInfo:
        if not self._open:
            raise ValueError("This writer has been committed or aborted.")
        self._open = False  # whatever happens next, this writer is done
        info = ObjectInfo(
            key=self.key,
            size=self._size,
            etag=etag or self.md5_hex(),
            last_modified=last_modified(self._clock),
            attributes=attributes,
        )
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        except OSError as exc:
            self.abort()
            raise ObjectStoreUnavailable(f"Cannot write {self.key!r}: {exc}.") from exc
        try:
            self._publish(self.path, info, precondition)
        except BaseException:
            self.abort()
            raise
        self._discarder.detach()
        return info

    def abort(self) -> None:
        self._open = False
        self._discarder()


def _discard(file: BinaryIO, path: Path) -> None:
    with contextlib.suppress(OSError):
        file.close()
    with contextlib.suppress(OSError):
        os.unlink(path)  # published already, or gone; what remains, recover() removes


def _advise_sequential(descriptor: int, offset: int, length: int) -> None:
    """Tell the kernel the range will be read once, in order (a larger read-ahead)."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):  # only a hint
            advise(descriptor, offset, length, os.POSIX_FADV_SEQUENTIAL)
