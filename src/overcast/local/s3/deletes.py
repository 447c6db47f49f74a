"""DeleteObjects: up to 1000 keys in one request, each authorized and answered alone.

What it mirrors from S3 (DeleteObjects API reference):

- "The Content-MD5 header is required for all Multi-Object Delete requests" (or,
  since 2025, an ``x-amz-checksum-*`` header or trailer instead): without one S3
  answers ``InvalidRequest`` "Missing required header for this request: Content-MD5".
  The payload verifies whichever was sent (``BadDigest``).
- The body is ``<Delete><Quiet/>?<Object><Key/><VersionId/>?</Object>...</Delete>``;
  more than 1000 objects, none, or an object without a key is ``MalformedXML``.
- Each key is authorized as ``s3:DeleteObject`` on its own ARN; a key the caller may
  not delete is an ``<Error>`` entry with ``AccessDenied`` and stays untouched, while
  the others are deleted. A missing key is reported deleted, as DeleteObject's 204.
- Quiet mode answers only the errors.
- An object entry with a condition (``ETag``, ``LastModifiedTime``, ``Size``) is a
  conditional delete, which the local endpoint does not serve: the request is 501
  ``NotImplemented`` rather than served unconditionally.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from overcast.local.s3 import xml
from overcast.local.s3.errors import (
    AccessDenied,
    InvalidRequest,
    MalformedXML,
    NoSuchVersion,
    NotImplementedError_,
    S3Error,
)
from overcast.local.s3.exchange import Exchange
from overcast.local.s3.objects import checked_key
from overcast.local.s3.responses import S3Response, xml_response
from overcast.ports.objects import ObjectStore, ObjectStoreError

MAX_KEYS = 1000
MAX_BODY_BYTES = 2 * 1024 * 1024  # 1000 keys of 1024 bytes, escaped, fit
logger = logging.getLogger(__name__)
_INTEGRITY_HEADERS = (
    "content-md5",
    "x-amz-trailer",
    *tuple(f"x-amz-checksum-{name}" for name in ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")),
)


@dataclass(frozen=True)
class _Object:
    key: str
    version: str | None = None


@dataclass(frozen=True)
class _Outcome:
    key: str
    error: S3Error | None = None


async def delete_objects(exchange: Exchange) -> S3Response:
    headers = exchange.call.headers
    if not any(name in headers for name in _INTEGRITY_HEADERS):
        raise InvalidRequest("Missing required header for this request: Content-MD5")
    body = await exchange.payload.read_all(exchange.receive, MAX_BODY_BYTES)
    quiet, objects = _read_request(body)
    permitted: list[str] = []
    refused: list[_Outcome] = []
    for entry in objects:
        error = _refusal(exchange, entry)
        if error is None:
            permitted.append(entry.key)
        else:
            refused.append(_Outcome(entry.key, error))
    deleted = await asyncio.to_thread(_delete_all, exchange.objects(), permitted)
    return xml_response(_result([*deleted, *refused], quiet=quiet))


def _read_request(body: bytes) -> tuple[bool, list[_Object]]:
    request = xml.parse(body, "Delete")
    quiet = (xml.child_text(request, "Quiet") or "").strip().lower() == "true"
    objects = xml.children(request, "Object")
    if not objects or len(objects) > MAX_KEYS:
        raise MalformedXML()
    return quiet, [_object(entry) for entry in objects]


_CONDITIONS = ("ETag", "LastModifiedTime", "Size")


def _object(entry: Element) -> _Object:
    key = xml.child_text(entry, "Key")
    if not key:
        raise MalformedXML()
    for condition in _CONDITIONS:
        if xml.child_text(entry, condition) is not None:
            raise NotImplementedError_(
                f"The local S3 endpoint does not serve conditional deletes ({condition})."
            )
    return _Object(key, xml.child_text(entry, "VersionId"))


def _refusal(exchange: Exchange, entry: _Object) -> S3Error | None:
    """Why the object will not be deleted, or ``None`` when it will be."""
    try:
        checked_key(entry.key)
    except S3Error as error:
        return error
    if entry.version is not None and entry.version != "null":
        return NoSuchVersion()  # the bucket is unversioned: only "null" exists
    if not exchange.access.allows("s3:DeleteObject", exchange.call.bucket, entry.key):
        return AccessDenied()
    return None


def _delete_all(store: ObjectStore, keys: Sequence[str]) -> list[_Outcome]:
    """Delete each key (in a worker thread); one key's failure does not stop the others."""
    outcomes = []
    for key in keys:
        try:
            store.delete(key)
        except ObjectStoreError:
            logger.exception("DeleteObjects: deleting %r from %r failed", key, store.name)
            outcomes.append(_Outcome(key, S3Error()))
        else:
            outcomes.append(_Outcome(key))
    return outcomes


def _result(outcomes: Sequence[_Outcome], *, quiet: bool) -> bytes:
    parts = []
    for outcome in outcomes:
        if outcome.error is None:
            if not quiet:
                parts.append(xml.group("Deleted", [xml.element("Key", outcome.key)]))
            continue
        error = outcome.error
        entry = [
            xml.element("Key", outcome.key),
            xml.element("Code", error.code),
            xml.element("Message", error.message),
        ]
        parts.append(xml.group("Error", entry))
    return xml.document("DeleteResult", parts)
