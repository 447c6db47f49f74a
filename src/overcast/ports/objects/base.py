"""The object store port: one bucket's objects, streamed in and out.

An :class:`ObjectStore` holds the objects of one bucket. Bodies stream in through
an :class:`ObjectWriter` (or :meth:`ObjectStore.put` for an iterable of chunks) and
out through an :class:`ObjectReader`; neither holds a whole object in memory.
What it mirrors from S3:

- Keys are 1-1024 bytes of UTF-8 (S3: "The name for a key is a sequence of Unicode
  characters whose UTF-8 encoding is at most 1,024 bytes long"); Overcast also
  refuses NUL and other control characters below U+0020, which no S3 SDK sends.
- A write is atomic: a reader sees the old object or the new one, never part of
  one; the last writer wins. A written object survives a crash once ``put`` or
  ``commit`` has returned.
- The ETag of an object written in one piece is the hex MD5 of its content; a
  writer may be given another ETag (multipart: MD5 of the parts' MD5s + ``-N``).
- Listing is in ascending UTF-8 binary order of keys; with a delimiter, keys
  sharing the part of the key after the prefix up to the first delimiter roll up
  into one common prefix, which counts once toward the page size.
- Delete of a missing key succeeds (S3 answers DeleteObject with 204 regardless).
- A write may be conditional (S3's conditional writes, ``If-None-Match: *`` and
  ``If-Match: <etag>`` on PutObject, CopyObject and CompleteMultipartUpload): see
  :class:`WritePrecondition` and :meth:`ObjectWriter.commit_if`. The condition is
  checked atomically with the commit, so of two writers that both may create a key
  only if it is absent, exactly one does.
- Bucket names follow S3's rule for general purpose buckets (see
  :func:`check_bucket_name`); a name that breaks it can never name a bucket.

Validation lives here once (:func:`check_key`, :func:`check_bucket_name`,
:func:`resolve_range`), so every adapter refuses exactly the same input.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from overcast.ports.objects.exceptions import (
    InvalidBucketName,
    InvalidKey,
    InvalidRange,
    NoSuchKey,
    PreconditionFailed,
)

MAX_KEY_BYTES = 1024
CHUNK_SIZE = 1024 * 1024

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""

_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f]")
# S3's general purpose bucket naming rules
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
# 3-63 characters; lowercase letters, digits, dots and hyphens; begin and end with a
# letter or digit; no two adjacent periods; not formatted as an IP address; none of
# the reserved prefixes and suffixes.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


@dataclass(frozen=True)
class BucketInfo:
    """A bucket, as ListBuckets tells it."""

    name: str
    created: datetime  # UTC, whole seconds


@dataclass(frozen=True)
class ObjectAttributes:
    """What S3 stores with an object besides its body (system and user metadata)."""

    content_type: str = "binary/octet-stream"  # S3's default when none is given
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    content_language: str | None = None
    expires: str | None = None  # kept verbatim, as S3 does
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-*, names lower-case
    checksums: Mapping[str, str] = field(default_factory=dict)  # e.g. {"CRC32": "base64"}


@dataclass(frozen=True)
class ObjectInfo:
    """An object's description, as HeadObject and ListObjects tell it."""

    key: str
    size: int
    etag: str  # hex, without quotes; "<hex>-<parts>" for multipart objects
    last_modified: datetime  # UTC, whole seconds
    attributes: ObjectAttributes


@dataclass(frozen=True)
class ByteRange:
    """Inclusive byte positions ``first``..``last`` of an object, as HTTP ranges are."""

    first: int
    last: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class ListPage:
    """One page of a listing: objects and rolled-up common prefixes, in key order.

    ``next_marker`` is the last key or common prefix returned when the listing is
    truncated (pass it as ``start_after`` for the next page), else ``None``.
    """

    objects: tuple[ObjectInfo, ...]
    common_prefixes: tuple[str, ...]
    next_marker: str | None

    @property
    def is_truncated(self) -> bool:
        return self.next_marker is not None


