"""Lambda's filter criteria, on stream records."""

from __future__ import annotations

import json
from typing import Any

import pytest

from overcast.local.streams.filters import RecordFilter

RECORD: dict[str, Any] = {
    "eventName": "INSERT",
    "dynamodb": {
        "ApproximateCreationDateTime": 1700000000.0,
        "Keys": {"pk": {"S": "SUBSCRIBER#ana@example.com"}, "sk": {"S": "SUBSCRIBER"}},
        "NewImage": {"source": {"S": "newsletter"}, "tags": {"L": [{"S": "a"}, {"S": "b"}]}},
    },
}
BLOG = '{"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["SUBSCRIBER"]}}}}'


def passes(*patterns: Any) -> bool:
    return RecordFilter(json.dumps(p) if not isinstance(p, str) else p for p in patterns).matches(
        RECORD
    )


def test_no_patterns_let_every_record_through() -> None:
    assert passes()


def test_the_blog_filter_lets_new_subscribers_in_and_keeps_other_changes_out() -> None:
    assert passes(BLOG)
    assert not passes({"eventName": ["MODIFY"]})
    assert not passes({"dynamodb": {"Keys": {"sk": {"S": ["PHOTO"]}}}})


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "SUBSCRIBER#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "USER#"}]}}}}, False),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"suffix": "@example.com"}]}}}}, True),
        ({"eventName": [{"equals-ignore-case": "insert"}]}, True),
        ({"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]}, True),
        ({"eventName": [{"anything-but": "INSERT"}]}, False),
        ({"eventName": [{"anything-but": {"prefix": "INS"}}]}, False),
        ({"dynamodb": {"NewImage": {"source": [{"exists": True}]}}}, True),
        ({"dynamodb": {"NewImage": {"name": [{"exists": True}]}}}, False),
        ({"dynamodb": {"NewImage": {"name": [{"exists": False}]}}}, True),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, True),
        ({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 1e9, "<=", 2e9]}]}}, True),
        ({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": ["<", 1e9]}]}}, False),
        ({"dynamodb": {"NewImage": {"tags": {"L": {"S": ["b"]}}}}}, True),
        ({"dynamodb": {"NewImage": {"tags": {"L": {"S": ["z"]}}}}}, False),
        ({"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["X"]}}}}, False),
    ],
)
def test_each_matcher_works_as_in_lambda(pattern: dict[str, Any], expected: bool) -> None:
    assert passes(pattern) is expected


def test_any_one_pattern_is_enough() -> None:
    assert passes({"eventName": ["REMOVE"]}, {"eventName": ["INSERT"]})
    assert not passes({"eventName": ["REMOVE"]}, {"eventName": ["MODIFY"]})
