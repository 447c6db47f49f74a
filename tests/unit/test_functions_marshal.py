"""A handler's result reaches its caller as Lambda's JSON round trip would give it."""

from __future__ import annotations

import collections
import decimal
import json
from typing import Any

import pytest

from overcast.local.functions.marshal import MarshalError, marshal


def round_trip(result: Any) -> Any:
    return json.loads(json.dumps(result))


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(
            {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "hi"},
            id="proxy-response",
        ),
        pytest.param(
            {"multiValueHeaders": collections.defaultdict(list, {"X-A": ["1", "2"]})},
            id="powertools-defaultdict",
        ),
        pytest.param({"pair": (1, (2, 3)), "empty": ()}, id="tuples"),
        pytest.param({7: "seven", None: "none", False: "no", 2.5: "half"}, id="non-string-keys"),
        pytest.param({"n": float("inf"), "big": 10**100, "neg": -0.0}, id="numbers"),
        pytest.param(collections.OrderedDict(b=1, a=[None, False]), id="ordered-dict"),
        pytest.param(["a", {"b": [{"c": "d"}]}], id="nested-list"),
        pytest.param("just text", id="string"),
        pytest.param(None, id="null"),
    ],
)
def test_result_is_what_the_json_round_trip_gives(result: Any) -> None:
    marshalled = marshal(result)

    assert repr(marshalled) == repr(round_trip(result))


def test_result_is_a_copy_the_handler_cannot_change_afterwards() -> None:
    headers = {"X-Count": "1"}
    result = {"statusCode": 200, "headers": headers, "body": "[1]"}

    marshalled = marshal(result)
    headers["X-Count"] = "2"

    assert marshalled["headers"] == {"X-Count": "1"}


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        pytest.param({"amount": decimal.Decimal("1.5")}, "Decimal", id="decimal"),
        pytest.param({"tags": {"a", "b"}}, "set", id="set"),
        pytest.param({"huge": 10**5000}, "limit", id="int-past-the-digit-limit"),
    ],
)
def test_unserialisable_result_is_a_marshal_error(result: Any, reason: str) -> None:
    with pytest.raises(MarshalError, match=f"Unable to marshal response: .*{reason}"):
        marshal(result)


def test_cyclic_result_is_a_marshal_error() -> None:
    result: dict[str, Any] = {"statusCode": 200}
    result["self"] = result

    with pytest.raises(MarshalError, match="Circular reference"):
        marshal(result)
