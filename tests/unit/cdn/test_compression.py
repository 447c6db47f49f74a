"""The edge compresses exactly what CloudFront would, and its streams decode."""

from __future__ import annotations

import gzip as gzip_module

import brotli  # type: ignore[import-untyped]
import pytest

from overcast.local.cdn.compression import (
    compressed_headers,
    compression_for,
    compressor,
    weak_etag,
)
from overcast.local.cdn.model import Headers, ViewerRequest
from overcast.spec_cdn import CACHING_DISABLED, CACHING_OPTIMIZED, ApiOrigin, Behavior, CachePolicy

SITE = Behavior("*", ApiOrigin())
BOTH = [("Accept-Encoding", "gzip, deflate, br")]


def response(content_type: str = "text/html; charset=utf-8", length: int = 5000) -> Headers:
    return [("Content-Type", content_type), ("Content-Length", str(length))]


def get(headers: Headers = BOTH, method: str = "GET") -> ViewerRequest:
    return ViewerRequest(method, "/index.html", headers=headers)


def test_a_compressible_page_is_brotli_for_a_viewer_that_accepts_both() -> None:
    assert compression_for(SITE, get(), 200, response()) == "br"
    assert compression_for(SITE, get(method="HEAD"), 200, response()) == "br"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("gzip", "gzip"), ("br", "br"), ("deflate", ""), ("gzip;q=0, br;q=0", "")],
)
def test_the_viewers_accept_encoding_decides(accept: str, expected: str) -> None:
    assert compression_for(SITE, get([("Accept-Encoding", accept)]), 200, response()) == expected
    assert compression_for(SITE, get([]), 200, response()) == ""


def test_brotli_needs_the_policy_to_cache_brotli_objects() -> None:
    gzip_only = Behavior("*", ApiOrigin(), CachePolicy("GzipOnly", brotli=False))
    neither = Behavior("*", ApiOrigin(), CachePolicy("Neither", gzip=False, brotli=False))

    assert compression_for(gzip_only, get(), 200, response()) == "gzip"
    # A caching policy whose key holds no encoding never stores a compressed body...
    assert compression_for(neither, get(), 200, response()) == ""
    # ...but with nothing stored, Gzip is safe ("Gzip when just the first item is true").
    uncached = Behavior("/api/*", ApiOrigin(), CACHING_DISABLED, forward_all_viewer=True)
    assert compression_for(uncached, get(), 200, response("application/json")) == "gzip"


def test_nothing_is_compressed_when_the_behaviour_does_not_compress() -> None:
    off = Behavior("*", ApiOrigin(), CACHING_OPTIMIZED, compress=False)
    assert compression_for(off, get(), 200, response()) == ""


@pytest.mark.parametrize(
    "content_type",
    ["text/css", "application/javascript", "application/json", "image/svg+xml", "TEXT/HTML"],
)
def test_listed_content_types_are_compressed(content_type: str) -> None:
    assert compression_for(SITE, get(), 200, response(content_type)) == "br"


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/octet-stream", "video/mp4", "application/zip"]
)
def test_other_content_types_are_not(content_type: str) -> None:
    assert compression_for(SITE, get(), 200, response(content_type)) == ""


@pytest.mark.parametrize(("length", "expected"), [(999, ""), (1000, "br"), (10_000_000, "br")])
def test_only_bodies_of_1000_to_10000000_bytes_are_compressed(length: int, expected: str) -> None:
    assert compression_for(SITE, get(), 200, response(length=length)) == expected
    assert compression_for(SITE, get(), 200, response(length=10_000_001)) == ""


def test_a_response_without_content_length_or_already_encoded_is_left_alone() -> None:
    no_length = [("Content-Type", "text/html")]
    encoded = [*response(), ("Content-Encoding", "identity")]
    bad_length = [("Content-Type", "text/html"), ("Content-Length", "lots")]

    for headers in (no_length, encoded, bad_length):
        assert compression_for(SITE, get(), 200, headers) == ""


@pytest.mark.parametrize("status", [206, 301, 404, 500])
def test_only_a_200_is_compressed(status: int) -> None:
    assert compression_for(SITE, get(), status, response()) == ""


def test_a_post_response_is_not_compressed() -> None:
    assert compression_for(SITE, get(method="POST"), 200, response()) == ""


@pytest.mark.parametrize(
    ("encoding", "decode"), [("gzip", gzip_module.decompress), ("br", brotli.decompress)]
)
def test_streaming_compressors_round_trip(encoding: str, decode: object) -> None:
    body = b"<p>hello, edge</p>\n" * 5000
    squeeze = compressor(encoding)

    chunks = [squeeze.compress(body[i : i + 4096]) for i in range(0, len(body), 4096)]
    compressed = b"".join(chunks) + squeeze.flush()

    assert callable(decode)
    assert decode(compressed) == body
    assert len(compressed) < len(body) // 10


def test_an_unknown_coding_has_no_compressor() -> None:
    with pytest.raises(ValueError, match="zstd"):
        compressor("zstd")


def test_compressed_headers_weaken_the_etag_and_drop_the_length() -> None:
    headers = [*response(), ("ETag", '"abc"'), ("Cache-Control", "max-age=60")]

    assert compressed_headers(headers, "br") == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("ETag", 'W/"abc"'),
        ("Cache-Control", "max-age=60"),
        ("Content-Encoding", "br"),
    ]


@pytest.mark.parametrize(
    ("etag", "expected"), [('"abc"', 'W/"abc"'), ('W/"abc"', 'W/"abc"'), ("abc", None)]
)
def test_etags_as_cloudfront_rewrites_them(etag: str, expected: str | None) -> None:
    assert weak_etag(etag) == expected
