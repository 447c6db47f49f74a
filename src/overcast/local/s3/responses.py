"""What the S3 endpoint answers: status, headers, and a body in memory or streamed.

What it mirrors from S3:

- Every response carries ``x-amz-request-id`` (16 upper-case hex digits) and
  ``x-amz-id-2`` (an opaque base64 host id), and ``Server: AmazonS3``.
- Dates: RFC 1123 in headers (``Last-Modified: Wed, 12 Oct 2009 17:50:00 GMT``),
  ISO 8601 with milliseconds in XML (``2009-10-12T17:50:00.000Z``). ETags are
  quoted, in headers and in XML.
- Errors are ``<Error><Code/><Message/>...details...<Resource/><RequestId/><HostId/>
  </Error>`` with the error's HTTP status
  (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); a HEAD
  request's error has the status and headers but no body, since HEAD has none.
  ``InvalidRange`` (416) also tells ``Content-Range: bytes */<size>`` (RFC 9110, 15.5.17).
"""

from __future__ import annotations

import os
import random
from binascii import b2a_base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from overcast.local.s3.errors import S3Error
from overcast.local.s3.xml import document, element
from overcast.ports.objects import ObjectReader

Headers = list[tuple[bytes, bytes]]

XML_CONTENT_TYPE = (b"content-type", b"application/xml")
SERVER = (b"server", b"AmazonS3")


@dataclass(slots=True)
class S3Response:
    """A response; with ``reader``, its body is streamed from the object, then closed."""

    status: int = 200
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    reader: ObjectReader | None = None


def xml_response(body: bytes, status: int = 200, headers: Headers | None = None) -> S3Response:
    """An XML document as the body."""
    all_headers = headers or []
    all_headers += [XML_CONTENT_TYPE, (b"content-length", b"%d" % len(body))]
    return S3Response(status, all_headers, body)


def empty_response(status: int = 200, headers: Headers | None = None) -> S3Response:
    """No body: 204 and 304 tell no length (RFC 9110), other statuses a length of 0."""
    all_headers = headers or []
    if status not in (204, 304):
        all_headers.append((b"content-length", b"0"))
    return S3Response(status, all_headers)


def http_date(moment: datetime) -> str:
    """RFC 1123 (IMF-fixdate), as S3's ``Last-Modified`` headers."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def iso_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as S3's XML dates."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def quoted(etag: str) -> str:
    """An ETag as S3 shows it: in double quotes."""
    return f'"{etag}"'


def unquoted(etag: str) -> str:
    """An ETag as a client sent it, quotes (and a weak ``W/``) removed."""
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


class RequestIds:
    """Makes each request's ``x-amz-request-id`` and ``x-amz-id-2``."""

    def __init__(self) -> None:
        # Not os.urandom per request: these ids need no secrecy.
        self._random = random.Random(os.urandom(16))

    def new(self) -> tuple[str, str]:
        request_id = f"{self._random.getrandbits(64):016X}"
        host_id = b2a_base64(self._random.randbytes(48), newline=False).decode()
        return request_id, host_id


def id_headers(request_id: str, host_id: str) -> Headers:
    """The headers every response carries."""
    return [
        (b"x-amz-request-id", request_id.encode()),
        (b"x-amz-id-2", host_id.encode()),
        SERVER,
    ]


def error_response(
    error: S3Error, resource: str, request_id: str, host_id: str, *, head: bool
) -> S3Response:
    """S3's answer to a failed request (no body for HEAD)."""
    headers = id_headers(request_id, host_id)
    size = error.details.get("ActualObjectSize")
    if error.code == "InvalidRange" and size is not None:
        headers.append((b"content-range", f"bytes */{size}".encode()))
    if head:
        return S3Response(error.status, headers)
    parts = [element("Code", error.code), element("Message", error.message)]
    parts += [element(name, value) for name, value in error.details.items()]
    parts += [
        element("Resource", resource),
        element("RequestId", request_id),
        element("HostId", host_id),
    ]
    return xml_response(document("Error", parts, namespace=False), error.status, headers)
