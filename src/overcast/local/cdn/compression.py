"""Edge compression: when the edge compresses an origin response, and with what.

What is mirrored (CloudFront developer guide, "Serve compressed files"):

- The behaviour must compress ("Compress objects automatically"). Brotli is used only
  when the cache policy caches Brotli objects and the viewer accepts ``br``; otherwise
  Gzip when the viewer accepts ``gzip`` ("When the viewer supports both formats,
  CloudFront uses Brotli").
- The response must have a ``Content-Type`` from CloudFront's list (copied below), a
  ``Content-Length`` ("If the Content-Length header is missing, CloudFront won't
  compress the file") between 1,000 and 10,000,000 bytes, and no ``Content-Encoding``
  ("regardless of the header's value").
- "When the uncompressed object from the origin includes a valid, strong ETag ...
  CloudFront adds the characters W/ to the beginning"; a weak one is kept; an invalid
  one (not starting with ``"`` or ``W/``) is removed.

Choices where CloudFront documents nothing: only a 200 to a GET or HEAD is compressed
(what the edge caches whole). A viewer's ``Range`` does not matter: the edge fills whole
objects, and a range of a compressed object is a range of its compressed bytes
(RFC 9110 §14). Gzip with a policy that does not cache Gzip objects happens only when
the policy caches nothing, so a compressed body is never stored under a key that other
viewers share.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli  # type: ignore[import-untyped]

from overcast.local.cdn.cache_key import accepted_encodings, viewer_encoding
from overcast.local.cdn.model import Headers, ViewerRequest, header
from overcast.spec_cdn import Behavior

# "File types that CloudFront compresses" (the Content-Type values, as listed).
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/dash+xml",
        "application/eot",
        "application/font",
        "application/font-sfnt",
        "application/javascript",
        "application/json",
        "application/opentype",
        "application/otf",
        "application/pkcs7-mime",
        "application/protobuf",
        "application/rss+xml",
        "application/truetype",
        "application/ttf",
        "application/vnd.apple.mpegurl",
        "application/vnd.ms-fontobject",
        "application/xhtml+xml",
        "application/xml",
        "application/x-font-opentype",
        "application/x-font-truetype",
        "application/x-font-ttf",
        "application/x-httpd-cgi",
        "application/x-javascript",
        "application/x-mpegurl",
        "application/x-opentype",
        "application/x-otf",
        "application/x-perl",
        "application/x-ttf",
        "font/eot",
        "font/opentype",
        "font/otf",
        "font/ttf",
        "image/svg+xml",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/js",
        "text/plain",
        "text/richtext",
        "text/tab-separated-values",
        "text/xml",
        "text/x-component",
        "text/x-java-source",
        "text/x-script",
        "vnd.apple.mpegurl",
    }
)
# "CloudFront compresses files that are between 1,000 bytes and 10,000,000 bytes in size."
MIN_COMPRESSED_BYTES = 1_000
MAX_COMPRESSED_BYTES = 10_000_000
GZIP_LEVEL = 6
BROTLI_QUALITY = 5  # fast enough to compress as the body streams in
_COMPRESSED_METHODS = frozenset({"GET", "HEAD"})


class Compressor(Protocol):
    """A streaming compressor: ``compress`` each chunk, then ``flush`` once at the end."""

    def compress(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


def compression_for(
    behavior: Behavior, request: ViewerRequest, status: int, headers: Headers
) -> str:
    """ "br", "gzip" or "": what the edge compresses this response with (CloudFront's rules)."""
    if not (behavior.compress and status == 200 and _compressible(headers)):
        return ""
    if request.method.upper() not in _COMPRESSED_METHODS:
        return ""
    policy = behavior.cache_policy
    encoding = viewer_encoding(policy, request.headers)
    if not encoding and not policy.caches and "gzip" in accepted_encodings(request.headers):
        return "gzip"
    return encoding


def compressor(encoding: str) -> Compressor:
    """A fresh streaming compressor for ``"br"`` or ``"gzip"``."""
    if encoding == "gzip":
        return _Gzip()
    if encoding == "br":
        return _Brotli()
    raise ValueError(f"No compressor for content coding {encoding!r}.")


def compressed_headers(headers: Headers, encoding: str) -> Headers:
    """The origin's headers for the body compressed with ``encoding``: Content-Encoding
    set, Content-Length dropped (it is the uncompressed size), ETag made weak."""
    result: Headers = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-length":
            continue
        if lowered == "etag":
            etag = weak_etag(value)
            if etag is not None:
                result.append((name, etag))
            continue
        result.append((name, value))
    result.append(("Content-Encoding", encoding))
    return result


def weak_etag(value: str) -> str | None:
    """CloudFront's ETag for a body it compressed: strong -> weak, weak kept, else None."""
    if value.startswith("W/"):
        return value
    if value.startswith('"'):
        return "W/" + value
    return None


def _compressible(headers: Headers) -> bool:
    if header(headers, "content-encoding") is not None:
        return False
    length = (header(headers, "content-length") or "").strip()
    if not (length.isascii() and length.isdigit()):
        return False
    if not MIN_COMPRESSED_BYTES <= int(length) <= MAX_COMPRESSED_BYTES:
        return False
    media_type = (header(headers, "content-type") or "").partition(";")[0].strip().lower()
    return media_type in COMPRESSIBLE_TYPES


class _Gzip:
    def __init__(self) -> None:
        self._stream = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)

    def compress(self, data: bytes) -> bytes:
        return self._stream.compress(data)

    def flush(self) -> bytes:
        return self._stream.flush()


class _Brotli:
    def __init__(self) -> None:
        self._stream = brotli.Compressor(quality=BROTLI_QUALITY)

    def compress(self, data: bytes) -> bytes:
        return bytes(self._stream.process(data))

    def flush(self) -> bytes:
        return bytes(self._stream.finish())
