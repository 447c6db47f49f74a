"""Object bodies streamed to and from S3.

A writer holds at most one part in memory. An object of up to 8 MiB is one
``PutObject`` at commit; a bigger one becomes a multipart upload whose 8 MiB parts go
out as they fill (S3: every part but the last is 5 MiB to 5 GiB; up to 10,000 parts,
so up to about 78 GiB at this part size), completed at commit. Either way nothing is
visible before commit, and a failure or :meth:`~S3ObjectWriter.abort` aborts the
upload (``AbortMultipartUpload``) so no parts are left to pay for. Each request
carries ``Content-MD5``, which S3 checks against the bytes it received.

What S3 decides, not the writer: the ETag (MD5 for one ``PutObject``, MD5 of the
parts' MD5s plus ``-N`` for N parts) and Last-Modified (for a multipart upload, when
the upload began). A multipart upload takes its attributes when it starts; given
other attributes at commit, the writer copies the object onto itself with them
(``CopyObject``, ``MetadataDirective=REPLACE``; S3 copies at most 5 GiB so). Checksums
go with a single ``PutObject``, where S3 verifies them; a multipart upload's parts
are checked by their ``Content-MD5`` instead.

A reader streams ``GetObject``'s body: the version S3 began to send is the one read
to the end, whatever happens to the key meanwhile.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError

from overcast.ports.objects.base import (
    CHUNK_SIZE,
    ByteRange,
    ObjectAttributes,
    ObjectInfo,
    ObjectReader,
    ObjectWriter,
    WritePrecondition,
)
from overcast.ports.objects.exceptions import (
    ConditionalWriteUnsupported,
    ObjectStoreError,
    ObjectStoreUnavailable,
)
from overcast.ports.objects.s3_requests import call, checksum_parameters, object_parameters

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PART_SIZE = 8 * 1024 * 1024


class S3ObjectReader(ObjectReader):
    """An object (or a range of it) as ``GetObject`` is sending it."""

    def __init__(self, info: ObjectInfo, byte_range: ByteRange | None, body: Any) -> None:
        self.info = info
        self.byte_range = byte_range
        self._body = body
        self._closed = False

    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        if self._closed:
            raise ValueError("This reader is closed.")
        try:
            yield from self._body.iter_chunks(size)
        except (BotoCoreError, OSError) as exc:
            raise ObjectStoreUnavailable(
                f"Reading {self.info.key!r} from S3 failed: {exc}"
            ) from exc

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                self._body.close()


class S3ObjectWriter(ObjectWriter):
    """A new object ``key`` of ``bucket``, invisible until :meth:`commit`.

    ``planned`` are the attributes the object is expected to get (a multipart upload
    starts with them); ``head`` describes the committed object.
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        key: str,
        *,
        planned: ObjectAttributes | None,
        head: Callable[[str], ObjectInfo],
        part_size: int = PART_SIZE,
    ) -> None:
        super().__init__()
        self.key = key
        self._client = client
        self._bucket = bucket
        self._planned = planned or ObjectAttributes()
        self._head = head
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._open = True

    def _write(self, chunk: bytes) -> None:
        self._check_open()
        self._buffer += chunk
        try:
            while len(self._buffer) > self._part_size:
                self._send_part(bytes(self._buffer[: self._part_size]))
                del self._buffer[: self._part_size]
        except BaseException:
            self.abort()
            raise

    def _commit(
        self, attributes: ObjectAttributes, etag: str | None, precondition: WritePrecondition | None
    ) -> ObjectInfo:
        if precondition is not None:
            raise ConditionalWriteUnsupported(
                "S3ObjectWriter cannot check a write's precondition atomically."
            )
        self._check_open()
        if etag is not None and (self._upload_id is not None or etag != self.md5_hex()):
            raise ValueError("S3 computes an object's ETag itself: commit without etag=.")
        self._open = False
        try:
            if self._upload_id is None:
                self._put(bytes(self._buffer), attributes)
            else:
                self._send_part(bytes(self._buffer))
                self._complete()
                if attributes != self._planned:
                    self._replace_attributes(attributes)
        except BaseException:
            self.abort()
            raise
        self._buffer = bytearray()
        return self._head(self.key)

    def abort(self) -> None:
        self._open = False
        self._buffer = bytearray()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:
            # If this fails too, the bucket's lifecycle rule removes the parts.
            with contextlib.suppress(ObjectStoreError):
                self._call(self._client.abort_multipart_upload, UploadId=upload_id)

    # --- requests --------------------------------------------------------------------------

    def _check_open(self) -> None:
        if not self._open:
            raise ValueError("This writer has been committed or aborted.")

    def _call(self, operation: Callable[..., Any], **request: Any) -> Any:
        return call(operation, self._bucket, self.key, Bucket=self._bucket, Key=self.key, **request)

    def _put(self, body: bytes, attributes: ObjectAttributes) -> None:
        self._call(
            self._client.put_object,
            Body=body,
            ContentMD5=_content_md5(body),
            **object_parameters(attributes),
            **checksum_parameters(attributes.checksums),
        )

    def _send_part(self, part: bytes) -> None:
        if self._upload_id is None:
            started = self._call(
                self._client.create_multipart_upload, **object_parameters(self._planned)
            )
            self._upload_id = str(started["UploadId"])
        number = len(self._parts) + 1
        sent = self._call(
            self._client.upload_part,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
            ContentMD5=_content_md5(part),
        )
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})

    def _complete(self) -> None:
        self._call(
            self._client.complete_multipart_upload,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None

    def _replace_attributes(self, attributes: ObjectAttributes) -> None:
        self._call(
            self._client.copy_object,
            CopySource={"Bucket": self._bucket, "Key": self.key},
            MetadataDirective="REPLACE",
            **object_parameters(attributes),
        )


def _content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
