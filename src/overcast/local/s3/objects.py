"""The single-object operations: PutObject, GetObject, HeadObject, DeleteObject.

What they mirror from S3:

- PutObject needs ``Content-Length`` (or ``x-amz-decoded-content-length`` for an
  ``aws-chunked`` body): ``MissingContentLength`` (411) otherwise, as S3 refuses
  ``Transfer-Encoding: chunked``; at most 5 GiB in one PUT (``EntityTooLarge``). The
  body streams into the object store and is committed only once the payload's checks
  (signature chunks, checksums, ``Content-MD5``) all passed, so a bad body is never
  stored. The answer tells the ETag and the verified checksums. ``If-None-Match: *``
  and ``If-Match`` make it conditional: see :mod:`.conditional_writes`.
- GetObject streams the body (or one range: 206 with ``Content-Range``) and tells the
  object's metadata; HeadObject tells the same without a body. Preconditions and
  ranges: see :mod:`.conditional`; ``response-*`` overrides: see :mod:`.metadata`.
- "If the object you request doesn't exist, the error that Amazon S3 returns depends
  on whether you also have the s3:ListBucket permission": 404 ``NoSuchKey`` with it,
  403 ``AccessDenied`` without, so a caller who may not list cannot probe for keys.
- DeleteObject answers 204 whether or not the key held an object; a conditional one
  (``If-Match``) is 501 ``NotImplemented``, never served unconditionally.
- Keys the object store refuses: longer than 1024 bytes is ``KeyTooLongError``, any
  other bad key (control characters, ...) ``InvalidArgument``.
- The bucket is unversioned: ``versionId=null`` names the one version of an object;
  any other version id is ``InvalidArgument`` ("Invalid version id specified").
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from overcast.local.s3 import conditional_writes
from overcast.local.s3.conditional import (
    Outcome,
    Preconditions,
    RangeRequest,
    content_range,
    invalid_range,
)
from overcast.local.s3.errors import (
    AccessDenied,
    EntityTooLarge,
    InvalidArgument,
    InvalidRange,
    KeyTooLongError,
    MissingContentLength,
    NoSuchKey,
    NotImplementedError_,
    S3Error,
)
from overcast.local.s3.exchange import Exchange
from overcast.local.s3.metadata import (
    apply_overrides,
    attributes_from,
    checksum_headers,
    object_headers,
    overrides,
)
from overcast.local.s3.responses import S3Response, empty_response, quoted
from overcast.ports.objects import ByteRange, ObjectInfo, ObjectReader
from overcast.ports.objects import exceptions as port
from overcast.ports.objects.base import MAX_KEY_BYTES, check_key

MAX_PUT_BYTES = 5 * 1024**3  # S3: "upload objects in a single operation ... up to 5 GB"
_OPEN_ATTEMPTS = 5  # a suffix range reads the size, then the object: retry if it changed


def checked_key(key: str) -> str:
    """``key``, if the object store would take it; else S3's error for it.

    Stricter than S3: a key with a ``.`` or ``..`` segment (``a/../b``) is refused.
    S3 stores it verbatim, but tools that map keys to paths (``aws s3 sync``, archive
    extractors, static-site servers) resolve it to another folder — a way out of a
    per-user folder. Such keys are never needed; refusing them closes that way.
    """
    try:
        check_key(key)
    except port.InvalidKey as exc:
        raise key_error(exc, key) from exc
    if any(segment in (".", "..") for segment in key.split("/")):
        raise InvalidArgument(
            "Overcast refuses object keys with a '.' or '..' path segment.", ArgumentName="key"
        )
    return key


def key_error(error: port.InvalidKey, key: str) -> S3Error:
    """S3's answer for a key the object store refuses."""
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return KeyTooLongError(Size=str(len(key.encode("utf-8", "surrogatepass"))))
    return InvalidArgument(str(error), ArgumentName="key")


def check_version(exchange: Exchange) -> None:
    """Refuse a version id other than ``null`` (the bucket is unversioned)."""
    version = exchange.call.query.get("versionId")
    if version is not None and version != "null":
        raise InvalidArgument(
            "Invalid version id specified", ArgumentName="versionId", ArgumentValue=version
        )


def declared_length(exchange: Exchange) -> int:
    """The decoded body's declared length (``MissingContentLength``, ``EntityTooLarge``)."""
    headers = exchange.call.headers
    value = headers.get("x-amz-decoded-content-length") or headers.get("content-length")
    if value is None or not value.strip().isdigit():
        raise MissingContentLength()
    length = int(value)
    if length > MAX_PUT_BYTES:
        raise EntityTooLarge(ProposedSize=str(length), MaxSizeAllowed=str(MAX_PUT_BYTES))
    return length


def missing_key(exchange: Exchange, bucket: str, key: str) -> S3Error:
    """``NoSuchKey`` for a caller who may list the bucket, else ``AccessDenied``."""
    if exchange.access.allows("s3:ListBucket", bucket):
        return NoSuchKey(Key=key)
    return AccessDenied()


