"""The change stream's contract: what every local table adapter records, as DynamoDB
Streams does.

A runner defines a ``table`` fixture returning a fresh, empty table of the declaration
in ``request.param`` and imports these tests with
``from tests.tables_stream_contract import *``. Runners:
``tests/unit/test_tables_memory_stream.py`` and
``tests/integration/test_tables_sqlite_stream.py``.
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from overcast import spec
from overcast.ports.tables import ConditionFailed, InvalidItem, ItemExists, ItemNotExists, Table
from overcast.ports.tables.stream import ChangeRecord


def streamed(view: spec.StreamView) -> spec.Table:
    return spec.Table("subscribers", spec.Key("pk"), spec.Key("sk"), stream=view)


BOTH = streamed("NEW_AND_OLD_IMAGES")
PLAIN = spec.Table("plain", spec.Key("pk"))


def of(declaration: spec.Table) -> pytest.MarkDecorator:
    """Run the test on a fresh table of ``declaration``."""
    return pytest.mark.parametrize("table", [declaration], indirect=True, ids=[declaration.name])


def events(table: Table) -> list[tuple[str, dict[str, object]]]:
    return [(r.change.event_name, r.change.keys) for r in table.stream_records()]


KEY = {"pk": "SUBSCRIBER#ana@example.com", "sk": "SUBSCRIBER"}


@of(BOTH)
def test_put_update_delete_record_insert_modify_remove_with_both_images(table: Table) -> None:
    table.put({**KEY, "name": "Ana"})
    table.update(KEY, {"name": "Ana B."})
    table.delete(KEY)

    inserted, modified, removed = table.stream_records()
    assert (inserted.change.event_name, modified.change.event_name) == ("INSERT", "MODIFY")
    assert removed.change.event_name == "REMOVE"
    assert inserted.change.keys == KEY
    assert removed.change.keys == KEY
    assert inserted.change.new_image == {**KEY, "name": "Ana"}
    assert inserted.change.old_image is None
    assert modified.change.old_image == {**KEY, "name": "Ana"}
    assert modified.change.new_image == {**KEY, "name": "Ana B."}
    assert removed.change.old_image == {**KEY, "name": "Ana B."}
    assert removed.change.new_image is None


@of(BOTH)
def test_a_write_that_changes_nothing_records_nothing(table: Table) -> None:
    table.put({**KEY, "n": 2})
    table.put({**KEY, "n": 2.0})  # the same number, to DynamoDB
    table.update(KEY, {"n": 2})
    table.update(KEY, remove_attributes=["missing"])
    table.delete({"pk": "nobody", "sk": "SUBSCRIBER"})

    assert [name for name, _ in events(table)] == ["INSERT"]


@of(BOTH)
def test_a_write_whose_condition_fails_records_nothing(table: Table) -> None:
    table.put({**KEY, "n": 1})
    with pytest.raises(ConditionFailed):
        table.put({**KEY, "n": 2}, ItemNotExists())
    with pytest.raises(ConditionFailed):
        table.update({"pk": "x", "sk": "y"}, {"n": 1}, condition=ItemExists())
    with pytest.raises(ConditionFailed):
        table.delete(KEY, ItemNotExists())

    assert [name for name, _ in events(table)] == ["INSERT"]


@of(BOTH)
def test_a_write_refused_as_invalid_records_nothing(table: Table) -> None:
    with pytest.raises(InvalidItem):
        table.update(KEY, {"blob": "x" * 500_000})

    assert table.stream_records() == []
    assert table.get(KEY) is None


@pytest.mark.parametrize(
    ("table", "new", "old"),
    [
        (streamed("KEYS_ONLY"), False, False),
        (streamed("NEW_IMAGE"), True, False),
        (streamed("OLD_IMAGE"), False, True),
        (streamed("NEW_AND_OLD_IMAGES"), True, True),
    ],
    indirect=["table"],
    ids=["keys-only", "new-image", "old-image", "new-and-old"],
)
def test_the_view_type_decides_which_images_are_kept(table: Table, new: bool, old: bool) -> None:
    table.put({**KEY, "v": 1})
    table.put({**KEY, "v": 2})

    modified = table.stream_records()[1].change
    assert modified.keys == KEY
    assert modified.new_image == ({**KEY, "v": 2} if new else None)
    assert modified.old_image == ({**KEY, "v": 1} if old else None)


@of(BOTH)
def test_records_are_read_in_sequence_order_after_a_position(table: Table) -> None:
    for n in range(5):
        table.put({"pk": f"p{n}", "sk": "s", "n": n})

    every = table.stream_records()
    sequences = [record.sequence for record in every]
    assert sequences == sorted(set(sequences))
    page = table.stream_records(after=sequences[1], limit=2)
    assert [record.sequence for record in page] == sequences[2:4]
    assert table.stream_records(after=sequences[-1]) == []


@of(BOTH)
def test_concurrent_writers_each_leave_one_record_in_a_strict_order(table: Table) -> None:
    def write(worker: int) -> None:
        for n in range(20):
            table.put({"pk": f"w{worker}", "sk": f"{n}", "n": n})

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    records: list[ChangeRecord] = table.stream_records(limit=1000)
    assert len(records) == 80
    assert all(a.sequence < b.sequence for a, b in itertools.pairwise(records))
    for worker in range(4):
        mine = [r.change.keys["sk"] for r in records if r.change.keys["pk"] == f"w{worker}"]
        assert mine == [f"{n}" for n in range(20)]  # in order per item partition


@of(BOTH)
def test_records_carry_the_time_of_the_change_and_the_stream_has_a_label(table: Table) -> None:
    table.put({**KEY})

    (record,) = table.stream_records()
    assert record.created_at > 1_600_000_000
    label = table.stream_label()
    assert len(label) == len("2016-11-29T20:46:22.144")
    assert label[10] == "T"


@of(PLAIN)
def test_a_table_without_a_stream_has_no_records_to_read(table: Table) -> None:
    from overcast.ports.tables import TableUnavailable

    table.put({"pk": "a"})
    with pytest.raises(TableUnavailable):
        table.stream_records()


@of(BOTH)
def test_trimming_drops_old_records_and_numbering_carries_on(table: Table) -> None:
    table.put({"pk": "old", "sk": "s"})
    (old,) = table.stream_records()
    time.sleep(0.02)
    table.put({"pk": "new", "sk": "s"})

    assert table.trim_stream(before=old.created_at + 0.01) == 1
    table.put({"pk": "newer", "sk": "s"})

    kept = table.stream_records()
    assert [r.change.keys["pk"] for r in kept] == ["new", "newer"]
    assert kept[0].sequence > old.sequence
    assert kept[1].sequence > kept[0].sequence
