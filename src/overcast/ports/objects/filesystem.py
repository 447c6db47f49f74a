"""The local object store: each bucket a directory of blobs named by a SQLite catalog.

Layout of a bucket (see :mod:`.filesystem_catalog` for the catalog)::

    <root>/<bucket>/catalog.sqlite3   one row per object: key -> blob, size, etag, ...
    <root>/<bucket>/blobs/<id>        one file per object version, named at random
    <root>/<bucket>/tmp/<id>          bodies being written

Keys never become paths: a key is a value in the catalog, and files are named by
random ids. So no key, whatever it holds (``../../etc/passwd``, ``/x``, ``%2F``),
can name a file outside its bucket. Bucket names are checked against S3's naming
rule before they become a directory name.

How S3's guarantees are kept, across threads and processes:

- **Atomic, durable writes.** A writer streams into ``tmp/<id>``, hashing MD5 as it
  goes. ``commit`` fsyncs the file, renames it into ``blobs/`` and fsyncs that
  directory, then upserts the row in one transaction, then unlinks the blob it
  replaced. A conditional commit (``commit_if``) checks its precondition against the
  row inside that same transaction; when it fails, the new blob is unlinked. Readers
  see the old row or the new one, never a partial body; a row only ever names a blob
  already on disk.
- **Readers keep their version.** A reader opens the blob the row names and reads
  that file descriptor; an overwrite or delete unlinks the name, and POSIX keeps
  the open file readable. If the blob vanished between reading the row and opening
  it (a concurrent overwrite), the reader reads the row again.
- **Crashes leave garbage, never damage.** A crash may leave a temporary file, or a
  blob no row names (renamed but not yet recorded, or replaced but not yet
  unlinked). :meth:`FilesystemBuckets.recover`, run at start-up by the one process
  that owns the data directory, removes them.

Errors: ``OSError`` becomes :class:`ObjectStoreUnavailable` (or
:class:`NoSuchBucket` when the bucket's directory is gone).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import functools
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from overcast.ports.objects.base import (
    BucketInfo,
    ByteRange,
    Clock,
    ListPage,
    ObjectInfo,
    ObjectStore,
    WritePrecondition,
    check_bucket_name,
    check_key,
    last_modified,
    resolve_range,
    utc_now,
)
from overcast.ports.objects.exceptions import (
    BucketAlreadyExists,
    InvalidBucketName,
    NoSuchBucket,
    NoSuchKey,
    ObjectStoreUnavailable,
)
from overcast.ports.objects.filesystem_catalog import Catalog, Entry, bucket_created
from overcast.ports.objects.filesystem_streams import FilesystemReader, FilesystemWriter
from overcast.ports.objects.listing import list_page

CATALOG = "catalog.sqlite3"
BLOBS = "blobs"
TMP = "tmp"
_STAGING = ".staging"  # bucket names begin with a letter or digit: no clash
_TRASH = ".trash"
# A reader retries when an overwrite unlinks the blob between its two reads.
_OPEN_ATTEMPTS = 20

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _translated(
    method: Callable[Concatenate[FilesystemObjectStore, _P], _R],
) -> Callable[Concatenate[FilesystemObjectStore, _P], _R]:
    """Re-raise ``OSError`` as the port's own errors."""

    @functools.wraps(method)
    def translating(store: FilesystemObjectStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(store, *args, **kwargs)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) and not store.directory.is_dir():
                raise NoSuchBucket(store.name) from exc
            raise ObjectStoreUnavailable(f"Bucket {store.name!r}: {exc}.") from exc

    return translating