async def put_object(exchange: Exchange) -> S3Response:
    key = checked_key(exchange.call.key)
    declared_length(exchange)
    attributes = attributes_from(exchange.call.headers)
    precondition = conditional_writes.write_precondition(exchange.call.headers)
    writer = exchange.objects().writer(key)
    try:
        async for chunk in exchange.payload.chunks(exchange.receive):
            writer.write(chunk)
        attributes = replace(attributes, checksums=dict(exchange.payload.checksums))
        # The commit fsyncs: off the event loop, so other requests go on meanwhile.
        info = await asyncio.to_thread(conditional_writes.commit, writer, attributes, precondition)
    finally:
        writer.abort()
    headers = [(b"etag", quoted(info.etag).encode())]
    return empty_response(200, headers + checksum_headers(exchange.payload.checksums))


async def delete_object(exchange: Exchange) -> S3Response:
    key = checked_key(exchange.call.key)
    check_version(exchange)
    conditional_writes.refuse_conditional_delete(exchange.call.headers)
    await asyncio.to_thread(exchange.objects().delete, key)
    return empty_response(204)


async def get_object(exchange: Exchange) -> S3Response:
    return _Read(exchange).get()


async def head_object(exchange: Exchange) -> S3Response:
    return _Read(exchange).head()


class _Read:
    """One GetObject or HeadObject: preconditions, range, headers."""

    def __init__(self, exchange: Exchange) -> None:
        call = exchange.call
        self._exchange = exchange
        self._store = exchange.objects()
        self._key = checked_key(call.key)
        check_version(exchange)
        if "partNumber" in call.query:
            raise NotImplementedError_("The local S3 endpoint does not serve partNumber reads.")
        self._overrides = overrides(call.query, signed=exchange.access.signed)
        self._preconditions = Preconditions.read(call.headers)
        self._range = RangeRequest.read(call.headers.get("range"))
        self._checksums = call.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"

    def get(self) -> S3Response:
        try:
            reader = self._open()
        except port.InvalidRange as exc:
            return self._unsatisfiable(self._head(), exc.size)
        try:
            response = self._response(reader.info, reader.byte_range)
        except BaseException:
            reader.close()
            raise
        if response.status == 304:
            reader.close()
        else:
            response.reader = reader
        return response

    def head(self) -> S3Response:
        info = self._head()
        if self._range is None:
            return self._response(info, None)
        try:
            byte_range = self._range.resolve(info.size)
        except InvalidRange:
            return self._unsatisfiable(info, info.size)
        return self._response(info, byte_range)

    def _unsatisfiable(self, info: ObjectInfo, size: int) -> S3Response:
        """416, unless a precondition answers first (RFC 9110, 13.2.2: they come before
        the range)."""
        assert self._range is not None
        if self._check_preconditions(info) is Outcome.NOT_MODIFIED:
            return empty_response(304, object_headers(info)[:2])
        raise invalid_range(self._range, size)

    def _response(self, info: ObjectInfo, byte_range: ByteRange | None) -> S3Response:
        if self._check_preconditions(info) is Outcome.NOT_MODIFIED:
            return empty_response(304, object_headers(info)[:2])
        headers = object_headers(info, checksums=self._checksums and byte_range is None)
        if byte_range is None:
            headers.append((b"content-length", b"%d" % info.size))
        else:
            headers.append((b"content-length", b"%d" % byte_range.length))
            headers.append((b"content-range", content_range(byte_range, info.size).encode()))
        status = 200 if byte_range is None else 206
        return S3Response(status, apply_overrides(headers, self._overrides))

    def _check_preconditions(self, info: ObjectInfo) -> Outcome:
        if self._preconditions is None:
            return Outcome.PROCEED
        return self._preconditions.evaluate(info)

    def _head(self) -> ObjectInfo:
        try:
            return self._store.head(self._key)
        except port.NoSuchKey as exc:
            raise self._missing() from exc

    def _open(self) -> ObjectReader:
        wanted = self._range
        try:
            if wanted is None:
                return self._store.open(self._key)
            if not wanted.needs_size:
                return self._store.open(self._key, wanted.as_byte_range())
            return self._open_suffix(wanted)
        except port.NoSuchKey as exc:
            raise self._missing() from exc

    def _open_suffix(self, wanted: RangeRequest) -> ObjectReader:
        for _ in range(_OPEN_ATTEMPTS):
            info = self._store.head(self._key)
            try:
                byte_range = wanted.resolve(info.size)
            except InvalidRange as exc:
                raise port.InvalidRange(info.size) from exc
            reader = self._store.open(self._key, byte_range)
            if reader.info.etag == info.etag and reader.info.size == info.size:
                return reader
            reader.close()  # overwritten between the two reads: read the size again
        return self._store.open(self._key)

    def _missing(self) -> S3Error:
        return missing_key(self._exchange, self._exchange.call.bucket, self._key)
