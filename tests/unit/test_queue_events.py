"""SQS events have Lambda's exact shape, key for key (``tests/events/sqs_standard.json`` and
``sqs_fifo.json``, AWS's samples), and Powertools reads them; the dispatcher's rule for
partial batch failures follows Lambda's."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.parser.models import SqsModel

from overcast.local.queues.dispatcher import processed
from overcast.local.queues.events import QueueSource, sqs_event, sqs_record
from overcast.ports.queues.base import MessageAttribute, ReceivedMessage

EVENTS = Path(__file__).parent.parent / "events"
STANDARD = json.loads((EVENTS / "sqs_standard.json").read_text())
FIFO = json.loads((EVENTS / "sqs_fifo.json").read_text())
SOURCE = QueueSource("arn:aws:sqs:us-east-2:123456789012:my-queue", "us-east-2")


def received_as_in(record: dict[str, Any]) -> ReceivedMessage:
    """The message ReceiveMessage would have returned for a sample record."""
    system = record["attributes"]
    return ReceivedMessage(
        message_id=record["messageId"],
        receipt_handle=record["receiptHandle"],
        body=record["body"],
        md5_of_body=record["md5OfBody"],
        attributes={},
        md5_of_message_attributes=None,
        receive_count=int(system["ApproximateReceiveCount"]),
        sent_timestamp_ms=int(system["SentTimestamp"]),
        first_receive_timestamp_ms=int(system["ApproximateFirstReceiveTimestamp"]),
        sender_id=system["SenderId"],
        group_id=system.get("MessageGroupId"),
        deduplication_id=system.get("MessageDeduplicationId"),
        sequence_number=system.get("SequenceNumber"),
    )


def message(message_id: str, group: str | None = None, **fields: Any) -> ReceivedMessage:
    return ReceivedMessage(
        **{
            "message_id": message_id,
            "receipt_handle": f"handle-{message_id}",
            "body": "Test message.",
            "md5_of_body": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "attributes": {},
            "md5_of_message_attributes": None,
            "receive_count": 1,
            "sent_timestamp_ms": 1,
            "first_receive_timestamp_ms": 2,
            "sender_id": "AIDAIENQZJOLO23YVJ4VO",
            "group_id": group,
            **fields,
        }
    )


def test_a_standard_queues_batch_is_the_aws_sample_key_for_key() -> None:
    # Given the messages of AWS's sample event, as they were received
    messages = [received_as_in(record) for record in STANDARD["Records"]]
    # When they become an event
    event = sqs_event(sqs_record(each, SOURCE) for each in messages)
    # Then it is the sample, in the same key order too
    assert event == STANDARD
    assert json.dumps(event) == json.dumps(STANDARD)


def test_a_fifo_record_carries_its_group_deduplication_id_and_sequence_number() -> None:
    (sample,) = FIFO["Records"]
    source = QueueSource(sample["eventSourceARN"], "us-east-2")
    record = sqs_record(received_as_in(sample), source)
    assert record == sample
    assert list(record["attributes"]) == list(sample["attributes"])


def test_message_attributes_take_lambdas_camel_case_form_with_binary_in_base64() -> None:
    attributes = {
        "kind": MessageAttribute("String", string_value="order"),
        "total": MessageAttribute("Number.float", string_value="12.5"),
        "thumb": MessageAttribute("Binary", binary_value=b"\x89PNG\x00"),
    }
    record = sqs_record(
        message("m1", attributes=attributes, md5_of_message_attributes="0123abcd"), SOURCE
    )
    assert record["messageAttributes"] == {
        "kind": {
            "stringValue": "order",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "total": {
            "stringValue": "12.5",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Number.float",
        },
        "thumb": {
            "binaryValue": base64.b64encode(b"\x89PNG\x00").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    assert record["md5OfMessageAttributes"] == "0123abcd"


def test_a_message_without_attributes_has_no_attributes_digest() -> None:
    record = sqs_record(message("m1"), SOURCE)
    assert record["messageAttributes"] == {}
    assert "md5OfMessageAttributes" not in record


def test_powertools_reads_the_event_as_lambda_sends_it() -> None:
    attributes = {"kind": MessageAttribute("String", string_value="order")}
    event = sqs_event(
        [
            sqs_record(
                message("m1", attributes=attributes, md5_of_message_attributes="ab"), SOURCE
            ),
            sqs_record(message("m2", group="g", sequence_number="18849496460467696128"), SOURCE),
        ]
    )
    first, second = SQSEvent(event).records
    assert first.message_id == "m1"
    assert first.message_attributes["kind"].string_value == "order"
    assert first.attributes.approximate_receive_count == "1"
    assert second.attributes.message_group_id == "g"
    assert second.attributes.sequence_number == "18849496460467696128"
    parsed = SqsModel.model_validate(event)  # the parser's strict model accepts it too
    assert parsed.Records[0].eventSourceARN == SOURCE.arn


# --- partial batch failures -------------------------------------------------------------

BATCH = [message("a"), message("b"), message("c")]


def ids(messages: list[ReceivedMessage]) -> list[str]:
    return [each.message_id for each in messages]


@pytest.mark.parametrize(
    "result", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}]
)
def test_no_reported_failure_is_a_complete_success(result: Any) -> None:
    assert ids(processed(BATCH, result, report_batch_item_failures=True)) == ["a", "b", "c"]


def test_only_the_reported_messages_stay_in_the_queue() -> None:
    result = {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert ids(processed(BATCH, result, report_batch_item_failures=True)) == ["a", "c"]


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": "not-in-the-batch"}],
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"itemIdentifer": "b"}],  # a bad key name
        [{"itemIdentifier": "b"}, "c"],
        "b",
    ],
)
def test_an_unreadable_failure_report_fails_the_whole_batch(failures: Any) -> None:
    result = {"batchItemFailures": failures}
    assert processed(BATCH, result, report_batch_item_failures=True) == []


def test_a_response_that_is_not_an_object_fails_the_whole_batch() -> None:
    assert processed(BATCH, "done", report_batch_item_failures=True) == []


def test_without_report_batch_item_failures_the_response_is_ignored() -> None:
    result = {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert ids(processed(BATCH, result, report_batch_item_failures=False)) == ["a", "b", "c"]


def test_a_fifo_failure_keeps_the_rest_of_its_group_but_not_other_groups() -> None:
    # Given a FIFO batch of two interleaved groups
    batch = [message("a1", "a"), message("b1", "b"), message("a2", "a"), message("b2", "b")]
    # When the function reports only a1 as failed
    result = {"batchItemFailures": [{"itemIdentifier": "a1"}]}
    # Then a2 stays too (it must not overtake a1); group b is done
    assert ids(processed(batch, result, report_batch_item_failures=True)) == ["b1", "b2"]