class FilesystemObjectStore(ObjectStore):
    """The objects of the bucket in ``directory`` (made by :class:`FilesystemBuckets`).

    Safe to share between threads; other processes may open the same bucket.
    """

    def __init__(
        self, name: str, directory: Path, *, clock: Clock = utc_now, busy_timeout: float = 30.0
    ) -> None:
        self.name = name
        self.directory = Path(directory)
        self._clock = clock
        self._catalog = Catalog(self.directory / CATALOG, name, busy_timeout=busy_timeout)
        self._blobs = f"{self.directory / BLOBS}{os.sep}"
        self._tmp = self.directory / TMP

    @_translated
    def writer(self, key: str) -> FilesystemWriter:
        check_key(key)
        path = self._tmp / uuid.uuid4().hex
        return FilesystemWriter(key, path, self._clock, self._publish)

    @_translated
    def open(self, key: str, byte_range: ByteRange | None = None) -> FilesystemReader:
        check_key(key)
        for _ in range(_OPEN_ATTEMPTS):
            entry = self._find(key)
            resolved = resolve_range(byte_range, entry.info.size)
            path = self._blobs + entry.blob
            try:
                descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # overwritten or deleted since we read the row: read it again
            return FilesystemReader(entry.info, resolved, descriptor, Path(path))
        raise ObjectStoreUnavailable(
            f"Bucket {self.name!r}: the body of {key!r} is missing from {self._blobs}."
        )

    def head(self, key: str) -> ObjectInfo:
        check_key(key)
        return self._find(key).info

    def delete(self, key: str) -> None:
        check_key(key)
        blob = self._catalog.remove(key)
        if blob is not None:
            _discard(self._blobs + blob)

    def list(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        limit: int = 1000,
    ) -> ListPage:
        return list_page(self._scan, prefix, delimiter, start_after, limit)

    def info(self) -> BucketInfo | None:
        """The bucket's name and creation time; ``None`` if it is being deleted."""
        meta = self._catalog.meta()
        return None if "deleted" in meta else BucketInfo(self.name, bucket_created(meta))

    def mark_deleted(self) -> None:
        """Refuse every later write; :class:`BucketNotEmpty` if objects remain."""
        self._catalog.mark_deleted()

    @_translated
    def recover(self) -> None:
        """Remove the temporary files and unnamed blobs a crash left.

        Only while no other process writes to the bucket: a blob renamed into
        ``blobs/`` but not yet recorded looks exactly like a crash's leftover.
        """
        for entry in os.scandir(self._tmp):
            _discard(entry.path)
        named = self._catalog.blobs()
        for entry in os.scandir(self._blobs):
            if entry.name not in named:
                _discard(entry.path)

    @property
    def catalog(self) -> Catalog:
        """The bucket's catalog (the object-created event dispatcher reads its events)."""
        return self._catalog

    def close(self) -> None:
        """Close the catalog's connections; later calls raise :class:`ObjectStoreUnavailable`."""
        self._catalog.close()

    # --- primitives -------------------------------------------------------------------

    def _find(self, key: str) -> Entry:
        entry = self._catalog.find(key)
        if entry is None:
            raise NoSuchKey(key)
        return entry

    def _scan(
        self, lower: str, inclusive: bool, upper: str | None, count: int
    ) -> Sequence[ObjectInfo]:
        return self._catalog.scan(lower, inclusive, upper, count)

    @_translated
    def _publish(
        self, source: Path, info: ObjectInfo, precondition: WritePrecondition | None
    ) -> None:
        """Make the fsynced file ``source`` the body of ``info.key``, atomically (if
        ``precondition`` holds of the row it replaces)."""
        blob = uuid.uuid4().hex
        target = self._blobs + blob
        os.rename(source, target)
        try:
            _fsync_directory(self._blobs)
            replaced = self._catalog.put(Entry(info, blob), precondition, now=self._clock())
        except BaseException:
            _discard(target)
            raise
        if replaced is not None:
            _discard(self._blobs + replaced)


