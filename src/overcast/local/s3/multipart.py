"""Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload.

What they mirror from S3 ("Uploading and copying objects using multipart upload",
the operations' API reference):

- The object's metadata is given when the upload is created, and the object appears
  only when it is completed. An upload id names one upload of one bucket and key;
  any other (or an aborted or completed one) is ``NoSuchUpload``.
- Part numbers are 1 to 10,000 ("Part number must be an integer between 1 and
  10000, inclusive": ``InvalidArgument``); a part is at most 5 GiB. Sending a part
  number again replaces that part. Each part answers its ETag, the hex MD5 of its
  bytes; its body streams to a file and is kept only once the payload's checks
  passed.
- CompleteMultipartUpload lists the parts to use, in ascending order
  (``InvalidPartOrder``), each with the ETag it was answered (``InvalidPart``
  otherwise, or when the part was never sent); every part but the last must be at
  least 5 MiB (``EntityTooSmall``); an empty list is ``MalformedXML``. The object's
  ETag is the hex MD5 of the concatenated binary MD5s of those parts, then ``-`` and
  their count. Parts not listed are discarded. ``If-None-Match: *`` and ``If-Match``
  make the completion conditional (:mod:`.conditional_writes`); when the condition
  fails, the upload stays in progress.
- Assembly streams the part files into the object store in a worker thread (a big
  object takes a while; the event loop serves other requests meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
from collections.abc import Sequence
from xml.etree.ElementTree import Element

from overcast.local.s3 import conditional_writes, xml
from overcast.local.s3.errors import (
    EntityTooLarge,
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    MalformedXML,
    NoSuchUpload,
)
from overcast.local.s3.exchange import Exchange
from overcast.local.s3.metadata import attributes_from, checksum_headers
from overcast.local.s3.objects import checked_key, declared_length
from overcast.local.s3.responses import S3Response, empty_response, quoted, unquoted, xml_response
from overcast.local.s3.uploads import Part, Upload, UploadStore
from overcast.ports.objects import ObjectInfo, ObjectStore, WritePrecondition
from overcast.ports.objects.base import CHUNK_SIZE

MAX_PART_NUMBER = 10_000
MAX_PART_BYTES = 5 * 1024**3
MIN_PART_BYTES = 5 * 1024 * 1024  # every part but the last
MAX_COMPLETE_BODY_BYTES = 4 * 1024 * 1024  # 10,000 parts with their checksums fit


def multipart_etag(parts: Sequence[Part]) -> str:
    """S3's ETag of a multipart object: MD5 of the parts' binary MD5s, ``-<count>``."""
    digests = b"".join(bytes.fromhex(part.etag) for part in parts)
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(parts)}"


def initiator(exchange: Exchange) -> str:
    """Who starts an upload, as ListParts and ListMultipartUploads name them."""
    principal = exchange.access.principal
    if principal is None:
        return "anonymous"
    return principal.session_arn or principal.arn


class MultipartOperations:
    """The multipart operations that write, over the endpoint's upload store."""

    def __init__(self, uploads: UploadStore) -> None:
        self._uploads = uploads

    async def create(self, exchange: Exchange) -> S3Response:
        call = exchange.call
        key = checked_key(call.key)
        attributes = attributes_from(call.headers)
        upload = await asyncio.to_thread(
            self._uploads.create, call.bucket, key, attributes, initiator(exchange)
        )
        parts = [
            xml.element("Bucket", call.bucket),
            xml.element("Key", key),
            xml.element("UploadId", upload.upload_id),
        ]
        headers = []
        algorithm = call.headers.get("x-amz-checksum-algorithm")
        if algorithm:
            headers.append((b"x-amz-checksum-algorithm", algorithm.upper().encode()))
        return xml_response(xml.document("InitiateMultipartUploadResult", parts), 200, headers)

    async def upload_part(self, exchange: Exchange) -> S3Response:
        number = part_number(exchange.call.query.get("partNumber"))
        upload = self.upload_of(exchange)
        length = declared_length(exchange)
        if length > MAX_PART_BYTES:
            raise EntityTooLarge(ProposedSize=str(length), MaxSizeAllowed=str(MAX_PART_BYTES))
        writer = self._uploads.part_writer(upload, number)
        try:
            async for chunk in exchange.payload.chunks(exchange.receive):
                writer.write(chunk)
            part = await asyncio.to_thread(writer.commit, exchange.payload.checksums)
        finally:
            writer.abort()
        headers = [(b"etag", quoted(part.etag).encode()), *checksum_headers(part.checksums)]
        return empty_response(200, headers)

    async def complete(self, exchange: Exchange) -> S3Response:
        call = exchange.call
        upload = self.upload_of(exchange)
        precondition = conditional_writes.write_precondition(call.headers)
        body = await exchange.payload.read_all(exchange.receive, MAX_COMPLETE_BODY_BYTES)
        requested = _requested_parts(body)
        stored = {
            part.number: part for part in await asyncio.to_thread(self._uploads.parts, upload)
        }
        chosen = _choose(upload, requested, stored)
        info = await asyncio.to_thread(_assemble, exchange.objects(), upload, chosen, precondition)
        with contextlib.suppress(NoSuchUpload):  # completed twice at once: same object
            await asyncio.to_thread(self._uploads.remove, upload)
        parts = [
            xml.element("Location", _location(exchange)),
            xml.element("Bucket", call.bucket),
            xml.element("Key", upload.key),
            xml.element("ETag", quoted(info.etag)),
        ]
        return xml_response(xml.document("CompleteMultipartUploadResult", parts))

    async def abort(self, exchange: Exchange) -> S3Response:
        upload = self.upload_of(exchange)
        await asyncio.to_thread(self._uploads.remove, upload)
        return empty_response(204)

    def upload_of(self, exchange: Exchange) -> Upload:
        """The upload the request names (``NoSuchUpload``)."""
        call = exchange.call
        upload_id = call.query.get("uploadId")
        if upload_id is None:
            raise InvalidRequest("This operation needs an uploadId.")
        return self._uploads.find(upload_id, call.bucket, checked_key(call.key))


