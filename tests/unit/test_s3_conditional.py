"""Ranges and preconditions, as S3 reads ``Range`` and the ``If-*`` headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overcast.local.s3.conditional import OPEN_END, Outcome, Preconditions, RangeRequest
from overcast.local.s3.errors import InvalidRange, PreconditionFailed
from overcast.ports.objects import ByteRange, ObjectAttributes, ObjectInfo

MODIFIED = datetime(2030, 6, 1, 12, 0, 0, tzinfo=UTC)
INFO = ObjectInfo("k", 10, "abc123", MODIFIED, ObjectAttributes())
BEFORE = "Sat, 01 Jun 2030 11:00:00 GMT"
AT = "Sat, 01 Jun 2030 12:00:00 GMT"
AFTER = "Sat, 01 Jun 2030 13:00:00 GMT"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-4", RangeRequest(0, 4)),
        ("bytes=5-", RangeRequest(5, OPEN_END)),
        ("bytes=-3", RangeRequest(suffix=3)),
        (" bytes = 1 - 2 ", RangeRequest(1, 2)),
        ("bytes=0-1,3-4", None),
        ("bytes=4-2", None),
        ("bytes=-", None),
        ("bytes=a-b", None),
        ("items=0-1", None),
        ("", None),
        (None, None),
    ],
)
def test_one_byte_range_is_read_and_anything_else_ignored(
    header: str | None, expected: RangeRequest | None
) -> None:
    assert RangeRequest.read(header) == expected


@pytest.mark.parametrize(
    ("request_range", "resolved"),
    [
        (RangeRequest(0, 4), ByteRange(0, 4)),
        (RangeRequest(8, 100), ByteRange(8, 9)),
        (RangeRequest(suffix=3), ByteRange(7, 9)),
        (RangeRequest(suffix=30), ByteRange(0, 9)),
    ],
)
def test_a_range_resolves_against_the_size(
    request_range: RangeRequest, resolved: ByteRange
) -> None:
    assert request_range.resolve(10) == resolved


@pytest.mark.parametrize(
    ("request_range", "size"),
    [(RangeRequest(10, 20), 10), (RangeRequest(suffix=0), 10), (RangeRequest(suffix=5), 0)],
)
def test_an_unsatisfiable_range_tells_the_size(request_range: RangeRequest, size: int) -> None:
    with pytest.raises(InvalidRange) as raised:
        request_range.resolve(size)
    assert raised.value.details["ActualObjectSize"] == str(size)


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        ({"if-match": '"abc123"'}, Outcome.PROCEED),
        ({"if-match": 'W/"zzz", "abc123"'}, Outcome.PROCEED),
        ({"if-match": "*"}, Outcome.PROCEED),
        ({"if-match": '"zzz"'}, "If-Match"),
        ({"if-unmodified-since": BEFORE}, "If-Unmodified-Since"),
        ({"if-unmodified-since": AT}, Outcome.PROCEED),
        ({"if-none-match": "abc123"}, Outcome.NOT_MODIFIED),
        ({"if-none-match": '"zzz"'}, Outcome.PROCEED),
        ({"if-modified-since": AT}, Outcome.NOT_MODIFIED),
        ({"if-modified-since": BEFORE}, Outcome.PROCEED),
        ({"if-modified-since": "not a date"}, Outcome.PROCEED),
        # S3: If-Match true makes If-Unmodified-Since irrelevant
        ({"if-match": '"abc123"', "if-unmodified-since": BEFORE}, Outcome.PROCEED),
        # S3: If-None-Match false and If-Modified-Since true is 304
        ({"if-none-match": '"abc123"', "if-modified-since": BEFORE}, Outcome.NOT_MODIFIED),
        # If-None-Match true makes If-Modified-Since irrelevant
        ({"if-none-match": '"zzz"', "if-modified-since": AFTER}, Outcome.PROCEED),
        # a failed If-Match beats a 304
        ({"if-match": '"zzz"', "if-none-match": '"abc123"'}, "If-Match"),
    ],
)
def test_preconditions_follow_s3s_precedence(
    headers: dict[str, str], outcome: Outcome | str
) -> None:
    preconditions = Preconditions.read(headers)
    assert preconditions is not None
    if isinstance(outcome, Outcome):
        assert preconditions.evaluate(INFO) is outcome
    else:
        with pytest.raises(PreconditionFailed) as raised:
            preconditions.evaluate(INFO)
        assert raised.value.details["Condition"] == outcome


def test_no_precondition_headers_cost_nothing() -> None:
    assert Preconditions.read({"range": "bytes=0-1"}) is None


def test_copy_source_preconditions_fail_with_412_even_when_not_modified() -> None:
    preconditions = Preconditions.read(
        {"x-amz-copy-source-if-none-match": '"abc123"'}, "x-amz-copy-source-"
    )
    assert preconditions is not None
    with pytest.raises(PreconditionFailed) as raised:
        preconditions.require(INFO, "x-amz-copy-source-")
    assert raised.value.details["Condition"] == "x-amz-copy-source-If-None-Match"
