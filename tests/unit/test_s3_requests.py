"""Reading S3 requests: path-style bucket and key, and the operation each request names."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.local.s3.errors import InvalidURI, MethodNotAllowed, NotImplementedError_
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


def test_query_parameters_are_form_decoded_and_the_first_value_counts() -> None:
    call = read_call(scope("GET", "/b", "list-type=2&prefix=a+b%2Fc&prefix=second"))
    assert call.query["prefix"] == "a b/c"


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
    [("PUT", "/", ""), ("POST", "/b/k", ""), ("PATCH", "/b", ""), ("OPTIONS", "/b/k", "")],
)
def test_methods_without_an_operation_are_not_allowed(method: str, path: str, query: str) -> None:
    with pytest.raises(MethodNotAllowed):
        read_call(scope(method, path, query))


def test_upload_part_copy_is_refused_rather_than_served_as_upload_part() -> None:
    with pytest.raises(NotImplementedError_):
        read_call(scope("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "s/k"}))
