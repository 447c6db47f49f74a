"""Answering a viewer from a stored object: conditions, ranges, If-Range, HEAD."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from overcast.local.cdn.model import FileBody, Headers, StreamBody, ViewerRequest
from overcast.local.cdn.viewer import (
    Stored,
    Unsatisfiable,
    not_modified,
    parse_range,
    respond,
    satisfiable_ranges,
)
from tests.unit.cdn.test_edge_fakes import read_body, value

BODY = bytes(range(256)) * 4  # 1024 bytes
LAST_MODIFIED = "Tue, 01 Oct 2024 10:00:00 GMT"
OBJECT_HEADERS = [
    ("Content-Type", "application/octet-stream"),
    ("ETag", '"v1"'),
    ("Last-Modified", LAST_MODIFIED),
    ("Cache-Control", "max-age=60"),
]
EDGE = [("X-Cache", "Hit from overcast")]


@pytest.fixture
def stored(tmp_path: Path) -> Stored:
    path = tmp_path / "body"
    path.write_bytes(BODY)
    return Stored(200, OBJECT_HEADERS, path, len(BODY))


def ask(
    stored: Stored, *headers: tuple[str, str], method: str = "GET"
) -> tuple[int, Headers, bytes]:
    response = respond(ViewerRequest(method, "/o", headers=list(headers)), stored, EDGE)
    return response.status, response.headers, asyncio.run(read_body(response))


@pytest.mark.parametrize(
    ("range_header", "expected", "content_range"),
    [
        ("bytes=0-9", BODY[:10], "bytes 0-9/1024"),
        ("bytes=1000-", BODY[1000:], "bytes 1000-1023/1024"),
        ("bytes=-24", BODY[-24:], "bytes 1000-1023/1024"),
        ("bytes=1000-5000", BODY[1000:], "bytes 1000-1023/1024"),
    ],
)
def test_one_range_is_206_with_its_content_range(
    stored: Stored, range_header: str, expected: bytes, content_range: str
) -> None:
    status, headers, body = ask(stored, ("Range", range_header))
    assert (status, body) == (206, expected)
    assert ("Content-Range", content_range) in headers


def test_range_beyond_the_object_is_416(stored: Stored) -> None:
    status, headers, body = ask(stored, ("Range", "bytes=2000-3000"))
    assert (status, body) == (416, b"")
    assert ("Content-Range", "bytes */1024") in headers


@pytest.mark.parametrize(
    "garbage",
    [
        "bytes=abc",
        "items=0-1",
        "bytes=5-1",
        "bytes=-",
        "bytes=\u00b2-5",  # a superscript digit: str.isdigit() says yes, int() says no
        "bytes=0-\u0665",  # an Arabic-Indic digit
        "bytes=0-" + "9" * 5000,  # past int()'s 4300-digit limit
        "bytes=" + "1" * 20 + "-",  # past any file size (19 digits at most)
    ],
)
def test_range_that_does_not_parse_is_ignored(stored: Stored, garbage: str) -> None:
    status, _, body = ask(stored, ("Range", garbage))
    assert (status, body) == (200, BODY)


def test_several_ranges_are_multipart_byteranges(stored: Stored) -> None:
    status, headers, body = ask(stored, ("Range", "bytes=0-1,10-11"))
    assert status == 206
    content_type = value_of(headers, "Content-Type")
    assert content_type is not None
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("=", 1)[1].encode()
    assert body.count(b"--" + boundary) == 3
    assert b"Content-Range: bytes 0-1/1024\r\n\r\n" + BODY[0:2] in body
    assert b"Content-Range: bytes 10-11/1024\r\n\r\n" + BODY[10:12] in body


def test_multipart_length_is_what_is_sent(stored: Stored) -> None:
    response = respond(
        ViewerRequest("GET", "/o", headers=[("Range", "bytes=0-1,10-11")]), stored, EDGE
    )
    assert isinstance(response.body, StreamBody)
    assert response.body.length == len(asyncio.run(read_body(response)))


@pytest.mark.parametrize("ranges", ["bytes=10-20,0-5", "bytes=0-10,5-20"])
def test_unordered_or_overlapping_ranges_get_the_whole_object(stored: Stored, ranges: str) -> None:
    # CloudFront: such ranges are answered with the full object and 200
    status, _, body = ask(stored, ("Range", ranges))
    assert (status, body) == (200, BODY)


@pytest.mark.parametrize(
    ("if_range", "partial"),
    [
        ('"v1"', True),
        ('"v0"', False),
        ('W/"v1"', False),
        (LAST_MODIFIED, True),
        ("Wed, 02 Oct 2024 10:00:00 GMT", False),
    ],
)
def test_if_range_keeps_the_range_only_for_the_same_object(
    stored: Stored, if_range: str, partial: bool
) -> None:
    status, _, body = ask(stored, ("Range", "bytes=0-3"), ("If-Range", if_range))
    assert (status, body) == ((206, BODY[:4]) if partial else (200, BODY))


def test_304_keeps_validators_and_edge_headers_but_no_body(stored: Stored) -> None:
    status, headers, body = ask(stored, ("If-None-Match", '"x", W/"v1"'))
    assert (status, body) == (304, b"")
    names = {name for name, _ in headers}
    assert {"ETag", "Last-Modified", "Cache-Control", "X-Cache"} <= names
    assert "Content-Type" not in names


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([("If-None-Match", "*")], True),
        ([("If-None-Match", '"v2"')], False),
        ([("If-Modified-Since", LAST_MODIFIED)], True),
        ([("If-Modified-Since", "Mon, 30 Sep 2024 10:00:00 GMT")], False),
        ([("If-Modified-Since", "not a date")], False),
        # RFC 9110: If-Modified-Since is ignored when If-None-Match is present
        ([("If-None-Match", '"v2"'), ("If-Modified-Since", LAST_MODIFIED)], False),
    ],
)
def test_conditions(conditions: Headers, expected: bool) -> None:
    assert not_modified(conditions, OBJECT_HEADERS) is expected


def test_error_responses_ignore_conditions_and_ranges(tmp_path: Path) -> None:
    path = tmp_path / "e"
    path.write_bytes(b"missing")
    error = Stored(404, [("ETag", '"v1"')], path, 7)
    status, _, body = ask(error, ("If-None-Match", '"v1"'), ("Range", "bytes=0-1"))
    assert (status, body) == (404, b"missing")


def test_head_gets_the_get_headers_and_length(stored: Stored) -> None:
    response = respond(ViewerRequest("HEAD", "/o"), stored, EDGE)
    assert response.status == 200
    assert isinstance(response.body, FileBody)
    assert response.body.length == len(BODY)
    assert value(response, "Accept-Ranges") == "bytes"


def test_parse_and_satisfy() -> None:
    assert parse_range("bytes=0-0, 5-,-3") == [(0, 0), (5, None), (None, 3)]
    with pytest.raises(Unsatisfiable):
        satisfiable_ranges([(None, 0)], 10)
    with pytest.raises(Unsatisfiable):
        satisfiable_ranges([(0, 5)], 0)


def value_of(headers: Headers, name: str) -> str | None:
    return next((v for n, v in headers if n.lower() == name.lower()), None)


def test_accept_ranges_is_said_once_when_the_origin_said_it_too(tmp_path: Path) -> None:
    path = tmp_path / "body"
    path.write_bytes(BODY)
    origin_said = Stored(200, [*OBJECT_HEADERS, ("accept-ranges", "bytes")], path, len(BODY))

    _status, headers, _body = ask(origin_said)

    assert [value for name, value in headers if name.lower() == "accept-ranges"] == ["bytes"]
