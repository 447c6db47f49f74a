"""Reading a path-style S3 REST request: its bucket, key and operation.

What it mirrors from S3's REST API:

- Path style: ``/<bucket>/<key>``. The path is percent-decoded exactly once, as UTF-8,
  and split at its first ``/`` after the bucket: ``%2F`` in a key is a plain ``/``,
  ``..`` and ``//`` are ordinary characters of a key (keys are opaque), and ``+`` in
  a path is a plus. A path that is not percent-encoded UTF-8 is ``InvalidURI``.
  ``/<bucket>`` and ``/<bucket>/`` both name the bucket.
- The operation follows from the method and the subresources in the query, as S3's
  API reference lists them: ``GET /<bucket>?list-type=2`` is ListObjectsV2,
  ``POST /<bucket>/<key>?uploads`` is CreateMultipartUpload, ``POST /<bucket>`` with a
  ``multipart/form-data`` body is a browser-based upload (PostObject), a PUT with
  ``x-amz-copy-source`` is CopyObject, ``PUT /<bucket>?cors`` is PutBucketCors,
  ``OPTIONS`` on a bucket or an object is a CORS preflight, and so on. A subresource
  the local cloud does not serve (``?acl``, ``?tagging``, ``?policy``...) answers
  ``NotImplemented`` rather than being served as something else; a method S3 has no
  operation for at that path answers ``MethodNotAllowed``.
- The query is decoded once (:func:`decode_query`), by the very function the
  signature check decodes it with (:func:`overcast.local.auth.canonical.query_pairs`):
  percent-decoded as UTF-8 (else ``InvalidURI``), ``+`` a plus (AWS's SDKs send a
  space as ``%20``). So a request cannot mean one thing to its signature and another
  to its operation. S3's parameters each take one value: a name sent twice is
  ``InvalidArgument`` (under SigV4 every parameter is signed, so whichever value an
  operation took, a repeated one would be served unsigned).
- A SigV2 presigned URL carries headers in its query string (``x-amz-*``,
  ``Content-Type``, ``Content-MD5``): they count as headers, for the operation as for
  the signature (:func:`overcast.local.s3.sigv2.with_query_headers`).
- Header names are lower-case (ASGI gives them so) and repeated headers are joined
  with ``,`` (RFC 9110, 5.3).
- Over TLS, ``tls_version`` is the protocol version (``"1.3"``) when the server tells
  it (the ASGI TLS extension), for ``s3:TlsVersion``.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from overcast.local.auth import canonical
from overcast.local.s3 import sigv2
from overcast.local.s3.errors import (
    InvalidArgument,
    InvalidURI,
    MethodNotAllowed,
    NotImplementedError_,
)
from overcast.local.s3.signing import Form, signing_form

Scope = MutableMapping[str, Any]


class Operation(StrEnum):
    """The S3 API operations the local endpoint serves (S3 API reference names)."""

    LIST_BUCKETS = "ListBuckets"
    CREATE_BUCKET = "CreateBucket"
    HEAD_BUCKET = "HeadBucket"
    DELETE_BUCKET = "DeleteBucket"
    GET_BUCKET_LOCATION = "GetBucketLocation"
    LIST_OBJECTS = "ListObjects"
    LIST_OBJECTS_V2 = "ListObjectsV2"
    LIST_OBJECT_VERSIONS = "ListObjectVersions"
    LIST_MULTIPART_UPLOADS = "ListMultipartUploads"
    DELETE_OBJECTS = "DeleteObjects"
    PUT_OBJECT = "PutObject"
    COPY_OBJECT = "CopyObject"
    GET_OBJECT = "GetObject"
    HEAD_OBJECT = "HeadObject"
    DELETE_OBJECT = "DeleteObject"
    CREATE_MULTIPART_UPLOAD = "CreateMultipartUpload"
    UPLOAD_PART = "UploadPart"
    COMPLETE_MULTIPART_UPLOAD = "CompleteMultipartUpload"
    ABORT_MULTIPART_UPLOAD = "AbortMultipartUpload"
    LIST_PARTS = "ListParts"
    POST_OBJECT = "PostObject"  # a browser-based form upload (see .post_upload)
    GET_BUCKET_CORS = "GetBucketCors"
    PUT_BUCKET_CORS = "PutBucketCors"
    DELETE_BUCKET_CORS = "DeleteBucketCors"
    PREFLIGHT = "PreflightRequest"  # OPTIONS: a browser's CORS preflight (see .cors)


# Subresources of S3's API that select operations the local cloud does not serve.
UNSERVED_SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "attributes", "encryption",
        "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "logging",
        "metadataConfiguration", "metrics", "notification", "object-lock",
        "ownershipControls", "policy", "policyStatus", "publicAccessBlock", "renameObject",
        "replication", "requestPayment", "restore", "retention", "select", "session",
        "tagging", "torrent", "versioning", "website",
    }
)  # fmt: skip
# The ASGI TLS extension's tls_version (the TLS record's version number) as
# s3:TlsVersion tells it.
TLS_VERSIONS = {0x0301: "1.0", 0x0302: "1.1", 0x0303: "1.2", 0x0304: "1.3"}


@dataclass(slots=True)
class S3Call:
    """One request to the S3 endpoint, read once: what it asks for and how it came."""

    method: str
    bucket: str  # "" for the service (ListBuckets)
    key: str  # "" for the service and bucket operations
    operation: Operation
    query: dict[str, str]  # each parameter once (a repeated one is refused)
    headers: dict[str, str]
    header_pairs: list[tuple[str, str]]
    raw_path: str
    raw_query: str
    secure: bool
    source_ip: str
    query_pairs: Sequence[tuple[str, str]] = ()  # the query decoded, in order, as signed
    tls_version: str | None = None  # "1.3" over TLS 1.3, when the server tells it

    @property
    def resource(self) -> str:
        """The decoded path, as S3's error ``<Resource>`` tells it."""
        if not self.bucket:
            return "/"
        return f"/{self.bucket}/{self.key}" if self.key else f"/{self.bucket}"


