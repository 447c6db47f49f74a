"""The object store port on Amazon S3, through boto3's client.

One :class:`S3ObjectStore` is one bucket. Bodies stream through
:mod:`~overcast.ports.objects.s3_streams` (``PutObject`` or a multipart upload in;
``GetObject`` with ``Range`` out); requests and answers are translated by
:mod:`~overcast.ports.objects.s3_requests`. What differs from the local stores, because
S3 decides it:

- An object's ETag and Last-Modified are S3's (S3's clock, not an injected one), and
  a writer cannot be told another ETag.
- ``list`` is one ``ListObjectsV2`` request (``Prefix``, ``Delimiter``, ``StartAfter``,
  ``MaxKeys``; S3 answers at most 1,000 entries). Its entries carry key, size, ETag
  and Last-Modified only: ListObjectsV2 does not tell an object's content type or
  metadata, so listed objects have default attributes; ``head`` one for the rest.
- ``copy`` between S3 stores is one ``CopyObject`` (keeping the source's metadata, or
  ``MetadataDirective=REPLACE`` with the given attributes); S3 copies up to 5 GiB so,
  and a bigger object is streamed through a multipart upload instead. A copy from any
  other store streams too.
- A byte range S3 would ignore (last before first, negative) is refused here, as the
  port says; a range starting past the end is S3's own ``InvalidRange``.

The client is built lazily unless one is given; it must not add checksums of its own
(``request_checksum_calculation="when_required"``), so that an object's checksums are
those its writer named (see :func:`client_config`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from overcast.ports.objects.base import (
    ByteRange,
    ListPage,
    ObjectAttributes,
    ObjectInfo,
    ObjectReader,
    ObjectStore,
    check_key,
    resolve_range,
)
from overcast.ports.objects.exceptions import (
    InvalidKey,
    InvalidRange,
    ObjectStoreError,
    ObjectStoreUnavailable,
)
from overcast.ports.objects.s3_requests import call, info_of, object_parameters
from overcast.ports.objects.s3_streams import PART_SIZE, S3ObjectReader, S3ObjectWriter

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_s3 import S3Client

# "bytes 7-9/10": the range served and the whole object's size.
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
# S3: "You can create a copy of your object up to 5 GB in size in a single atomic action".
_MAX_COPY_BYTES = 5 * 1024**3


def client_config() -> Config:
    """The botocore settings an S3 client for this adapter needs."""
    from botocore.config import Config

    return Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"mode": "standard"},
    )


class S3ObjectStore(ObjectStore):
    """The objects of the S3 bucket ``bucket_name``. See the module docstring."""

    def __init__(
        self, bucket_name: str, client: S3Client | None = None, *, part_size: int = PART_SIZE
    ) -> None:
        self.name = bucket_name
        self._client = client
        self._client_lock = threading.Lock()
        self._part_size = part_size

    @property
    def client(self) -> S3Client:
        """The boto3 S3 client, built on first use if none was given."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client("s3", config=client_config())
        return self._client

    # --- writing -------------------------------------------------------------------------

    def writer(self, key: str, attributes: ObjectAttributes | None = None) -> S3ObjectWriter:
        """A writer of ``key``; ``attributes``, if known now, start a multipart upload
        with them (see :mod:`~overcast.ports.objects.s3_streams`)."""
        check_key(key)
        return S3ObjectWriter(
            self.client,
            self.name,
            key,
            planned=attributes,
            head=self.head,
            part_size=self._part_size,
        )

    def put(
        self, key: str, body: bytes | Iterable[bytes], attributes: ObjectAttributes | None = None
    ) -> ObjectInfo:
        attributes = attributes or ObjectAttributes()
        with self.writer(key, attributes) as writer:
            for chunk in [body] if isinstance(body, bytes) else body:
                writer.write(chunk)
            return writer.commit(attributes)

    def copy(
        self,
        source: ObjectStore,
        source_key: str,
        key: str,
        attributes: ObjectAttributes | None = None,
    ) -> ObjectInfo:
        check_key(source_key)
        check_key(key)
        if not isinstance(source, S3ObjectStore):
            return self._copy_through(source, source_key, key, attributes)
        if (source.name, source_key, attributes) == (self.name, key, None):
            # S3 refuses a copy onto itself that changes nothing; nothing would change.
            return self.head(key)
        request: dict[str, Any] = {"CopySource": {"Bucket": source.name, "Key": source_key}}
        if attributes is not None:
            request |= {"MetadataDirective": "REPLACE", **object_parameters(attributes)}
        try:
            call(
                self.client.copy_object, self.name, source_key, Bucket=self.name, Key=key, **request
            )
        except ObjectStoreError:
            if source.head(source_key).size <= _MAX_COPY_BYTES:
                raise
            return self._copy_through(source, source_key, key, attributes)
        return self.head(key)

    def delete(self, key: str) -> None:
        check_key(key)
        call(self.client.delete_object, self.name, key, Bucket=self.name, Key=key)

    # --- reading -------------------------------------------------------------------------

    def head(self, key: str) -> ObjectInfo:
        check_key(key)
        answer = call(
            self.client.head_object,
            self.name,
            key,
            Bucket=self.name,
            Key=key,
            ChecksumMode="ENABLED",
        )
        return info_of(key, answer)

    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        check_key(key)
        if byte_range is not None and not 0 <= byte_range.first <= byte_range.last:
            raise InvalidRange(self.head(key).size)  # S3 would ignore such a Range header
        request: dict[str, Any] = {"Bucket": self.name, "Key": key, "ChecksumMode": "ENABLED"}
        if byte_range is not None:
            request["Range"] = f"bytes={byte_range.first}-{byte_range.last}"
        answer: Any = call(self.client.get_object, self.name, key, **request)
        body = answer["Body"]
        try:
            served, size = _served(byte_range, answer)
        except BaseException:
            body.close()
            raise
        return S3ObjectReader(info_of(key, answer, size=size), served, body)

    def list(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        limit: int = 1000,
    ) -> ListPage:
        for text in (prefix, delimiter or "", start_after or ""):
            _check_listing_text(text)
        if limit <= 0:
            return ListPage((), (), None)  # S3's max-keys=0: nothing, and not truncated
        request: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix, "MaxKeys": limit}
        if delimiter:  # S3 treats an empty delimiter as none
            request["Delimiter"] = delimiter
        if start_after:
            request["StartAfter"] = start_after
        answer: Any = call(self.client.list_objects_v2, self.name, **request)
        listed = ObjectAttributes()
        objects = tuple(
            info_of(entry["Key"], entry, attributes=listed) for entry in answer.get("Contents", [])
        )
        prefixes = tuple(entry["Prefix"] for entry in answer.get("CommonPrefixes", []))
        entries = [info.key for info in objects] + list(prefixes)
        truncated = bool(answer.get("IsTruncated")) and bool(entries)
        return ListPage(objects, prefixes, max(entries) if truncated else None)

    # --- internals -----------------------------------------------------------------------

    def _copy_through(
        self,
        source: ObjectStore,
        source_key: str,
        key: str,
        attributes: ObjectAttributes | None,
    ) -> ObjectInfo:
        with source.open(source_key) as reader:
            kept = attributes or reader.info.attributes
            with self.writer(key, kept) as writer:
                for chunk in reader.chunks():
                    writer.write(chunk)
                return writer.commit(kept)


def _served(byte_range: ByteRange | None, answer: Any) -> tuple[ByteRange | None, int]:
    """The range GetObject served and the whole object's size."""
    if byte_range is None:
        return None, int(answer["ContentLength"])
    found = _CONTENT_RANGE.match(str(answer.get("ContentRange", "")))
    if found is None:
        # A whole object came back: an empty one (no range of it is satisfiable), or a
        # backend that ignored Range. resolve_range raises InvalidRange for the first.
        size = int(answer["ContentLength"])
        served = resolve_range(byte_range, size)
        if served != ByteRange(0, size - 1):
            raise ObjectStoreUnavailable("S3 answered the whole object to a range request.")
        return served, size
    first, last, size = (int(number) for number in found.groups())
    return ByteRange(first, last), size


def _check_listing_text(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise InvalidKey("A prefix, delimiter or marker must be valid Unicode.") from exc