def part_number(value: str | None) -> int:
    """A part number, 1 to 10,000 (``InvalidArgument``)."""
    if value is not None and value.isdigit() and 1 <= int(value) <= MAX_PART_NUMBER:
        return int(value)
    raise InvalidArgument(
        "Part number must be an integer between 1 and 10000, inclusive",
        ArgumentName="partNumber",
        ArgumentValue=value or "",
    )


def _requested_parts(body: bytes) -> list[tuple[int, str]]:
    request = xml.parse(body, "CompleteMultipartUpload")
    parts = [_requested_part(entry) for entry in xml.children(request, "Part")]
    if not parts:
        raise MalformedXML()
    return parts


def _requested_part(entry: Element) -> tuple[int, str]:
    number = (xml.child_text(entry, "PartNumber") or "").strip()
    etag = xml.child_text(entry, "ETag")
    if not number.isdigit() or etag is None:
        raise MalformedXML()
    return int(number), unquoted(etag)


def _choose(
    upload: Upload, requested: list[tuple[int, str]], stored: dict[int, Part]
) -> list[Part]:
    """The parts to assemble, checked as S3 checks them."""
    numbers = [number for number, _ in requested]
    if any(later <= earlier for earlier, later in itertools.pairwise(numbers)):
        raise InvalidPartOrder(UploadId=upload.upload_id)
    chosen = []
    for number, etag in requested:
        part = stored.get(number)
        if part is None or part.etag != etag:
            raise InvalidPart(UploadId=upload.upload_id, PartNumber=str(number), ETag=etag)
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_BYTES:
            raise EntityTooSmall(
                ProposedSize=str(part.size),
                MinSizeAllowed=str(MIN_PART_BYTES),
                PartNumber=str(part.number),
                ETag=part.etag,
            )
    return chosen


def _assemble(
    store: ObjectStore,
    upload: Upload,
    parts: Sequence[Part],
    precondition: WritePrecondition | None,
) -> ObjectInfo:
    """Stream the parts into the object, in a worker thread."""
    with store.writer(upload.key) as writer:
        for part in parts:
            try:
                source = open(part.path, "rb", buffering=0)  # noqa: SIM115
            except FileNotFoundError as exc:  # replaced since it was checked
                raise InvalidPart(
                    UploadId=upload.upload_id, PartNumber=str(part.number), ETag=part.etag
                ) from exc
            with source:
                while chunk := source.read(CHUNK_SIZE):
                    writer.write(chunk)
        etag = multipart_etag(parts)
        return conditional_writes.commit(writer, upload.attributes, precondition, etag=etag)


def _location(exchange: Exchange) -> str:
    call = exchange.call
    scheme = "https" if call.secure else "http"
    host = call.headers.get("host", "localhost")
    return f"{scheme}://{host}{call.raw_path}"