def read_call(scope: Scope) -> S3Call:
    """The :class:`S3Call` of an ASGI HTTP scope (``InvalidURI``, ``NotImplemented``,
    ``MethodNotAllowed`` when S3 would refuse it so)."""
    raw_path = _raw_path(scope)
    raw_query = bytes(scope.get("query_string", b"")).decode("latin-1")
    bucket, key = split_path(raw_path)
    pairs = decode_query(raw_query)
    query = single_valued(pairs)
    header_pairs = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
    ]
    if signing_form(query, _first(header_pairs, "authorization")) is Form.QUERY_V2:
        header_pairs = sigv2.with_query_headers(header_pairs, pairs)
    headers = _merge(header_pairs)
    method = str(scope["method"])
    operation = resolve_operation(method, bucket, key, query, headers)
    client = scope.get("client")
    return S3Call(
        method=method,
        bucket=bucket,
        key=key,
        operation=operation,
        query=query,
        headers=headers,
        header_pairs=header_pairs,
        raw_path=raw_path,
        raw_query=raw_query,
        secure=scope.get("scheme") == "https",
        source_ip=str(client[0]) if client else "127.0.0.1",
        query_pairs=pairs,
        tls_version=tls_version(scope),
    )


def decode_query(raw_query: str) -> list[tuple[str, str]]:
    """The query's ``(name, value)`` pairs, decoded as its signature decodes them."""
    try:
        return canonical.query_pairs(raw_query, strict=True)
    except UnicodeDecodeError as exc:
        raise InvalidURI() from exc


