"""An object's metadata: read from PutObject's headers, told back by GetObject/HeadObject.

What it mirrors from S3 ("Working with object metadata", PutObject, GetObject):

- System metadata a client sets: ``Content-Type`` (default ``binary/octet-stream``),
  ``Cache-Control``, ``Content-Disposition``, ``Content-Encoding``,
  ``Content-Language``, ``Expires`` (kept verbatim). ``aws-chunked`` is a transfer
  coding of the upload, not of the object: S3 drops it from ``Content-Encoding``.
- User metadata: ``x-amz-meta-*`` headers, names lower-cased, told back as sent.
  "The user-defined metadata is limited to 2 KB in size. The size of user-defined
  metadata is measured by taking the sum of the number of bytes in the UTF-8
  encoding of each key and value": beyond it, ``MetadataTooLarge``.
- ACLs: new buckets enforce bucket-owner object ownership, so S3 refuses any ACL but
  ``private`` / ``bucket-owner-full-control`` with ``AccessControlListNotSupported``.
- What the local store cannot honour (KMS or customer-provided keys, object lock,
  tags, storage classes other than STANDARD) is refused with ``NotImplemented``
  rather than stored and ignored.
- GetObject's ``response-*`` query parameters override the headers it answers, on
  signed requests only: S3 answers an anonymous request using them with
  ``InvalidRequest``.
- Checksums stored with the object (``x-amz-checksum-<algorithm>``) are told only when
  the client asks with ``x-amz-checksum-mode: ENABLED``, and only for a whole object.
"""

from __future__ import annotations

from collections.abc import Mapping

from overcast.local.s3.errors import (
    AccessControlListNotSupported,
    InvalidRequest,
    MetadataTooLarge,
    NotImplementedError_,
)
from overcast.local.s3.responses import Headers, http_date, quoted
from overcast.ports.objects import ObjectAttributes, ObjectInfo

METADATA_PREFIX = "x-amz-meta-"
MAX_METADATA_BYTES = 2 * 1024
_ALLOWED_ACLS = frozenset({"private", "bucket-owner-full-control"})
_UNSERVED_HEADER_PREFIXES = (
    "x-amz-server-side-encryption-customer-",
    "x-amz-server-side-encryption-aws-kms-",
    "x-amz-object-lock-",
    "x-amz-tagging",
)

# GetObject's override parameters and the headers they replace.
RESPONSE_OVERRIDES = {
    "response-content-type": b"content-type",
    "response-content-language": b"content-language",
    "response-expires": b"expires",
    "response-cache-control": b"cache-control",
    "response-content-disposition": b"content-disposition",
    "response-content-encoding": b"content-encoding",
}


def attributes_from(
    headers: Mapping[str, str], checksums: Mapping[str, str] | None = None
) -> ObjectAttributes:
    """The attributes a PutObject (or CreateMultipartUpload, or a CopyObject that
    replaces metadata) gives its object."""
    _refuse_acls(headers)
    _refuse_unserved(headers)
    return ObjectAttributes(
        content_type=headers.get("content-type") or "binary/octet-stream",
        cache_control=headers.get("cache-control"),
        content_disposition=headers.get("content-disposition"),
        content_encoding=_content_encoding(headers.get("content-encoding")),
        content_language=headers.get("content-language"),
        expires=headers.get("expires"),
        metadata=user_metadata(headers),
        checksums=dict(checksums or {}),
    )


def user_metadata(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``x-amz-meta-*`` headers (names without the prefix); ``MetadataTooLarge``."""
    metadata = {
        name[len(METADATA_PREFIX) :]: value
        for name, value in headers.items()
        if name.startswith(METADATA_PREFIX)
    }
    # Header values arrive as bytes (decoded as latin-1): count the bytes as sent.
    size = sum(len(_wire(name)) + len(_wire(value)) for name, value in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise MetadataTooLarge(Size=str(size), MaxSizeAllowed=str(MAX_METADATA_BYTES))
    return metadata


def object_headers(info: ObjectInfo, *, checksums: bool = False) -> Headers:
    """The headers that describe an object in GetObject's and HeadObject's answers."""
    attributes = info.attributes
    headers: Headers = [
        (b"etag", quoted(info.etag).encode()),
        (b"last-modified", http_date(info.last_modified).encode()),
        (b"accept-ranges", b"bytes"),
        (b"content-type", _wire(attributes.content_type)),
    ]
    optional = (
        (b"cache-control", attributes.cache_control),
        (b"content-disposition", attributes.content_disposition),
        (b"content-encoding", attributes.content_encoding),
        (b"content-language", attributes.content_language),
        (b"expires", attributes.expires),
    )
    headers += [(name, _wire(value)) for name, value in optional if value]
    headers += [
        (_wire(f"{METADATA_PREFIX}{name}"), _wire(value))
        for name, value in attributes.metadata.items()
    ]
    if checksums:
        headers += checksum_headers(attributes.checksums)
    return headers


def checksum_headers(checksums: Mapping[str, str]) -> Headers:
    """``x-amz-checksum-<algorithm>`` headers for verified or stored checksums."""
    headers: Headers = [
        (f"x-amz-checksum-{algorithm.lower()}".encode(), value.encode())
        for algorithm, value in checksums.items()
    ]
    if headers:
        headers.append((b"x-amz-checksum-type", b"FULL_OBJECT"))
    return headers


def overrides(query: Mapping[str, str], *, signed: bool) -> dict[bytes, bytes]:
    """GetObject's ``response-*`` overrides, refused on anonymous requests."""
    found = {
        header: _wire(query[parameter])
        for parameter, header in RESPONSE_OVERRIDES.items()
        if parameter in query
    }
    if found and not signed:
        raise InvalidRequest(
            "Request specific response headers cannot be used for anonymous GET requests."
        )
    return found


def apply_overrides(headers: Headers, replacements: Mapping[bytes, bytes]) -> Headers:
    """``headers`` with each overridden header replaced (or added)."""
    if not replacements:
        return headers
    kept = [(name, value) for name, value in headers if name not in replacements]
    return kept + list(replacements.items())


def _wire(value: str) -> bytes:
    """A header value's bytes: as received (latin-1), or UTF-8 for text set otherwise."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()


def _content_encoding(value: str | None) -> str | None:
    if not value:
        return None
    codings = [coding.strip() for coding in value.split(",")]
    kept = [coding for coding in codings if coding and coding.lower() != "aws-chunked"]
    return ", ".join(kept) or None


def _refuse_unserved(headers: Mapping[str, str]) -> None:
    """Refuse loudly what would be stored but not honoured (the local cloud never
    ignores a feature silently): KMS and customer keys, object lock, tags, other
    storage classes. SSE-S3 (``AES256``), S3's default for every object, is accepted."""
    encryption = headers.get("x-amz-server-side-encryption")
    if encryption is not None and encryption != "AES256":
        raise NotImplementedError_("The local S3 endpoint encrypts with SSE-S3 (AES256) only.")
    storage_class = headers.get("x-amz-storage-class")
    if storage_class is not None and storage_class != "STANDARD":
        raise NotImplementedError_("The local S3 endpoint keeps objects in STANDARD only.")
    for name in headers:
        if name.startswith(_UNSERVED_HEADER_PREFIXES):
            raise NotImplementedError_(f"The local S3 endpoint does not serve the {name} header.")


def _refuse_acls(headers: Mapping[str, str]) -> None:
    acl = headers.get("x-amz-acl")
    grants = [name for name in headers if name.startswith("x-amz-grant-")]
    if grants or (acl is not None and acl not in _ALLOWED_ACLS):
        raise AccessControlListNotSupported()
