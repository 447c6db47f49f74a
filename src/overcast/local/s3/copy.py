"""CopyObject: a server-side copy, from any bucket of the endpoint to this one.

What it mirrors from S3 (CopyObject API reference):

- ``x-amz-copy-source`` is ``<bucket>/<key>`` (a leading ``/`` allowed), URL-encoded,
  optionally ``?versionId=`` (only ``null`` exists here). Anything else is
  ``InvalidArgument`` ("Copy Source must mention the source bucket and key").
- ``x-amz-metadata-directive``: ``COPY`` (default) keeps the source's metadata,
  ``REPLACE`` takes it from the request. Copying an object onto itself is allowed
  only with ``REPLACE``: otherwise ``InvalidRequest`` ("This copy request is illegal
  because it is trying to copy an object to itself without changing the object's
  metadata, storage class, website redirect location or encryption attributes.").
- ``x-amz-copy-source-if-match`` / ``-if-none-match`` / ``-if-modified-since`` /
  ``-if-unmodified-since`` are checked against the source version being copied; any
  failure is 412 ``PreconditionFailed``.
- ``If-None-Match: *`` and ``If-Match`` make the copy conditional on the destination
  (:mod:`.conditional_writes`).
- The caller needs ``s3:GetObject`` on the source as well as ``s3:PutObject`` on the
  destination (authorized before this runs). A missing source key is ``NoSuchKey``
  to a caller who may list the source bucket, else ``AccessDenied``.
- At most 5 GB in one copy ("InvalidRequest: The specified copy source is larger than
  the maximum allowable size for a copy source: 5368709120").
- The copy gets a new ETag (the MD5 of its bytes, even from a multipart source) and
  keeps the source's checksums, which describe the same bytes. It is read and
  written off the event loop: a big copy never stalls other requests.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from urllib.parse import unquote

from overcast.local.s3 import conditional_writes, xml
from overcast.local.s3.actions import Access
from overcast.local.s3.conditional import Preconditions
from overcast.local.s3.errors import (
    AccessDenied,
    InvalidArgument,
    InvalidRequest,
    NoSuchBucket,
)
from overcast.local.s3.exchange import Buckets, Exchange
from overcast.local.s3.metadata import attributes_from
from overcast.local.s3.objects import checked_key, missing_key
from overcast.local.s3.responses import S3Response, iso_time, quoted, xml_response
from overcast.ports.objects import ObjectAttributes, ObjectInfo, ObjectStore, WritePrecondition
from overcast.ports.objects import exceptions as port

MAX_COPY_BYTES = 5 * 1024**3
COPY_SOURCE_PREFIX = "x-amz-copy-source-"
_ONTO_ITSELF = (
    "This copy request is illegal because it is trying to copy an object to itself "
    "without changing the object's metadata, storage class, website redirect location "
    "or encryption attributes."
)


def copy_source(value: str) -> tuple[str, str]:
    """``(bucket, key)`` of an ``x-amz-copy-source`` header."""
    path, _, version = value.partition("?")
    if version and version != "versionId=null":
        if not version.startswith("versionId="):
            raise InvalidArgument("Unsupported copy source parameter.")
        raise InvalidArgument("Invalid version id specified")
    bucket, _, key = unquote(path, errors="strict").lstrip("/").partition("/")
    if not bucket or not key:
        raise InvalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ArgumentName="x-amz-copy-source",
            ArgumentValue=value,
        )
    return bucket, key


class CopyOperation:
    """CopyObject, reaching the source bucket through the endpoint's buckets."""

    def __init__(self, buckets: Buckets) -> None:
        self._buckets = buckets

    async def copy_object(self, exchange: Exchange) -> S3Response:
        call = exchange.call
        try:
            source_bucket, source_key = copy_source(call.headers["x-amz-copy-source"])
        except UnicodeDecodeError as exc:
            raise InvalidArgument("Copy Source is not valid UTF-8.") from exc
        key = checked_key(call.key)
        checked_key(source_key)
        replacing = _directive(call.headers.get("x-amz-metadata-directive")) == "REPLACE"
        if (source_bucket, source_key) == (call.bucket, key) and not replacing:
            raise InvalidRequest(_ONTO_ITSELF)
        source = self._source(exchange.access, source_bucket, source_key)
        attributes = attributes_from(call.headers) if replacing else None
        preconditions = Preconditions.read(call.headers, COPY_SOURCE_PREFIX)
        target = _Target(
            exchange.objects(), key, conditional_writes.write_precondition(call.headers)
        )
        try:
            info = await asyncio.to_thread(
                _copy, source, source_key, target, preconditions, attributes
            )
        except port.NoSuchKey as exc:
            raise missing_key(exchange, source_bucket, source_key) from exc
        parts = [
            xml.element("LastModified", iso_time(info.last_modified)),
            xml.element("ETag", quoted(info.etag)),
        ]
        return xml_response(xml.document("CopyObjectResult", parts))

    def _source(self, access: Access, bucket: str, key: str) -> ObjectStore:
        """The source bucket's objects, once the caller may read the source object."""
        try:
            store = self._buckets.store(bucket)
        except port.NoSuchBucket as exc:
            if access.allows("s3:GetObject", bucket, key, bucket_exists=False):
                raise NoSuchBucket(BucketName=bucket) from exc
            raise AccessDenied() from exc
        access.require("s3:GetObject", bucket, key)
        return store


def _directive(value: str | None) -> str:
    directive = (value or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument(
            "Unknown metadata directive.",
            ArgumentName="x-amz-metadata-directive",
            ArgumentValue=value or "",
        )
    return directive


@dataclass(frozen=True)
class _Target:
    """Where a copy goes, and on what condition (the destination's If-*)."""

    store: ObjectStore
    key: str
    precondition: WritePrecondition | None


def _copy(
    source: ObjectStore,
    source_key: str,
    target: _Target,
    preconditions: Preconditions | None,
    attributes: ObjectAttributes | None,
) -> ObjectInfo:
    """Copy the version of ``source_key`` open now; in a worker thread."""
    with source.open(source_key) as reader:
        found = reader.info
        if preconditions is not None:
            preconditions.require(found, COPY_SOURCE_PREFIX)
        if found.size > MAX_COPY_BYTES:
            raise InvalidRequest(
                "The specified copy source is larger than the maximum allowable size for a "
                f"copy source: {MAX_COPY_BYTES}"
            )
        kept = found.attributes
        if attributes is not None:
            kept = replace(attributes, checksums=dict(found.attributes.checksums))
        with target.store.writer(target.key) as writer:
            for chunk in reader.chunks():
                writer.write(chunk)
            return conditional_writes.commit(writer, kept, target.precondition)
