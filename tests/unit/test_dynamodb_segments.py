"""Parallel scan segments and the numbers the local tables hold exactly."""

from __future__ import annotations

import pytest

from overcast.local.dynamodb import errors
from overcast.local.dynamodb.segments import Segment, segment_of, segment_of_request
from overcast.ports.tables.dynamodb_values import exact_number


def test_one_key_is_always_in_the_same_segment_whatever_its_number_form() -> None:
    assert segment_of(2, 7) == segment_of(2.0, 7)
    assert segment_of("ana", 1000) == segment_of("ana", 1000)
    assert {segment_of(f"k{n}", 4) for n in range(200)} == {0, 1, 2, 3}


def test_each_item_belongs_to_exactly_one_segment() -> None:
    owners = [sum(Segment(s, 5, "pk").holds({"pk": f"k{n}"}) for s in range(5)) for n in range(50)]

    assert owners == [1] * 50


@pytest.mark.parametrize(
    "request_params",
    [{"Segment": 0}, {"TotalSegments": 3}, {"Segment": 3, "TotalSegments": 3},
     {"Segment": 0, "TotalSegments": 1_000_001}, {"Segment": -1, "TotalSegments": 2}],
)  # fmt: skip
def test_a_segment_aws_refuses_is_refused(request_params: dict[str, int]) -> None:
    with pytest.raises(errors.ValidationException):
        segment_of_request(request_params, "pk")


def test_no_segment_is_a_sequential_scan() -> None:
    assert segment_of_request({}, "pk") is None


@pytest.mark.parametrize(
    ("text", "exact"),
    [("1", True), ("0.1", True), ("1E+40", True), ("123456789012345678901234567890", True),
     ("12345678901234567.5", False), ("1.00000000000000000001", False)],
)  # fmt: skip
def test_only_numbers_that_read_back_unchanged_are_exact(text: str, exact: bool) -> None:
    assert exact_number(text) is exact
