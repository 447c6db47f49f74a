"""SNS filter policies match as SNS documents, and bad policies are refused."""

from __future__ import annotations

import json

import pytest

from overcast.ports.queues import MessageAttribute
from overcast.ports.topics.filter_policy import FilterPolicyError, parse_policy


def string(value: str) -> MessageAttribute:
    return MessageAttribute("String", value)


def number(value: str) -> MessageAttribute:
    return MessageAttribute("Number", value)


def array(*values: object) -> MessageAttribute:
    return MessageAttribute("String.Array", json.dumps(values))


def passes(policy: object, attributes: dict[str, MessageAttribute]) -> bool:
    return parse_policy(json.dumps(policy)).matches("{}", attributes)


def body_passes(policy: object, body: object) -> bool:
    text = body if isinstance(body, str) else json.dumps(body)
    return parse_policy(json.dumps(policy), "MessageBody").matches(text, {})


@pytest.mark.parametrize(
    ("policy", "attributes", "expected"),
    [
        ({"sport": ["rugby", "tennis"]}, {"sport": string("tennis")}, True),
        ({"sport": ["rugby", "tennis"]}, {"sport": string("baseball")}, False),
        ({"sport": ["rugby"]}, {"sport": array("golf", "rugby")}, True),
        ({"sport": ["rugby"]}, {"sport": array("baseball")}, False),
        ({"price": [301.5]}, {"price": number("3.015e2")}, True),
        ({"price": ["301.5"]}, {"price": number("301.5")}, False),
        ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"price": number("150")}, True),
        ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"price": number("150.5")}, False),
        ({"price": [{"numeric": ["=", 5]}]}, {"price": string("5")}, False),
        ({"event": [{"prefix": "order-"}]}, {"event": string("order-placed")}, True),
        ({"event": [{"suffix": "-placed"}]}, {"event": string("order-placed")}, True),
        ({"event": [{"suffix": "-placed"}]}, {"event": string("order-paid")}, False),
        ({"event": [{"equals-ignore-case": "PAID"}]}, {"event": string("paid")}, True),
        (
            {"event": [{"prefix": {"equals-ignore-case": "ORDER"}}]},
            {"event": string("order-x")},
            True,
        ),
        ({"sport": [{"anything-but": ["rugby", "tennis"]}]}, {"sport": string("golf")}, True),
        ({"sport": [{"anything-but": "rugby"}]}, {"sport": string("rugby")}, False),
        ({"sport": [{"anything-but": "rugby"}]}, {"other": string("x")}, False),
        ({"price": [{"anything-but": [100, 500]}]}, {"price": number("101")}, True),
        ({"price": [{"anything-but": [100, 500]}]}, {"price": number("100")}, False),
        ({"event": [{"anything-but": {"prefix": "test-"}}]}, {"event": string("test-1")}, False),
        ({"event": [{"anything-but": {"prefix": "test-"}}]}, {"event": string("real")}, True),
        ({"store": [{"exists": True}]}, {"store": string("fans")}, True),
        ({"store": [{"exists": True}]}, {"other": string("x")}, False),
        ({"store": [{"exists": False}]}, {"other": string("x")}, True),
        ({"store": [{"exists": False}]}, {}, False),  # no attributes at all: nothing matches
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": string("10.0.0.7")}, True),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": string("10.0.1.7")}, False),
        ({"a": ["x"], "b": ["y"]}, {"a": string("x"), "b": string("y")}, True),
        ({"a": ["x"], "b": ["y"]}, {"a": string("x"), "b": string("z")}, False),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": string("y")}, True),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": string("n")}, False),
        ({"blob": [{"exists": True}]}, {"blob": MessageAttribute("Binary", None, b"1")}, False),
    ],
)
def test_attribute_policies_match_as_sns_documents(
    policy: object, attributes: dict[str, MessageAttribute], expected: bool
) -> None:
    assert passes(policy, attributes) is expected


@pytest.mark.parametrize(
    ("policy", "body", "expected"),
    [
        ({"order": {"state": ["paid"]}}, {"order": {"state": "paid"}}, True),
        ({"order": {"state": ["paid"]}}, {"order": {"state": "open"}}, False),
        ({"order": {"state": ["paid"]}}, {"state": "paid"}, False),
        ({"tags": ["red"]}, {"tags": ["blue", "red"]}, True),
        ({"items": {"sku": ["a"]}}, {"items": [{"sku": "b"}, {"sku": "a"}]}, True),
        ({"gone": [None]}, {"gone": None}, True),
        ({"flag": [True]}, {"flag": True}, True),
        ({"flag": [True]}, {"flag": 1}, False),
        ({"store": [{"exists": True}]}, {"store": None}, False),
        ({"order": {"note": [{"exists": False}]}}, {"order": {"state": "x"}}, True),
        ({"state": ["paid"]}, "not json", False),
        ({"state": ["paid"]}, ["paid"], False),
    ],
)
def test_body_policies_match_nested_keys_and_arrays(
    policy: object, body: object, expected: bool
) -> None:
    assert body_passes(policy, body) is expected


@pytest.mark.parametrize(
    ("text", "scope", "reason"),
    [
        ("not json", "MessageAttributes", "not JSON"),
        ("[]", "MessageAttributes", "non-empty JSON object"),
        ('{"a": []}', "MessageAttributes", "non-empty list"),
        ('{"a": {"b": ["c"]}}', "MessageAttributes", "nested"),
        ('{"a": [{"between": [1, 2]}]}', "MessageAttributes", "unknown operator"),
        ('{"a": [{"numeric": ["<", 5, ">", 1]}]}', "MessageAttributes", "lower bound"),
        ('{"a": [{"numeric": [">", 1e10]}]}', "MessageAttributes", "numeric range"),
        ('{"a": [{"exists": "yes"}]}', "MessageAttributes", "true or false"),
        ('{"a": [null]}', "MessageAttributes", "message body"),
        ('{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}', "MessageBody", "5"),
        (json.dumps({"a": list(range(13)), "b": list(range(12))}), "MessageBody", "150"),
        ('{"$or": [{"a": ["x"]}]}', "MessageAttributes", "at least two"),
    ],
)
def test_an_invalid_policy_is_refused_with_its_reason(text: str, scope: str, reason: str) -> None:
    with pytest.raises(FilterPolicyError, match=reason):
        parse_policy(text, scope)


def test_exists_true_needs_a_non_empty_value() -> None:
    # SNS "Key matching": exists true matches "a non-null and non-empty value"
    assert not body_passes({"store": [{"exists": True}]}, {"store": ""})
    assert not passes({"store": [{"exists": True}]}, {"store": string("")})
    assert body_passes({"store": [{"exists": True}]}, {"store": "fans"})