class FilesystemBuckets:
    """The local cloud's buckets: one directory each under ``root``.

    Stores are opened once and shared: :meth:`store` returns the same
    :class:`FilesystemObjectStore` until the bucket is deleted (or re-created by
    another process).
    """

    def __init__(self, root: Path, *, clock: Clock = utc_now, busy_timeout: float = 30.0) -> None:
        self.root = Path(root)
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._stores: dict[str, tuple[tuple[int, int], FilesystemObjectStore]] = {}
        self._lock = threading.Lock()

    def create(self, name: str) -> None:
        """Create an empty bucket (:class:`BucketAlreadyExists`, :class:`InvalidBucketName`)."""
        check_bucket_name(name)
        target = self.root / name
        if target.exists():
            raise BucketAlreadyExists(name)
        staging = self.root / _STAGING / uuid.uuid4().hex
        try:
            self._stage(staging)
            os.rename(staging, target)  # atomic: the bucket appears complete or not at all
            _fsync_directory(str(self.root))
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):  # created meanwhile
                raise BucketAlreadyExists(name) from exc
            raise ObjectStoreUnavailable(f"Cannot create bucket {name!r}: {exc}.") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # still there if the rename failed

    def exists(self, name: str) -> bool:
        try:
            return self._catalog_path(name).is_file()
        except NoSuchBucket:
            return False

    def store(self, name: str) -> FilesystemObjectStore:
        """The objects of bucket ``name`` (:class:`NoSuchBucket`)."""
        path = self._catalog_path(name)
        try:
            stat = os.stat(path)
        except FileNotFoundError as exc:
            raise NoSuchBucket(name) from exc
        except OSError as exc:
            raise ObjectStoreUnavailable(f"Cannot open bucket {name!r}: {exc}.") from exc
        identity = (stat.st_dev, stat.st_ino)
        with self._lock:
            cached = self._stores.get(name)
            if cached is not None and cached[0] == identity:
                return cached[1]
            if cached is not None:
                cached[1].close()  # a deleted bucket's store
            store = FilesystemObjectStore(
                name, path.parent, clock=self._clock, busy_timeout=self._busy_timeout
            )
            self._stores[name] = (identity, store)
            return store

    def delete(self, name: str) -> None:
        """Delete an empty bucket (:class:`NoSuchBucket`, :class:`BucketNotEmpty`)."""
        self.store(name).mark_deleted()
        self._remove(name)

    def list(self) -> builtins.list[BucketInfo]:
        """Every bucket, sorted by name."""
        found = []
        for name in sorted(self._names()):
            try:
                info = self.store(name).info()
            except NoSuchBucket:
                continue  # deleted meanwhile
            if info is not None:
                found.append(info)
        return found

    def recover(self) -> None:
        """Clean what a crash left: run once at start-up, before other processes use the
        buckets. Finishes interrupted creations and deletions, and removes temporary
        files and blobs no catalog row names."""
        for name in self._names():
            store = self.store(name)
            if store.info() is None:
                self._remove(name)
            else:
                store.recover()
        for leftovers in (self.root / _STAGING, self.root / _TRASH):
            shutil.rmtree(leftovers, ignore_errors=True)

    def close(self) -> None:
        """Close every store opened through :meth:`store`."""
        with self._lock:
            for _, store in self._stores.values():
                store.close()
            self._stores.clear()

    # --- internals ----------------------------------------------------------------------

    def _catalog_path(self, name: str) -> Path:
        try:
            check_bucket_name(name)  # never trust a name with a path
        except InvalidBucketName as exc:
            raise NoSuchBucket(name) from exc
        return self.root / name / CATALOG

    def _names(self) -> builtins.list[str]:
        try:
            entries = os.listdir(self.root)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ObjectStoreUnavailable(f"Cannot list the buckets in {self.root}: {exc}.") from exc
        return [name for name in entries if self.exists(name)]

    def _stage(self, staging: Path) -> None:
        """Build a complete, empty bucket at ``staging``, where no one else looks."""
        (staging / BLOBS).mkdir(parents=True)
        (staging / TMP).mkdir()
        Catalog.create(staging / CATALOG, last_modified(self._clock))

    def _remove(self, name: str) -> None:
        """Move a bucket marked deleted out of sight, then delete its files."""
        with self._lock:
            cached = self._stores.pop(name, None)
        if cached is not None:
            cached[1].close()
        trash = self.root / _TRASH / uuid.uuid4().hex
        try:
            trash.parent.mkdir(exist_ok=True)
            os.rename(self.root / name, trash)
            _fsync_directory(str(self.root))
        except FileNotFoundError:
            return  # another process removed it
        except OSError as exc:
            raise ObjectStoreUnavailable(f"Cannot remove bucket {name!r}: {exc}.") from exc
        shutil.rmtree(trash, ignore_errors=True)  # what remains, recover() removes


def _fsync_directory(path: str) -> None:
    """Make a rename into the directory ``path`` durable."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _discard(path: str) -> None:
    """Remove a file that is no longer needed; one left behind, recover() removes."""
    with contextlib.suppress(OSError):
        os.unlink(path)