@dataclass(frozen=True)
class WritePrecondition:
    """What must hold of the object under a key for a write to commit there.

    ``if_match``: an object must exist with one of these ETags (hex, unquoted; ``*``:
    any ETag); a missing object is :class:`NoSuchKey` (S3: If-Match on a key with no
    object is 404), another ETag :class:`PreconditionFailed`. ``if_none_match``: no
    object may exist under the key (S3's ``If-None-Match: *``).
    """

    if_match: frozenset[str] | None = None
    if_none_match: bool = False

    def check(self, key: str, current: ObjectInfo | None) -> None:
        """Raise unless the precondition holds of ``current``, the object under ``key``."""
        if self.if_match is not None:
            if current is None:
                raise NoSuchKey(key)
            if "*" not in self.if_match and current.etag not in self.if_match:
                raise PreconditionFailed(f"{key!r} has another ETag than If-Match names.")
        if self.if_none_match and current is not None:
            raise PreconditionFailed(f"{key!r} holds an object already.")


class ObjectReader(ABC):
    """An open object version: its info, the byte range served, and its chunks.

    The version stays readable until the reader is closed, even if the object is
    overwritten or deleted meanwhile.
    """

    info: ObjectInfo
    byte_range: ByteRange | None  # None: the whole object

    @abstractmethod
    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The body (or the range), in chunks of at most ``size`` bytes."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class ObjectWriter(ABC):
    """A new object being written; invisible to readers until :meth:`commit`.

    The base counts and hashes what is written; adapters store it (``_write``) and
    publish it (``_commit``).
    """

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._size = 0

    def write(self, chunk: bytes) -> None:
        self._write(chunk)
        self._md5.update(chunk)
        self._size += len(chunk)

    @abstractmethod
    def _write(self, chunk: bytes) -> None:
        """Store ``chunk`` (refusing it if the writer is done)."""

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._size

    def md5_hex(self) -> str:
        """The MD5 of the bytes written so far (hex)."""
        return self._md5.hexdigest()

    def commit(self, attributes: ObjectAttributes, *, etag: str | None = None) -> ObjectInfo:
        """Make the object durable and visible, replacing any object under its key."""
        return self._commit(attributes, etag, None)

    def commit_if(
        self,
        precondition: WritePrecondition,
        attributes: ObjectAttributes,
        *,
        etag: str | None = None,
    ) -> ObjectInfo:
        """:meth:`commit`, if ``precondition`` holds of the object under the key at the
        moment of the commit, checked atomically with it; else the precondition's error
        (:meth:`WritePrecondition.check`) and nothing is stored. An adapter that cannot
        check atomically raises :class:`ConditionalWriteUnsupported`."""
        return self._commit(attributes, etag, precondition)

    @abstractmethod
    def _commit(
        self, attributes: ObjectAttributes, etag: str | None, precondition: WritePrecondition | None
    ) -> ObjectInfo:
        """Publish the object (checking ``precondition`` atomically, when given)."""

    @abstractmethod
    def abort(self) -> None:
        """Discard what was written; idempotent, and a no-op after commit."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abort()


class ObjectStore(ABC):
    """The objects of one bucket. Adapters: filesystem (local), memory (tests), S3 (AWS)."""

    name: str

    def put(
        self, key: str, body: bytes | Iterable[bytes], attributes: ObjectAttributes | None = None
    ) -> ObjectInfo:
        """Store ``body`` under ``key`` atomically; return what was stored."""
        writer = self.writer(key)
        try:
            for chunk in [body] if isinstance(body, bytes) else body:
                writer.write(chunk)
            return writer.commit(attributes or ObjectAttributes())
        finally:
            writer.abort()

    @abstractmethod
    def writer(self, key: str) -> ObjectWriter:
        """Start writing a new object under ``key`` (validated now: :class:`InvalidKey`)."""

    @abstractmethod
    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        """Open ``key`` for reading (:class:`NoSuchKey`); a range past the end clips
        to the end, one starting past it is :class:`InvalidRange`."""

    @abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """Describe ``key`` without reading it (:class:`NoSuchKey`)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key succeeds."""

    @abstractmethod
    def list(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        limit: int = 1000,
    ) -> ListPage:
        """Keys beginning with ``prefix`` and after ``start_after``, at most ``limit``
        entries (objects plus common prefixes)."""

    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes:
        """The whole body (or range) in memory: for small objects only."""
        with self.open(key, byte_range) as reader:
            return b"".join(reader.chunks())

    def copy(
        self,
        source: ObjectStore,
        source_key: str,
        key: str,
        attributes: ObjectAttributes | None = None,
    ) -> ObjectInfo:
        """Copy ``source_key`` of ``source`` (any store, this one included) to ``key``,
        keeping its attributes unless new ones are given (S3's metadata directive)."""
        with source.open(source_key) as reader:
            writer = self.writer(key)
            try:
                for chunk in reader.chunks():
                    writer.write(chunk)
                return writer.commit(attributes or reader.info.attributes)
            finally:
                writer.abort()


# --- helpers shared by every adapter ---------------------------------------------


def utc_now() -> datetime:
    """The default :data:`Clock`."""
    return datetime.now(UTC)


def check_key(key: str) -> None:
    """Refuse (:class:`InvalidKey`, saying why) a string that cannot be an object key.

    Any other string is a valid, opaque key: ``..``, ``/x``, ``a//b`` and ``%2F``
    included. Keys are names in a catalog, never paths.
    """
    if not key:
        raise InvalidKey("An object key cannot be empty.")
    try:
        encoded = key.encode()
    except UnicodeEncodeError as exc:
        raise InvalidKey("An object key must be valid Unicode (no lone surrogates).") from exc
    if len(encoded) > MAX_KEY_BYTES:
        # S3: "a sequence of Unicode characters whose UTF-8 encoding is at most 1,024 bytes".
        raise InvalidKey(
            f"An object key is at most {MAX_KEY_BYTES} bytes of UTF-8; this one has {len(encoded)}."
        )
    if _CONTROL_CHARACTER.search(key):
        raise InvalidKey("An object key cannot contain NUL or other control characters.")


def check_bucket_name(name: str) -> None:
    """Refuse (:class:`InvalidBucketName`, saying why) a name S3 would not give a bucket."""
    if not _BUCKET_NAME.match(name):
        raise InvalidBucketName(
            f"Bucket name {name!r} is invalid: use 3-63 lowercase letters, digits, dots "
            "and hyphens, beginning and ending with a letter or digit."
        )
    if ".." in name or _IP_ADDRESS.match(name):
        raise InvalidBucketName(
            f"Bucket name {name!r} is invalid: it has two adjacent periods or is "
            "formatted as an IP address."
        )
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        raise InvalidBucketName(f"Bucket name {name!r} uses a prefix or suffix S3 reserves.")


def last_modified(clock: Clock) -> datetime:
    """Now, as S3 records an object's Last-Modified: UTC, whole seconds."""
    return clock().astimezone(UTC).replace(microsecond=0)


def resolve_range(byte_range: ByteRange | None, size: int) -> ByteRange | None:
    """``byte_range`` of an object of ``size`` bytes, its end clipped to the object's.

    Mirrors S3 (and RFC 9110): a range whose first byte is at or past the end is not
    satisfiable (:class:`InvalidRange`), so any range of an empty object is too.
    """
    if byte_range is None:
        return None
    if byte_range.first < 0 or byte_range.last < byte_range.first or byte_range.first >= size:
        raise InvalidRange(size)
    return ByteRange(byte_range.first, min(byte_range.last, size - 1))
