"""The multipart listings: ListParts and ListMultipartUploads.

What they mirror from S3's API reference:

- ListParts: the parts received so far, ascending by number; ``max-parts`` (default
  and at most 1000) and ``part-number-marker`` page them, ``NextPartNumberMarker``
  tells where the next page starts.
- ListMultipartUploads: the bucket's uploads in progress, "sorted by key. If your
  application has initiated more than one multipart upload using the same object
  key, then uploads in the response are first sorted by key. Additionally, uploads
  are sorted in ascending order within each key by the upload initiation time."
  ``prefix``, ``delimiter`` (common prefixes, each one entry), ``max-uploads``
  (default and at most 1000), ``key-marker`` and ``upload-id-marker`` (uploads of
  the marker's key after that upload), ``encoding-type=url``.
- Initiator and owner: the caller who started the upload (its ARN) and the bucket
  owner; storage class ``STANDARD``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from overcast.local.s3 import xml
from overcast.local.s3.errors import InvalidArgument
from overcast.local.s3.exchange import Exchange
from overcast.local.s3.listing import ListParameters, page_size
from overcast.local.s3.multipart import MultipartOperations
from overcast.local.s3.responses import S3Response, iso_time, quoted, xml_response
from overcast.local.s3.uploads import Upload, UploadStore
from overcast.ports.objects.listing import common_prefix

MAX_PARTS = 1000


class MultipartListings:
    """ListParts and ListMultipartUploads over the endpoint's upload store."""

    def __init__(self, uploads: UploadStore, writes: MultipartOperations, owner: xml.Owner) -> None:
        self._uploads = uploads
        self._writes = writes
        self._owner = owner

    async def list_parts(self, exchange: Exchange) -> S3Response:
        upload = self._writes.upload_of(exchange)
        query = exchange.call.query
        max_parts = page_size(query, "max-parts", MAX_PARTS)
        marker = _part_marker(query.get("part-number-marker"))
        parts = await asyncio.to_thread(self._uploads.parts, upload)
        after = [part for part in parts if part.number > marker]
        page = after[:max_parts]
        truncated = len(after) > len(page)
        entries = [
            xml.group(
                "Part",
                [
                    xml.element("PartNumber", part.number),
                    xml.element("LastModified", iso_time(part.last_modified)),
                    xml.element("ETag", quoted(part.etag)),
                    *(
                        xml.element(f"Checksum{name}", value)
                        for name, value in part.checksums.items()
                    ),
                    xml.element("Size", part.size),
                ],
            )
            for part in page
        ]
        body = [
            xml.element("Bucket", upload.bucket),
            xml.element("Key", upload.key),
            xml.element("UploadId", upload.upload_id),
            self._initiator(upload),
            self._owner.render(),
            xml.element("StorageClass", "STANDARD"),
            xml.element("PartNumberMarker", marker),
            xml.element("NextPartNumberMarker", page[-1].number if page else marker),
            xml.element("MaxParts", max_parts),
            xml.element("IsTruncated", truncated),
            *entries,
        ]
        return xml_response(xml.document("ListPartsResult", body))

    async def list_uploads(self, exchange: Exchange) -> S3Response:
        call = exchange.call
        parameters = ListParameters.read(call.query, "max-uploads")
        key_marker = call.query.get("key-marker") or None
        id_marker = call.query.get("upload-id-marker") or None
        uploads = await asyncio.to_thread(self._uploads.uploads, call.bucket)
        listed = [upload for upload in uploads if upload.key.startswith(parameters.prefix)]
        candidates = _after(listed, key_marker, id_marker, parameters.delimiter)
        entries, prefixes, last = _page(candidates, parameters)
        encode = parameters.encode
        body = [
            xml.element("Bucket", call.bucket),
            xml.element("KeyMarker", encode(key_marker or "")),
            xml.element("UploadIdMarker", id_marker or ""),
            xml.element("NextKeyMarker", encode(last[0]) if last else None),
            xml.element("NextUploadIdMarker", last[1] if last else None),
            xml.element("Delimiter", encode(parameters.delimiter)),
            xml.element("Prefix", encode(parameters.prefix)),
            xml.element("MaxUploads", parameters.max_keys),
            xml.element("IsTruncated", last is not None),
            *(self._upload(parameters, upload) for upload in entries),
            *(
                xml.group("CommonPrefixes", [xml.element("Prefix", encode(prefix))])
                for prefix in prefixes
            ),
            xml.element("EncodingType", "url" if parameters.url_encoded else None),
        ]
        return xml_response(xml.document("ListMultipartUploadsResult", body))

    def _upload(self, parameters: ListParameters, upload: Upload) -> str:
        return xml.group(
            "Upload",
            [
                xml.element("Key", parameters.encode(upload.key)),
                xml.element("UploadId", upload.upload_id),
                self._initiator(upload),
                self._owner.render(),
                xml.element("StorageClass", "STANDARD"),
                xml.element("Initiated", iso_time(upload.initiated)),
            ],
        )

    def _initiator(self, upload: Upload) -> str:
        return xml.Owner(upload.initiator, upload.initiator).render("Initiator")


def _part_marker(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not value.isdigit():
        raise InvalidArgument(
            "Provided part-number-marker not an integer or within integer range",
            ArgumentName="part-number-marker",
            ArgumentValue=value,
        )
    return int(value)


def _after(
    uploads: list[Upload], key_marker: str | None, id_marker: str | None, delimiter: str | None
) -> list[Upload]:
    """The uploads after the markers: keys after ``key_marker`` (and not under it, when
    it is a common prefix), and uploads of that key after the one named ``id_marker``."""
    if key_marker is None:
        return uploads
    if id_marker is not None:
        same_key = [upload.upload_id for upload in uploads if upload.key == key_marker]
        if id_marker in same_key:
            position = next(
                index for index, upload in enumerate(uploads) if upload.upload_id == id_marker
            )
            return uploads[position + 1 :]
    rolled_up = delimiter is not None and key_marker.endswith(delimiter)
    return [
        upload
        for upload in uploads
        if upload.key > key_marker and not (rolled_up and upload.key.startswith(key_marker))
    ]


def _page(
    uploads: Sequence[Upload], parameters: ListParameters
) -> tuple[list[Upload], list[str], tuple[str, str] | None]:
    """One page: uploads, common prefixes, and the next markers when truncated."""
    entries: list[Upload] = []
    prefixes: list[str] = []
    last: tuple[str, str] | None = None
    for upload in uploads:
        rolled = common_prefix(upload.key, parameters.prefix, parameters.delimiter)
        if rolled is not None and prefixes and prefixes[-1] == rolled:
            continue
        if len(entries) + len(prefixes) == parameters.max_keys:
            return entries, prefixes, last
        if rolled is not None:
            prefixes.append(rolled)
            last = (rolled, "")
        else:
            entries.append(upload)
            last = (upload.key, upload.upload_id)
    return entries, prefixes, None
