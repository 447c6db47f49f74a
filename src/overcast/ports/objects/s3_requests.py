"""S3 requests and answers in the object store port's terms: attributes, infos, errors.

- **User metadata** travels in ``x-amz-meta-*`` headers, which must be US-ASCII. As
  S3 documents for non-ASCII values ("character decoded as per RFC 2047 before storing
  and encoded as per RFC 2047 to make them mail-safe before returning"), a non-ASCII
  value is sent as an RFC 2047 encoded-word (``=?UTF-8?B?...?=``) and every
  encoded-word read back is decoded.
- **Expires** is sent as the HTTP date it names and read back verbatim
  (``ExpiresString``); a value that is not an HTTP date cannot be sent.
- **Checksums** (``ChecksumCRC32``, ...) are read with ``ChecksumMode=ENABLED``, so an
  object's attributes name the checksums S3 stores for it.
- **Errors** become the port's exceptions (:func:`call`); no botocore type escapes.
"""

from __future__ import annotations

import base64
import email.header
import email.utils
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from overcast.ports.objects.base import ObjectAttributes, ObjectInfo
from overcast.ports.objects.exceptions import (
    InvalidKey,
    InvalidRange,
    NoSuchBucket,
    NoSuchKey,
    ObjectStoreError,
    ObjectStoreUnavailable,
    PreconditionFailed,
)

T = TypeVar("T")

# The additional checksums S3 stores (S3 user guide, "Checking object integrity").
CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
# S3 gives an object stored without a Content-Type this one.
_S3_DEFAULT_CONTENT_TYPE = "binary/octet-stream"
_UNAVAILABLE = frozenset(
    {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "500", "503"}
)


def object_parameters(attributes: ObjectAttributes) -> dict[str, Any]:
    """PutObject's (or CreateMultipartUpload's, CopyObject's) system and user metadata."""
    parameters: dict[str, Any] = {
        "ContentType": attributes.content_type,
        "Metadata": {name: _mail_safe(value) for name, value in attributes.metadata.items()},
    }
    optional = {
        "CacheControl": attributes.cache_control,
        "ContentDisposition": attributes.content_disposition,
        "ContentEncoding": attributes.content_encoding,
        "ContentLanguage": attributes.content_language,
    }
    parameters.update({name: value for name, value in optional.items() if value is not None})
    if attributes.expires is not None:
        parameters["Expires"] = _http_date(attributes.expires)
    return parameters


def checksum_parameters(checksums: Mapping[str, str]) -> dict[str, str]:
    """``ChecksumCRC32`` etc. of a PutObject, which S3 verifies against the body."""
    unknown = set(checksums) - set(CHECKSUM_ALGORITHMS)
    if unknown:
        raise ObjectStoreError(f"S3 knows no checksum algorithm {sorted(unknown)}.")
    return {f"Checksum{algorithm}": value for algorithm, value in checksums.items()}


def attributes_of(answer: Mapping[str, Any]) -> ObjectAttributes:
    """The attributes HeadObject or GetObject answered."""
    return ObjectAttributes(
        content_type=answer.get("ContentType") or _S3_DEFAULT_CONTENT_TYPE,
        cache_control=answer.get("CacheControl"),
        content_disposition=answer.get("ContentDisposition"),
        content_encoding=answer.get("ContentEncoding"),
        content_language=answer.get("ContentLanguage"),
        expires=answer.get("ExpiresString"),
        metadata={name: _decoded(value) for name, value in answer.get("Metadata", {}).items()},
        checksums={
            algorithm: answer[f"Checksum{algorithm}"]
            for algorithm in CHECKSUM_ALGORITHMS
            if answer.get(f"Checksum{algorithm}")
        },
    )


def info_of(
    key: str,
    answer: Mapping[str, Any],
    *,
    size: int | None = None,
    attributes: ObjectAttributes | None = None,
) -> ObjectInfo:
    """An object's info from HeadObject, GetObject (``size``: the whole object's) or a
    ListObjectsV2 entry (``Size``; no attributes in listings)."""
    found = answer.get("ContentLength", answer.get("Size", 0))
    modified: datetime = answer["LastModified"]
    return ObjectInfo(
        key=key,
        size=found if size is None else size,
        etag=str(answer["ETag"]).strip('"'),
        last_modified=modified.astimezone(UTC).replace(microsecond=0),
        attributes=attributes_of(answer) if attributes is None else attributes,
    )


def call(operation: Callable[..., T], bucket: str, key: str | None = None, **request: Any) -> T:
    """``operation(**request)`` (a boto3 S3 client method), its errors translated."""
    try:
        return operation(**request)
    except ClientError as exc:
        raise translated(exc, bucket, key) from exc
    except BotoCoreError as exc:
        raise ObjectStoreUnavailable(f"S3 could not be reached: {exc}") from exc


def translated(error: ClientError, bucket: str, key: str | None = None) -> ObjectStoreError:
    """The port's exception for an S3 error answer about ``key`` of ``bucket``."""
    details: Mapping[str, Any] = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")) or code
    if code in ("NoSuchKey", "404", "NotFound") and key is not None:
        return NoSuchKey(key)
    if code == "NoSuchBucket":
        return NoSuchBucket(bucket)
    if code == "InvalidRange" and str(details.get("ActualObjectSize", "")).isdigit():
        return InvalidRange(int(details["ActualObjectSize"]))
    if code in ("PreconditionFailed", "412"):
        return PreconditionFailed(f"S3: {message}")
    if code == "KeyTooLongError":
        return InvalidKey(f"S3 refused the key: {message}")
    if code in _UNAVAILABLE:
        return ObjectStoreUnavailable(f"S3 is busy or failing ({code}): {message}; retry later.")
    return ObjectStoreError(f"S3 refused the request ({code or 'unknown error'}): {message}")


def _mail_safe(value: str) -> str:
    if value.isascii():
        return value
    return f"=?UTF-8?B?{base64.b64encode(value.encode()).decode()}?="


def _decoded(value: str) -> str:
    if not (value.startswith("=?") and value.endswith("?=")):
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError):  # not a well-formed encoded-word after all
        return value


def _http_date(value: str) -> datetime:
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise ObjectStoreError(f"S3 needs Expires as an HTTP date, not {value!r}.") from exc
