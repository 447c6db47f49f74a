"""Reading a path-style S3 REST request: its bucket, key and operation.

What it mirrors from S3's REST API:

- Path style: ``/<bucket>/<key>``. The path is percent-decoded exactly once, as UTF-8,
  and split at its first ``/`` after the bucket: ``%2F`` in a key is a plain ``/``,
  ``..`` and ``//`` are ordinary characters of a key (keys are opaque), and ``+`` in
  a path is a plus. A path that is not percent-encoded UTF-8 is ``InvalidURI``.
  ``/<bucket>`` and ``/<bucket>/`` both name the bucket.
- The operation follows from the method and the subresources in the query, as S3's
  API reference lists them: ``GET /<bucket>?list-type=2`` is ListObjectsV2,
  ``POST /<bucket>/<key>?uploads`` is CreateMultipartUpload, a PUT with
  ``x-amz-copy-source`` is CopyObject, and so on. A subresource the local cloud does
  not serve (``?acl``, ``?tagging``, ``?policy``...) answers ``NotImplemented``
  rather than being served as something else; a method S3 has no operation for at
  that path answers ``MethodNotAllowed``.
- Query parameters are form-decoded (``+`` is a space, as S3 reads them); the first
  value of a repeated parameter counts. Header names are lower-case (ASGI gives
  them so) and repeated headers are joined with ``,`` (RFC 9110, 5.3).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_to_bytes

from overcast.local.s3.errors import InvalidURI, MethodNotAllowed, NotImplementedError_

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


# Subresources of S3's API that select operations the local cloud does not serve.
UNSERVED_SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "attributes", "cors", "encryption",
        "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "logging",
        "metadataConfiguration", "metrics", "notification", "object-lock",
        "ownershipControls", "policy", "policyStatus", "publicAccessBlock", "renameObject",
        "replication", "requestPayment", "restore", "retention", "select", "session",
        "tagging", "torrent", "versioning", "website",
    }
)  # fmt: skip


@dataclass(slots=True)
class S3Call:
    """One request to the S3 endpoint, read once: what it asks for and how it came."""

    method: str
    bucket: str  # "" for the service (ListBuckets)
    key: str  # "" for the service and bucket operations
    operation: Operation
    query: dict[str, str]
    headers: dict[str, str]
    header_pairs: list[tuple[str, str]]
    raw_path: str
    raw_query: str
    secure: bool
    source_ip: str

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
    query = _query(raw_query)
    header_pairs = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
    ]
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
    )


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
    unserved = UNSERVED_SUBRESOURCES.intersection(query)
    if unserved:
        raise NotImplementedError_(
            f"The local S3 endpoint does not serve the {sorted(unserved)[0]!r} subresource."
        )
    if not bucket:
        if method == "GET":
            return Operation.LIST_BUCKETS
        raise MethodNotAllowed(Method=method, ResourceType="SERVICE")
    if not key:
        return _bucket_operation(method, query)
    return _object_operation(method, query, headers)


def _bucket_operation(method: str, query: dict[str, str]) -> Operation:
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
    raise MethodNotAllowed(Method=method, ResourceType="BUCKET")


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


def _query(raw_query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(raw_query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidURI() from exc
    query: dict[str, str] = {}
    for name, value in pairs:
        query.setdefault(name, value)
    return query


def _merge(pairs: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers
