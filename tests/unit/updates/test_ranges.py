"""The HTTP rules of the update server: byte ranges and conditional requests."""

from __future__ import annotations

import pytest

from overcast.apps.updates.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    http_date,
    not_modified,
    parse_range,
    range_applies,
)

ETAG = '"abc"'
MODIFIED = 1_700_000_000.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=900-", ByteRange(900, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=990-5000", ByteRange(990, 999)),
    ],
)
def test_one_byte_range_is_cut_to_the_body(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", [None, "", "bytes=5-1", "items=0-1", "bytes=0-1,5-6", "bytes=-", "bytes=x-1"]
)
def test_ignored_range_headers_mean_the_whole_body(header: str | None) -> None:
    assert parse_range(header, 1000) is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_content_range_names_the_range_and_the_full_size() -> None:
    assert ByteRange(900, 999).content_range(1000) == "bytes 900-999/1000"


@pytest.mark.parametrize("header", ['"abc"', 'W/"abc"', '"x", "abc"', "*"])
def test_if_none_match_with_the_current_etag_is_not_modified(header: str) -> None:
    assert not_modified(header, None, ETAG, MODIFIED)


def test_if_none_match_with_another_etag_is_modified_even_if_the_date_says_not() -> None:
    assert not not_modified('"old"', http_date(MODIFIED + 60), ETAG, MODIFIED)


def test_if_modified_since_counts_without_if_none_match() -> None:
    assert not_modified(None, http_date(MODIFIED), ETAG, MODIFIED)
    assert not not_modified(None, http_date(MODIFIED - 60), ETAG, MODIFIED)
    assert not not_modified(None, "not a date", ETAG, MODIFIED)


def test_if_range_keeps_the_range_only_while_the_body_is_unchanged() -> None:
    assert range_applies(None, ETAG, MODIFIED)
    assert range_applies(ETAG, ETAG, MODIFIED)
    assert range_applies(http_date(MODIFIED), ETAG, MODIFIED)
    assert not range_applies('"other"', ETAG, MODIFIED)
    assert not range_applies('W/"abc"', ETAG, MODIFIED)
    assert not range_applies(http_date(MODIFIED - 1), ETAG, MODIFIED)