def single_valued(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The parameters by name; ``InvalidArgument`` for a name given twice."""
    query: dict[str, str] = {}
    for name, value in pairs:
        if name in query:
            raise InvalidArgument(
                f"The query parameter {name!r} was given more than once.",
                ArgumentName=name,
                ArgumentValue=value,
            )
        query[name] = value
    return query


def tls_version(scope: Scope) -> str | None:
    """The TLS version of the connection, if the server reports it (ASGI TLS extension)."""
    extension = (scope.get("extensions") or {}).get("tls") or {}
    version = extension.get("tls_version")
    return TLS_VERSIONS.get(version) if isinstance(version, int) else None


def split_path(raw_path: str) -> tuple[str, str]:
    """``(bucket, key)`` of a raw path-style path, decoded once as UTF-8."""
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidURI() from exc
    if not path.startswith("/"):
        raise InvalidURI()
    bucket, _, key = path[1:].partition("/")
    return bucket, key


def resolve_operation(
    method: str, bucket: str, key: str, query: dict[str, str], headers: dict[str, str]
) -> Operation:
    """The operation a method and a query's subresources select at a path."""
    if method == "OPTIONS" and bucket:  # a preflight, whatever operation it asks about
        return Operation.PREFLIGHT
    unserved = set(UNSERVED_SUBRESOURCES.intersection(query))
    if key and "cors" in query:  # a bucket's subresource only
        unserved.add("cors")
    if unserved:
        raise NotImplementedError_(
            f"The local S3 endpoint does not serve the {sorted(unserved)[0]!r} subresource."
        )
    if not bucket:
        if method == "GET":
            return Operation.LIST_BUCKETS
        raise MethodNotAllowed(Method=method, ResourceType="SERVICE")
    if not key:
        return _bucket_operation(method, query, headers)
    return _object_operation(method, query, headers)


def _bucket_operation(method: str, query: dict[str, str], headers: dict[str, str]) -> Operation:
    if "cors" in query and method in _CORS_OPERATIONS:
        return _CORS_OPERATIONS[method]
    if method == "GET":
        if "location" in query:
            return Operation.GET_BUCKET_LOCATION
        if "uploads" in query:
            return Operation.LIST_MULTIPART_UPLOADS
        if "versions" in query:
            return Operation.LIST_OBJECT_VERSIONS
        if query.get("list-type") == "2":
            return Operation.LIST_OBJECTS_V2
        return Operation.LIST_OBJECTS
    found = {
        "HEAD": Operation.HEAD_BUCKET,
        "PUT": Operation.CREATE_BUCKET,
        "DELETE": Operation.DELETE_BUCKET,
    }.get(method)
    if found is not None:
        return found
    if method == "POST" and "delete" in query:
        return Operation.DELETE_OBJECTS
    content_type = headers.get("content-type", "").lower()
    if method == "POST" and not query and content_type.startswith("multipart/form-data"):
        return Operation.POST_OBJECT
    raise MethodNotAllowed(Method=method, ResourceType="BUCKET")


_CORS_OPERATIONS = {
    "GET": Operation.GET_BUCKET_CORS,
    "PUT": Operation.PUT_BUCKET_CORS,
    "DELETE": Operation.DELETE_BUCKET_CORS,
}


def _object_operation(method: str, query: dict[str, str], headers: dict[str, str]) -> Operation:
    multipart = "uploadId" in query
    if method == "GET":
        return Operation.LIST_PARTS if multipart else Operation.GET_OBJECT
    if method == "HEAD":
        return Operation.HEAD_OBJECT
    if method == "PUT":
        return _put_operation(query, headers)
    if method == "DELETE":
        return Operation.ABORT_MULTIPART_UPLOAD if multipart else Operation.DELETE_OBJECT
    if method == "POST":
        if "uploads" in query:
            return Operation.CREATE_MULTIPART_UPLOAD
        if multipart:
            return Operation.COMPLETE_MULTIPART_UPLOAD
    raise MethodNotAllowed(Method=method, ResourceType="OBJECT")


def _put_operation(query: dict[str, str], headers: dict[str, str]) -> Operation:
    copy = "x-amz-copy-source" in headers
    if "uploadId" in query or "partNumber" in query:
        if copy:
            raise NotImplementedError_("The local S3 endpoint does not serve UploadPartCopy.")
        return Operation.UPLOAD_PART
    return Operation.COPY_OBJECT if copy else Operation.PUT_OBJECT


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if not raw:  # a server that gives only the decoded path: encode it back, once
        return quote(str(scope["path"]), safe="/")
    return bytes(raw).decode("latin-1").partition("?")[0]


def _first(pairs: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in pairs if key == name), None)


def _merge(pairs: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers
