"""The object listings: ListObjectsV2, ListObjects (v1) and ListObjectVersions.

What they mirror from S3's API reference:

- ``prefix``, ``delimiter`` (common prefixes roll up, each counting once toward the
  page), ``max-keys`` (0 to 1000, default 1000; more is capped at 1000; not a
  non-negative integer: ``InvalidArgument``).
- V2 pages with ``continuation-token``: opaque to clients. Here it is the last entry
  of the previous page, authenticated with an HMAC bound to the bucket, so a token
  that was altered, or issued for another bucket, is ``InvalidArgument`` ("The
  continuation token provided is incorrect") rather than a listing from an arbitrary
  key. ``start-after`` counts only on a first page; ``fetch-owner=true`` adds owners.
- V1 pages with ``marker``, and tells ``NextMarker`` only when a delimiter was given
  ("If the response does not include the NextMarker element and it is truncated, you
  can use the value of the last Key element in the response as the marker").
- ``encoding-type=url``: keys, prefixes, delimiter and markers in the answer are
  percent-encoded (UTF-8; ``/`` and ``*`` kept, a space as ``%20``), which is how
  clients list keys XML 1.0 cannot carry. botocore asks for it on every listing.
  Any other encoding type is ``InvalidArgument``.
- ListObjectVersions of an unversioned bucket lists each object once, with version
  id ``null`` and ``IsLatest`` true; ``key-marker`` pages, and a ``version-id-marker``
  needs a ``key-marker``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from overcast.local.s3 import xml
from overcast.local.s3.errors import InvalidArgument
from overcast.local.s3.exchange import Exchange
from overcast.local.s3.responses import S3Response, iso_time, quoted, xml_response
from overcast.ports.objects import ListPage, ObjectInfo

MAX_KEYS = 1000
_MAC_BYTES = 16


@dataclass(frozen=True)
class ListParameters:
    """What every listing reads from its query."""

    prefix: str
    delimiter: str | None
    max_keys: int
    url_encoded: bool

    @classmethod
    def read(cls, query: Mapping[str, str], max_name: str = "max-keys") -> ListParameters:
        return cls(
            prefix=query.get("prefix", ""),
            delimiter=query.get("delimiter") or None,
            max_keys=page_size(query, max_name),
            url_encoded=url_encoded(query),
        )

    def encode(self, value: str | None) -> str | None:
        """``value`` as the answer shows it (percent-encoded with ``encoding-type=url``)."""
        if value is None or not self.url_encoded:
            return value
        return quote(value, safe="/*")


def page_size(query: Mapping[str, str], name: str, default: int = MAX_KEYS) -> int:
    """A page size parameter: 0 to ``default`` (larger values are capped)."""
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise InvalidArgument(
            f"Provided {name} not an integer or within integer range",
            ArgumentName=name,
            ArgumentValue=value,
        )
    return min(int(value), default)


def url_encoded(query: Mapping[str, str]) -> bool:
    """Whether the answer is to be URL-encoded (``InvalidArgument`` for an unknown type)."""
    encoding = query.get("encoding-type")
    if encoding is None:
        return False
    if encoding.lower() != "url":
        raise InvalidArgument(
            "Invalid Encoding Method specified in Request",
            ArgumentName="encoding-type",
            ArgumentValue=encoding,
        )
    return True


class ContinuationTokens:
    """Issues and checks ListObjectsV2's continuation tokens (see the module docstring).

    The HMAC key lives in ``key_path``, made on first use, so tokens outlive a restart.
    """

    def __init__(self, key_path: Path) -> None:
        self._key_path = key_path
        self._key: bytes | None = None

    def issue(self, bucket: str, marker: str) -> str:
        raw = marker.encode()
        token = self._mac(bucket, raw) + raw
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def read(self, bucket: str, token: str) -> str:
        """The marker in ``token`` (``InvalidArgument`` unless this endpoint issued it
        for ``bucket``)."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            mac, marker = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
            if len(mac) == _MAC_BYTES and hmac.compare_digest(mac, self._mac(bucket, marker)):
                return marker.decode()
        except (binascii.Error, ValueError):
            pass
        raise InvalidArgument(
            "The continuation token provided is incorrect",
            ArgumentName="continuation-token",
            ArgumentValue=token,
        )

    def _mac(self, bucket: str, marker: bytes) -> bytes:
        message = bucket.encode() + b"\0" + marker
        return hmac.new(self._secret(), message, hashlib.sha256).digest()[:_MAC_BYTES]

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = _load_or_create_key(self._key_path)
        return self._key


class Listings:
    """The listing operations over one endpoint's buckets."""

    def __init__(self, tokens: ContinuationTokens, owner: xml.Owner) -> None:
        self._tokens = tokens
        self._owner = owner

    async def list_objects_v2(self, exchange: Exchange) -> S3Response:
        call = exchange.call
        query = call.query
        parameters = ListParameters.read(query)
        token = query.get("continuation-token")
        start_after = query.get("start-after") or None
        marker = self._tokens.read(call.bucket, token) if token is not None else start_after
        page = await _list(exchange, parameters, marker)
        owner = self._owner if query.get("fetch-owner", "").lower() == "true" else None
        next_token = None
        if page.next_marker is not None:
            next_token = self._tokens.issue(call.bucket, page.next_marker)
        parts = [
            xml.element("Name", call.bucket),
            xml.element("Prefix", parameters.encode(parameters.prefix)),
            xml.element("ContinuationToken", token),
            xml.element("StartAfter", parameters.encode(start_after)),
            xml.element("KeyCount", len(page.objects) + len(page.common_prefixes)),
            *_page_parts(parameters, page, next_token, "NextContinuationToken"),
            *(_contents(parameters, info, owner) for info in page.objects),
            *_common_prefixes(parameters, page),
        ]
        return xml_response(xml.document("ListBucketResult", parts))

    async def list_objects(self, exchange: Exchange) -> S3Response:
        call = exchange.call
        parameters = ListParameters.read(call.query)
        marker = call.query.get("marker") or None
        page = await _list(exchange, parameters, marker)
        next_marker = page.next_marker if parameters.delimiter is not None else None
        parts = [
            xml.element("Name", call.bucket),
            xml.element("Prefix", parameters.encode(parameters.prefix)),
            xml.element("Marker", parameters.encode(marker or "")),
            *_page_parts(parameters, page, parameters.encode(next_marker), "NextMarker"),
            *(_contents(parameters, info, self._owner) for info in page.objects),
            *_common_prefixes(parameters, page),
        ]
        return xml_response(xml.document("ListBucketResult", parts))

    async def list_object_versions(self, exchange: Exchange) -> S3Response:
        query = exchange.call.query
        parameters = ListParameters.read(query)
        key_marker = query.get("key-marker") or None
        version_marker = query.get("version-id-marker")
        if version_marker and key_marker is None:
            raise InvalidArgument(
                "A version-id marker cannot be specified without a key marker.",
                ArgumentName="version-id-marker",
                ArgumentValue=version_marker,
            )
        page = await _list(exchange, parameters, key_marker)
        truncated = page.next_marker is not None
        parts = [
            xml.element("Name", exchange.call.bucket),
            xml.element("Prefix", parameters.encode(parameters.prefix)),
            xml.element("KeyMarker", parameters.encode(key_marker or "")),
            xml.element("VersionIdMarker", version_marker or ""),
            xml.element("NextKeyMarker", parameters.encode(page.next_marker)),
            xml.element("NextVersionIdMarker", "null" if truncated else None),
            *_page_parts(parameters, page, None, ""),
            *(self._version(parameters, info) for info in page.objects),
            *_common_prefixes(parameters, page),
        ]
        return xml_response(xml.document("ListVersionsResult", parts))

    def _version(self, parameters: ListParameters, info: ObjectInfo) -> str:
        return xml.group(
            "Version",
            [
                xml.element("Key", parameters.encode(info.key)),
                xml.element("VersionId", "null"),
                xml.element("IsLatest", True),
                xml.element("LastModified", iso_time(info.last_modified)),
                xml.element("ETag", quoted(info.etag)),
                xml.element("Size", info.size),
                self._owner.render(),
                xml.element("StorageClass", "STANDARD"),
            ],
        )


async def _list(
    exchange: Exchange, parameters: ListParameters, start_after: str | None
) -> ListPage:
    return await asyncio.to_thread(
        exchange.objects().list,
        parameters.prefix,
        delimiter=parameters.delimiter,
        start_after=start_after,
        limit=parameters.max_keys,
    )


def _page_parts(
    parameters: ListParameters, page: ListPage, next_marker: str | None, next_name: str
) -> list[str]:
    parts = [
        xml.element("MaxKeys", parameters.max_keys),
        xml.element("Delimiter", parameters.encode(parameters.delimiter)),
        xml.element("EncodingType", "url" if parameters.url_encoded else None),
        xml.element("IsTruncated", page.is_truncated),
    ]
    if next_name:
        parts.append(xml.element(next_name, next_marker))
    return parts


def _contents(parameters: ListParameters, info: ObjectInfo, owner: xml.Owner | None) -> str:
    checksums = info.attributes.checksums
    return xml.group(
        "Contents",
        [
            xml.element("Key", parameters.encode(info.key)),
            xml.element("LastModified", iso_time(info.last_modified)),
            xml.element("ETag", quoted(info.etag)),
            *(xml.element("ChecksumAlgorithm", algorithm) for algorithm in checksums),
            xml.element("ChecksumType", "FULL_OBJECT" if checksums else None),
            xml.element("Size", info.size),
            owner.render() if owner is not None else "",
            xml.element("StorageClass", "STANDARD"),
        ],
    )


def _common_prefixes(parameters: ListParameters, page: ListPage) -> list[str]:
    return [
        xml.group("CommonPrefixes", [xml.element("Prefix", parameters.encode(prefix))])
        for prefix in page.common_prefixes
    ]


def _load_or_create_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, secrets.token_bytes(32))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(temporary, path)  # never replaces a key another process made first
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
    return path.read_bytes()
