"""SQS's parameters are checked for their JSON types against botocore's SQS model
before any operation runs: a wrong type is 400 InvalidParameterValue."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.local.sqs import errors, shapes

URL = "https://local/000000000000/q"
SEND = {"QueueUrl": URL, "MessageBody": "b"}
ATTRIBUTE = {"a": {"DataType": "Binary", "BinaryValue": "AAE="}}
BATCH = {"Id": "a", "MessageBody": "b"}


@pytest.mark.parametrize(
    ("operation", "params", "where"),
    [
        ("SendMessage", {**SEND, "MessageGroupId": 7}, "MessageGroupId"),
        ("SendMessage", {**SEND, "MessageDeduplicationId": 7}, "MessageDeduplicationId"),
        ("SendMessage", {"QueueUrl": URL, "MessageBody": 5}, "MessageBody"),
        ("SendMessage", {**SEND, "DelaySeconds": "5"}, "DelaySeconds"),
        ("SendMessage", {**SEND, "DelaySeconds": True}, "DelaySeconds"),
        ("SendMessage", {**SEND, "MessageAttributes": {"a": {"DataType": 1}}}, "MessageAttributes.a.DataType"),  # noqa: E501
        ("CreateQueue", {"QueueName": "q", "Attributes": []}, "Attributes"),
        ("CreateQueue", {"QueueName": "q", "Attributes": {"VisibilityTimeout": 30}}, "Attributes.VisibilityTimeout"),  # noqa: E501
        ("SendMessageBatch", {"QueueUrl": URL, "Entries": [{**BATCH, "MessageGroupId": 7}]}, "Entries.1.MessageGroupId"),  # noqa: E501
        ("SendMessageBatch", {"QueueUrl": URL, "Entries": {"Id": "a"}}, "Entries"),
        ("ReceiveMessage", {"QueueUrl": URL, "MessageAttributeNames": "All"}, "MessageAttributeNames"),  # noqa: E501
        ("ReceiveMessage", {"QueueUrl": URL, "WaitTimeSeconds": 1.5}, "WaitTimeSeconds"),
        ("DeleteMessageBatch", {"QueueUrl": URL, "Entries": ["handle"]}, "Entries.1"),
        ("GetQueueUrl", {"QueueName": ["q"]}, "QueueName"),
    ],
)  # fmt: skip
def test_a_parameter_of_the_wrong_json_type_is_an_invalid_parameter_value(
    operation: str, params: dict[str, Any], where: str
) -> None:
    with pytest.raises(errors.InvalidParameterValue) as caught:
        shapes.check(operation, params)

    assert caught.value.status == 400
    assert f"parameter {where} is invalid" in caught.value.message


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("SendMessage", {**SEND, "MessageGroupId": "g", "DelaySeconds": 0}),
        ("SendMessage", {**SEND, "MessageAttributes": ATTRIBUTE}),
        ("CreateQueue", {"QueueName": "q", "Attributes": {"VisibilityTimeout": "30"}, "Unknown": 1}),  # noqa: E501
        ("ReceiveMessage", {"QueueUrl": URL, "WaitTimeSeconds": None, "AttributeNames": ["All"]}),
        ("ListQueues", {}),
    ],
)  # fmt: skip
def test_parameters_of_the_right_json_types_pass(operation: str, params: dict[str, Any]) -> None:
    shapes.check(operation, params)
