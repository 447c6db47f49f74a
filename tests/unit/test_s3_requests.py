"""Reading S3 requests: path-style bucket and key, and the operation each request names."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.local.auth import canonical
from overcast.local.s3.errors import (
    InvalidArgument,
    InvalidURI,
    MethodNotAllowed,
    NotImplementedError_,
)
from overcast.local.s3.requests import Operation, read_call, split_path


def scope(
    method: str, raw_path: str, query: str = "", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": raw_path,
        "raw_path": raw_path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "headers": [(name.encode(), value.encode()) for name, value in (headers or {}).items()],
        "scheme": "https",
        "client": ("10.0.0.7", 50000),
    }


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "operation"),
    [
        ("GET", "/", "", {}, Operation.LIST_BUCKETS),
        ("PUT", "/b", "", {}, Operation.CREATE_BUCKET),
        ("HEAD", "/b", "", {}, Operation.HEAD_BUCKET),
        ("DELETE", "/b/", "", {}, Operation.DELETE_BUCKET),
        ("GET", "/b", "location", {}, Operation.GET_BUCKET_LOCATION),
        ("GET", "/b", "", {}, Operation.LIST_OBJECTS),
        ("GET", "/b", "list-type=2&prefix=a", {}, Operation.LIST_OBJECTS_V2),
        ("GET", "/b", "versions", {}, Operation.LIST_OBJECT_VERSIONS),
        ("GET", "/b", "uploads", {}, Operation.LIST_MULTIPART_UPLOADS),
        ("POST", "/b", "delete", {}, Operation.DELETE_OBJECTS),
        ("PUT", "/b/k", "", {}, Operation.PUT_OBJECT),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "/s/k"}, Operation.COPY_OBJECT),
        ("GET", "/b/k", "", {}, Operation.GET_OBJECT),
        ("HEAD", "/b/k", "", {}, Operation.HEAD_OBJECT),
        ("DELETE", "/b/k", "", {}, Operation.DELETE_OBJECT),
        ("POST", "/b/k", "uploads", {}, Operation.CREATE_MULTIPART_UPLOAD),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, Operation.UPLOAD_PART),
        ("POST", "/b/k", "uploadId=u", {}, Operation.COMPLETE_MULTIPART_UPLOAD),
        ("DELETE", "/b/k", "uploadId=u", {}, Operation.ABORT_MULTIPART_UPLOAD),
        ("GET", "/b/k", "uploadId=u", {}, Operation.LIST_PARTS),
    ],
)
def test_method_and_subresources_select_the_operation(
    method: str, path: str, query: str, headers: dict[str, str], operation: Operation
) -> None:
    assert read_call(scope(method, path, query, headers)).operation is operation


@pytest.mark.parametrize(
    ("raw_path", "bucket", "key"),
    [
        ("/b/a%2Fb", "b", "a/b"),
        ("/b/../../etc/passwd", "b", "../../etc/passwd"),
        ("/b//lead", "b", "/lead"),
        ("/b/a+b%20c", "b", "a+b c"),
        ("/b/%C3%BC", "b", "ü"),
        ("/b/100%25", "b", "100%"),
        ("/b/%252F", "b", "%2F"),  # decoded once, not twice
        ("/b", "b", ""),
        ("/", "", ""),
    ],
)
def test_the_path_is_decoded_once_into_bucket_and_key(raw_path: str, bucket: str, key: str) -> None:
    assert split_path(raw_path) == (bucket, key)


def test_a_path_that_is_not_utf8_is_an_invalid_uri() -> None:
    with pytest.raises(InvalidURI):
        split_path("/b/%FF")


def test_query_parameters_are_decoded_once_and_a_plus_is_a_plus() -> None:
    call = read_call(scope("GET", "/b", "list-type=2&prefix=a+b%2Fc%20d%2B"))

    assert call.query["prefix"] == "a+b/c d+"
    assert call.query_pairs == [("list-type", "2"), ("prefix", "a+b/c d+")]


def test_the_operation_reads_the_query_exactly_as_the_signature_decodes_it() -> None:
    raw = "response-content-type=application/x+y&prefix=%2B%20+&versionId=null"
    call = read_call(scope("GET", "/b/k", raw))

    assert call.query_pairs == canonical.query_pairs(raw)
    assert call.query == dict(canonical.query_pairs(raw))


@pytest.mark.parametrize(
    "query",
    [
        "uploadId=first&partNumber=1&uploadId=second",  # the operation's own parameter
        "prefix=a&prefix=a",  # even with the same value
        "Signature=x&AWSAccessKeyId=k&Expires=1&Signature=y",  # the signature's
        "flag&flag",
    ],
)
def test_a_repeated_query_parameter_is_refused(query: str) -> None:
    with pytest.raises(InvalidArgument, match="more than once"):
        read_call(scope("PUT", "/b/k", query))


def test_a_query_that_is_not_utf8_is_an_invalid_uri() -> None:
    with pytest.raises(InvalidURI):
        read_call(scope("GET", "/b", "prefix=%FF"))


def test_the_tls_version_is_read_from_the_asgi_tls_extension() -> None:
    raw = scope("GET", "/b/k")
    assert read_call(raw).tls_version is None
    raw["extensions"] = {"tls": {"tls_version": 0x0304, "server_cert": None}}
    assert read_call(raw).tls_version == "1.3"


def test_repeated_headers_are_joined_and_the_caller_is_known() -> None:
    raw = scope("GET", "/b/k")
    raw["headers"] = [(b"x-amz-meta-a", b"1"), (b"x-amz-meta-a", b"2")]
    call = read_call(raw)
    assert call.headers["x-amz-meta-a"] == "1,2"
    assert (call.secure, call.source_ip, call.resource) == (True, "10.0.0.7", "/b/k")


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [("GET", "/b", "acl"), ("PUT", "/b/k", "tagging"), ("GET", "/b", "policy")],
)
def test_unserved_subresources_are_not_implemented(method: str, path: str, query: str) -> None:
    with pytest.raises(NotImplementedError_):
        read_call(scope(method, path, query))


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [("PUT", "/", ""), ("POST", "/b/k", ""), ("PATCH", "/b", "")],
)
def test_methods_without_an_operation_are_not_allowed(method: str, path: str, query: str) -> None:
    with pytest.raises(MethodNotAllowed):
        read_call(scope(method, path, query))


def test_upload_part_copy_is_refused_rather_than_served_as_upload_part() -> None:
    with pytest.raises(NotImplementedError_):
        read_call(scope("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "s/k"}))


SIGV2 = "AWSAccessKeyId=AKIA&Signature=c2lnbmF0dXJl&Expires=1900000000"


def test_a_sigv2_urls_query_borne_copy_source_makes_it_a_copy() -> None:
    call = read_call(scope("PUT", "/b/dst", f"{SIGV2}&x-amz-copy-source=b%2Fsrc"))

    assert call.operation is Operation.COPY_OBJECT
    assert call.headers["x-amz-copy-source"] == "b/src"


def test_a_sigv2_urls_query_borne_metadata_and_content_type_are_headers() -> None:
    query = f"{SIGV2}&x-amz-meta-owner=alice&content-type=text%2Fplain&Content-MD5=abc%3D%3D"
    call = read_call(scope("PUT", "/b/k", query, {"content-type": "text/plain"}))

    assert call.operation is Operation.PUT_OBJECT
    assert call.headers["x-amz-meta-owner"] == "alice"
    assert call.headers["content-type"] == "text/plain"  # sent both ways alike: once
    assert call.headers["content-md5"] == "abc=="
    assert ("x-amz-meta-owner", "alice") in call.header_pairs  # what the signature reads


def test_a_header_sent_both_ways_with_different_values_is_refused() -> None:
    query = f"{SIGV2}&x-amz-meta-owner=alice"

    with pytest.raises(InvalidArgument, match="x-amz-meta-owner"):
        read_call(scope("PUT", "/b/k", query, {"x-amz-meta-owner": "mallory"}))


@pytest.mark.parametrize(
    "query",
    [
        "x-amz-copy-source=b%2Fsrc",  # anonymous
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=c&x-amz-copy-source=b%2Fsrc",
    ],
)
def test_only_a_sigv2_url_carries_headers_in_its_query(query: str) -> None:
    call = read_call(scope("PUT", "/b/k", query))

    assert call.operation is Operation.PUT_OBJECT
    assert "x-amz-copy-source" not in call.headers
