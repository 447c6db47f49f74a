"""Stream events have AWS's exact shape, key for key (``tests/events/dynamodb_stream.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from overcast import spec
from overcast.local.streams.events import StreamSource, stream_arn, stream_event, stream_record
from overcast.ports.tables.memory import MemoryTable

SAMPLE = json.loads((Path(__file__).parent.parent / "events" / "dynamodb_stream.json").read_text())
TABLE = spec.Table("blog", spec.Key("pk"), spec.Key("sk"), stream="NEW_AND_OLD_IMAGES")
SOURCE = StreamSource(
    arn=stream_arn("us-east-1", "123456789012", "blog-blog", "2026-01-02T03:04:05.678"),
    region="us-east-1",
    view="NEW_AND_OLD_IMAGES",
)


def records_of(table: MemoryTable) -> list[dict[str, Any]]:
    return [stream_record(record, SOURCE) for record in table.stream_records()]


def shape(value: Any) -> Any:
    """The keys of a record, all the way down to the attribute maps (not their names)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k not in ("Keys", "NewImage", "OldImage")}
    return type(value).__name__


def test_insert_modify_remove_events_have_the_sample_events_keys_and_types() -> None:
    table = MemoryTable(TABLE, clock=lambda: 1_700_000_000.75)
    table.put({"pk": "A", "sk": "B", "n": 1})
    table.put({"pk": "A", "sk": "B", "n": 2})
    table.delete({"pk": "A", "sk": "B"})

    for mine, sample in zip(records_of(table), SAMPLE["Records"], strict=True):
        assert list(mine) == list(sample)
        assert sorted(mine["dynamodb"]) == sorted(sample["dynamodb"])
        assert shape(mine) == shape(sample) | {
            "dynamodb": shape(sample["dynamodb"]) | {"ApproximateCreationDateTime": "float"}
        }


def test_attribute_values_are_typed_as_dynamodb_writes_them() -> None:
    table = MemoryTable(TABLE)
    item = {"pk": "A", "sk": "B", "n": 2, "f": 1.5, "ok": True, "no": None}
    table.put({**item, "m": {"x": "y"}, "l": [1, "a"]})

    (record,) = records_of(table)
    image = record["dynamodb"]["NewImage"]
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "A"}, "sk": {"S": "B"}}
    assert image["n"] == {"N": "2"}
    assert image["f"] == {"N": "1.5"}
    assert image["ok"] == {"BOOL": True}
    assert image["no"] == {"NULL": True}
    assert image["m"] == {"M": {"x": {"S": "y"}}}
    assert image["l"] == {"L": [{"N": "1"}, {"S": "a"}]}
    assert "OldImage" not in record["dynamodb"]


def test_event_fields_follow_aws_formats() -> None:
    table = MemoryTable(TABLE, clock=lambda: 1_700_000_000.75)
    table.put({"pk": "A", "sk": "B"})
    table.put({"pk": "A", "sk": "C"})

    first, second = records_of(table)
    assert first["eventVersion"] == "1.1"
    assert first["eventSource"] == "aws:dynamodb"
    assert first["dynamodb"]["ApproximateCreationDateTime"] == 1_700_000_000
    sequence = first["dynamodb"]["SequenceNumber"]
    assert sequence.isdigit()
    assert 21 <= len(sequence) <= 40
    assert int(second["dynamodb"]["SequenceNumber"]) > int(sequence)
    assert len(first["eventID"]) == 32
    assert first["eventID"] != second["eventID"]
    assert first["eventSourceARN"] == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/blog-blog/stream/2026-01-02T03:04:05.678"
    )
    assert stream_record(table.stream_records()[0], SOURCE)["eventID"] == first["eventID"]


def test_powertools_reads_our_events_as_it_reads_aws_ones() -> None:
    table = MemoryTable(TABLE)
    table.put({"pk": "SUBSCRIBER#a@b.co", "sk": "SUBSCRIBER", "email": "a@b.co", "n": 3})

    event = DynamoDBStreamEvent(stream_event(records_of(table)))

    (record,) = list(event.records)
    assert record.event_name is not None
    assert record.event_name.name == "INSERT"
    assert record.dynamodb is not None
    assert record.dynamodb.new_image["email"] == "a@b.co"
    assert record.dynamodb.new_image["n"] == 3
