"""The table port's contract: what every adapter must do, as DynamoDB does it.

A runner module defines a ``table`` fixture that returns a fresh, empty table of
the declaration in ``request.param``, then imports these tests with
``from tests.tables_contract import *``. Each test picks its declaration with
:func:`of`. Runners: ``tests/unit/test_tables_memory.py`` and
``tests/integration/test_tables_sqlite.py``.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import threading
from typing import Any

import pytest

from overcast import spec
from overcast.ports.tables import (
    AttributeEquals,
    BeginsWith,
    Between,
    ConditionFailed,
    InvalidCursor,
    InvalidItem,
    Item,
    ItemExists,
    ItemMatches,
    ItemNotExists,
    KeyCompare,
    Page,
    SortCondition,
    Table,
)

TODOS = spec.Table(
    "todos",
    spec.Key("user"),
    spec.Key("id"),
    indexes=(spec.Index("by-status", spec.Key("status"), spec.Key("due", "N")),),
)
SCORES = spec.Table("scores", spec.Key("game"), spec.Key("score", "N"))
PROFILES = spec.Table(
    "profiles", spec.Key("id"), indexes=(spec.Index("by-email", spec.Key("email")),)
)
COUNTERS = spec.Table("counters", spec.Key("name"))


def of(declaration: spec.Table) -> pytest.MarkDecorator:
    """Run the test on a fresh table of ``declaration``."""
    return pytest.mark.parametrize("table", [declaration], indirect=True, ids=[declaration.name])


def walk(table: Table, partition: Any, **options: Any) -> tuple[list[Item], int]:
    """Every item of a query, page by page; and the number of pages."""
    items: list[Item] = []
    cursor, pages = None, 0
    while True:
        page = table.query(partition, cursor=cursor, **options)
        items += page.items
        pages += 1
        if page.cursor is None:
            return items, pages
        assert pages < 1000, "the cursor does not advance"
        cursor = page.cursor


def ids(items: list[Item], name: str = "id") -> list[Any]:
    return [item[name] for item in items]


def forged_cursor(position: Any) -> str:
    raw = json.dumps(position).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def todo(user: str, id: str, **attributes: Any) -> Item:
    return {"user": user, "id": id, **attributes}


# --- items ---------------------------------------------------------------------------


@of(TODOS)
def test_a_put_item_can_be_read_back(table: Table) -> None:
    item = todo("ana", "t1", title="Buy milk", done=False, tags=["home"], meta={"n": 1.5})
    table.put(item)
    assert table.get({"user": "ana", "id": "t1"}) == item


@of(TODOS)
def test_reading_a_missing_item_returns_none(table: Table) -> None:
    table.put(todo("ana", "t1"))
    assert table.get({"user": "ana", "id": "t2"}) is None
    assert table.get({"user": "bob", "id": "t1"}) is None


@of(TODOS)
def test_put_replaces_the_whole_item(table: Table) -> None:
    table.put(todo("ana", "t1", title="Buy milk", done=False))
    table.put(todo("ana", "t1", title="Buy bread"))
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", title="Buy bread")


@of(TODOS)
def test_update_creates_a_missing_item_and_returns_it(table: Table) -> None:
    created = table.update({"user": "ana", "id": "t1"}, {"title": "Buy milk"})
    assert created == todo("ana", "t1", title="Buy milk")
    assert table.get({"user": "ana", "id": "t1"}) == created


@of(TODOS)
def test_update_sets_and_removes_attributes_and_keeps_the_rest(table: Table) -> None:
    table.put(todo("ana", "t1", title="Buy milk", done=False, note="2 litres"))
    updated = table.update(
        {"user": "ana", "id": "t1"}, {"done": True, "at": 3}, remove_attributes=["note", "nope"]
    )
    assert updated == todo("ana", "t1", title="Buy milk", done=True, at=3)
    assert table.get({"user": "ana", "id": "t1"}) == updated


@of(TODOS)
def test_delete_returns_the_old_item_and_removes_it(table: Table) -> None:
    table.put(todo("ana", "t1", title="Buy milk"))
    assert table.delete({"user": "ana", "id": "t1"}) == todo("ana", "t1", title="Buy milk")
    assert table.get({"user": "ana", "id": "t1"}) is None
    assert table.delete({"user": "ana", "id": "t1"}) is None


@of(SCORES)
def test_numbers_equal_in_value_are_the_same_key(table: Table) -> None:
    table.put({"game": "chess", "score": 2, "by": "ana"})
    table.put({"game": "chess", "score": 2.0, "by": "bob"})
    assert table.get({"game": "chess", "score": 2})["by"] == "bob"  # type: ignore[index]
    assert len(table.query("chess").items) == 1


@of(PROFILES)
def test_a_table_without_sort_key_holds_one_item_per_partition(table: Table) -> None:
    table.put({"id": "ana", "email": "ana@example.com"})
    table.put({"id": "ana", "email": "ana@example.org"})
    page = table.query("ana")
    assert page.items == [{"id": "ana", "email": "ana@example.org"}]
    assert page.cursor is None


# --- conditions -------------------------------------------------------------------------


@of(TODOS)
def test_put_if_not_exists_refuses_to_overwrite(table: Table) -> None:
    table.put(todo("ana", "t1", title="mine"))
    with pytest.raises(ConditionFailed):
        table.put(todo("ana", "t1", title="theirs"), condition=ItemNotExists())
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", title="mine")


@of(TODOS)
def test_put_if_not_exists_creates_a_new_item(table: Table) -> None:
    table.put(todo("ana", "t1"), condition=ItemNotExists())
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1")


@of(TODOS)
def test_put_if_exists_refuses_to_create(table: Table) -> None:
    with pytest.raises(ConditionFailed):
        table.put(todo("ana", "t1", status="open", due=1), condition=ItemExists())
    assert table.get({"user": "ana", "id": "t1"}) is None
    assert table.query("open", index="by-status").items == []


@of(TODOS)
def test_update_if_exists_refuses_to_create(table: Table) -> None:
    with pytest.raises(ConditionFailed):
        table.update({"user": "ana", "id": "t1"}, {"done": True}, condition=ItemExists())
    assert table.get({"user": "ana", "id": "t1"}) is None


@of(TODOS)
def test_update_applies_when_the_attribute_still_has_the_expected_value(table: Table) -> None:
    table.put(todo("ana", "t1", version=1, title="old"))
    table.update(
        {"user": "ana", "id": "t1"},
        {"version": 2, "title": "new"},
        condition=AttributeEquals("version", 1),
    )
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", version=2, title="new")


@of(TODOS)
def test_update_with_a_stale_attribute_value_changes_nothing(table: Table) -> None:
    table.put(todo("ana", "t1", version=2, title="current", status="open", due=1))
    with pytest.raises(ConditionFailed):
        table.update(
            {"user": "ana", "id": "t1"},
            {"version": 3, "status": "done"},
            condition=AttributeEquals("version", 1),
        )
    assert table.get({"user": "ana", "id": "t1"}) == todo(
        "ana", "t1", version=2, title="current", status="open", due=1
    )
    assert ids(table.query("open", index="by-status").items) == ["t1"]
    assert table.query("done", index="by-status").items == []


@pytest.mark.parametrize(
    ("stored", "expected", "holds"),
    [
        ({}, None, False),  # a missing attribute equals nothing, not even None
        ({"v": None}, None, True),
        ({"v": True}, 1, False),  # bool is not a number
        ({"v": 1}, True, False),
        ({"v": 2}, 2.0, True),  # numbers compare by value
        ({"v": "2"}, 2, False),
        ({"v": [1, {"a": True}]}, [1, {"a": 1}], False),
        ({"v": [1, {"a": True}]}, (1.0, {"a": True}), True),
    ],
)
@of(TODOS)
def test_attribute_equals_compares_as_dynamodb_does(
    table: Table, stored: Item, expected: Any, holds: bool
) -> None:
    table.put(todo("ana", "t1", **stored))
    try:
        table.update(
            {"user": "ana", "id": "t1"}, {"seen": 1}, condition=AttributeEquals("v", expected)
        )
    except ConditionFailed:
        assert not holds
        assert "seen" not in table.get({"user": "ana", "id": "t1"})  # type: ignore[operator]
    else:
        assert holds


@of(TODOS)
def test_delete_with_a_failing_condition_keeps_the_item(table: Table) -> None:
    table.put(todo("ana", "t1", version=2))
    with pytest.raises(ConditionFailed):
        table.delete({"user": "ana", "id": "t1"}, condition=AttributeEquals("version", 1))
    with pytest.raises(ConditionFailed):
        table.delete({"user": "ana", "id": "t1"}, condition=ItemNotExists())
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", version=2)
    with pytest.raises(ConditionFailed):
        table.delete({"user": "ana", "id": "t2"}, condition=ItemExists())
    assert table.delete({"user": "ana", "id": "t1"}, condition=ItemExists()) is not None


@of(COUNTERS)
def test_concurrent_conditional_increments_never_lose_an_update(table: Table) -> None:
    table.put({"name": "hits", "n": 0})
    threads, times = 8, 60

    def increment() -> None:
        for _ in range(times):
            increment_once(table, "hits")

    workers = [threading.Thread(target=increment) for _ in range(threads)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that races do happen
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    assert table.get({"name": "hits"}) == {"name": "hits", "n": threads * times}


def increment_once(table: Table, name: str) -> int:
    """Optimistic increment: read, then write only if nobody wrote in between."""
    while True:
        current = table.get({"name": name})["n"]  # type: ignore[index]
        try:
            table.update(
                {"name": name}, {"n": current + 1}, condition=AttributeEquals("n", current)
            )
        except ConditionFailed:
            continue
        return int(current) + 1


# --- updates that are refused ---------------------------------------------------------------


@of(TODOS)
def test_update_cannot_change_a_key_attribute(table: Table) -> None:
    table.put(todo("ana", "t1"))
    with pytest.raises(InvalidItem):
        table.update({"user": "ana", "id": "t1"}, {"id": "t2"})
    with pytest.raises(InvalidItem):
        table.update({"user": "ana", "id": "t1"}, remove_attributes=["user"])
    assert ids(table.query("ana").items) == ["t1"]


@of(TODOS)
def test_update_cannot_set_and_remove_the_same_attribute(table: Table) -> None:
    table.put(todo("ana", "t1", title="x"))
    with pytest.raises(InvalidItem):
        table.update({"user": "ana", "id": "t1"}, {"title": "y"}, remove_attributes=["title"])
    with pytest.raises(InvalidItem):
        table.update({"user": "ana", "id": "t1"}, remove_attributes="title")
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", title="x")


@of(TODOS)
def test_update_that_would_exceed_400_kb_changes_nothing(table: Table) -> None:
    table.put(todo("ana", "t1", a="x" * 300_000))
    with pytest.raises(InvalidItem):
        table.update({"user": "ana", "id": "t1"}, {"b": "y" * 150_000})
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", a="x" * 300_000)


@pytest.mark.parametrize(
    "changes",
    [{"n": math.nan}, {"n": {1, 2}}, {"due": "tomorrow"}, {"status": ""}, {"": 1}],
    ids=["nan", "set", "index-key-type", "empty-index-key", "empty-name"],
)
@of(TODOS)
def test_update_with_an_invalid_value_changes_nothing(table: Table, changes: Item) -> None:
    table.put(todo("ana", "t1", status="open", due=1))
    with pytest.raises(InvalidItem):
        table.update({"user": "ana", "id": "t1"}, changes)
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", status="open", due=1)


# --- order and sort conditions --------------------------------------------------------------


@of(TODOS)
def test_string_sort_keys_are_ordered_by_utf8_bytes(table: Table) -> None:
    for id in ["é", "b", "日本", "a", "ab", "Z", "\U0001f600", "\ufb01", "e"]:
        table.put(todo("ana", id))
    expected = ["Z", "a", "ab", "b", "e", "é", "日本", "\ufb01", "\U0001f600"]
    assert ids(table.query("ana").items) == expected
    assert ids(table.query("ana", descending=True).items) == expected[::-1]


@of(SCORES)
def test_number_sort_keys_are_ordered_by_value(table: Table) -> None:
    for score in [10, 2, -1.5, 0, 100.5, 2.25, -20]:
        table.put({"game": "chess", "score": score})
    expected = [-20, -1.5, 0, 2, 2.25, 10, 100.5]
    assert ids(table.query("chess").items, "score") == expected
    assert ids(table.query("chess", descending=True).items, "score") == expected[::-1]


@of(SCORES)
def test_queries_read_only_their_partition(table: Table) -> None:
    table.put({"game": "chess", "score": 1})
    table.put({"game": "go", "score": 2})
    table.put({"game": "chess2", "score": 3})
    assert ids(table.query("chess").items, "score") == [1]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (KeyCompare("=", 5), [5]),
        (KeyCompare("=", 5.5), []),
        (KeyCompare("<", 3), [1, 2]),
        (KeyCompare("<=", 3), [1, 2, 3]),
        (KeyCompare(">", 8), [9, 10]),
        (KeyCompare(">=", 8), [8, 9, 10]),
        (KeyCompare(">", 7.5), [8, 9, 10]),
        (Between(3, 5), [3, 4, 5]),
        (Between(2.5, 4), [3, 4]),
        (Between(4.1, 4.9), []),
    ],
    ids=repr,
)
@of(SCORES)
def test_number_sort_conditions(table: Table, sort: SortCondition, expected: list[int]) -> None:
    for score in range(1, 11):
        table.put({"game": "chess", "score": score})
    assert ids(table.query("chess", sort).items, "score") == expected
    descending = table.query("chess", sort, descending=True).items
    assert ids(descending, "score") == expected[::-1]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (KeyCompare("=", "b"), ["b"]),
        (KeyCompare("<", "b"), ["a", "ab"]),
        (KeyCompare("<=", "b"), ["a", "ab", "b"]),
        (KeyCompare(">", "b"), ["ba", "é"]),
        (KeyCompare(">=", "b"), ["b", "ba", "é"]),
        (Between("ab", "ba"), ["ab", "b", "ba"]),
        (Between("e", "z"), []),
        (BeginsWith("a"), ["a", "ab"]),
        (BeginsWith("b"), ["b", "ba"]),
        (BeginsWith("ab"), ["ab"]),
        (BeginsWith("abc"), []),
        (BeginsWith("é"), ["é"]),
        (BeginsWith("e"), []),
    ],
    ids=repr,
)
@of(TODOS)
def test_string_sort_conditions(table: Table, sort: SortCondition, expected: list[str]) -> None:
    for id in ["a", "ab", "b", "ba", "é"]:
        table.put(todo("ana", id))
    assert ids(table.query("ana", sort).items) == expected
    assert ids(table.query("ana", sort, descending=True).items) == expected[::-1]


@pytest.mark.parametrize(
    ("prefix", "stored", "expected"),
    [
        # The highest code point cannot be incremented: the range ends after the one before.
        ("x\U0010ffff", ["x\U0010fffe", "x\U0010ffff", "x\U0010ffffa", "y"], [1, 2]),
        ("\U0010ffff", ["\U0010fffe", "\U0010ffff", "\U0010ffff\U0010ffff"], [1, 2]),
        # Incrementing U+D7FF lands in the surrogates; the next real code point is U+E000.
        ("a\ud7ff", ["a\ud7fe", "a\ud7ff", "a\ud7ffz", "a\ue000"], [1, 2]),
        # The prefix is a whole key too; characters just outside the range stay out.
        ("ab", ["aa\U0010ffff", "ab", "ab\x00", "ab\U0010ffff", "ac"], [1, 2, 3]),
    ],
)
@of(TODOS)
def test_begins_with_at_the_edges_of_unicode(
    table: Table, prefix: str, stored: list[str], expected: list[int]
) -> None:
    for id in stored:
        table.put(todo("ana", id))
    assert ids(table.query("ana", BeginsWith(prefix)).items) == [stored[i] for i in expected]


@of(TODOS)
def test_sort_conditions_apply_to_the_index_sort_key(table: Table) -> None:
    for number, due in enumerate([5, 1, 3, 2, 4]):
        table.put(todo("ana", f"t{number}", status="open", due=due))
    page = table.query("open", Between(2, 4), index="by-status")
    assert ids(page.items, "due") == [2, 3, 4]


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 9, 10, 11])
@pytest.mark.parametrize("descending", [False, True])
@of(TODOS)
def test_pages_walk_the_partition_without_duplicates_or_gaps(
    table: Table, limit: int, descending: bool
) -> None:
    expected = [f"t{number:02}" for number in range(10)]
    for id in expected[::-1]:
        table.put(todo("ana", id))
    table.put(todo("bob", "t05"))
    items, pages = walk(table, "ana", limit=limit, descending=descending)
    assert ids(items) == (expected[::-1] if descending else expected)
    assert pages == math.ceil(10 / limit)  # the last page has no cursor


@pytest.mark.parametrize("descending", [False, True])
@of(TODOS)
def test_index_pages_break_ties_by_primary_key(table: Table, descending: bool) -> None:
    entries = [("bob", "a", 1), ("ana", "b", 1), ("ana", "a", 1), ("ana", "c", 2), ("cy", "a", 0)]
    for user, id, due in entries:
        table.put(todo(user, id, status="open", due=due))
    table.put(todo("ana", "z", status="done", due=1))
    items, _ = walk(table, "open", index="by-status", limit=2, descending=descending)
    expected = [("cy", "a"), ("ana", "a"), ("ana", "b"), ("bob", "a"), ("ana", "c")]
    found = [(item["user"], item["id"]) for item in items]
    assert found == (expected[::-1] if descending else expected)


@pytest.mark.parametrize("descending", [False, True])
@of(SCORES)
def test_pages_keep_to_the_sort_condition(table: Table, descending: bool) -> None:
    for score in range(20):
        table.put({"game": "chess", "score": score})
    items, pages = walk(table, "chess", sort=Between(5, 14), limit=3, descending=descending)
    expected = list(range(5, 15))
    assert ids(items, "score") == (expected[::-1] if descending else expected)
    assert pages == 4


@of(TODOS)
def test_a_cursor_resumes_a_query_with_another_condition(table: Table) -> None:
    for id in ["a1", "a2", "a3", "b1", "b2"]:
        table.put(todo("ana", id))
    cursor = table.query("ana", limit=1).cursor  # after "a1"
    assert ids(table.query("ana", BeginsWith("b"), cursor=cursor).items) == ["b1", "b2"]
    assert ids(table.query("ana", KeyCompare("<", "a3"), cursor=cursor).items) == ["a2"]


@of(TODOS)
def test_a_cursor_from_another_index_is_refused(table: Table) -> None:
    for number in range(3):
        table.put(todo("open", f"t{number}", status="open", due=number))
    on_table = table.query("open", limit=1).cursor
    on_index = table.query("open", index="by-status", limit=1).cursor
    assert on_table
    assert on_index
    with pytest.raises(InvalidCursor):
        table.query("open", index="by-status", cursor=on_table)
    with pytest.raises(InvalidCursor):
        table.query("open", cursor=on_index)


@of(TODOS)
def test_a_cursor_from_another_partition_is_refused(table: Table) -> None:
    for user in ["ana", "bob"]:
        for number in range(3):
            table.put(todo(user, f"t{number}", status=f"{user}-open", due=number))
    with pytest.raises(InvalidCursor):
        table.query("bob", cursor=table.query("ana", limit=1).cursor)
    cursor = table.query("ana-open", index="by-status", limit=1).cursor
    with pytest.raises(InvalidCursor):
        table.query("bob-open", index="by-status", cursor=cursor)


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "e30",  # {}
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        forged_cursor([1, 2]),
        forged_cursor({"i": None}),
        forged_cursor({"i": None, "k": "ana"}),
        forged_cursor({"i": None, "k": {"user": "ana"}}),
        forged_cursor({"i": None, "k": {"user": "ana", "id": 7}}),
        forged_cursor({"i": None, "k": {"user": "ana", "id": ""}}),
        forged_cursor({"i": "by-status", "k": {"user": "ana", "id": "t1"}}),
        forged_cursor({"i": "nope", "k": {"user": "ana", "id": "t1"}}),
        base64.urlsafe_b64encode(b"[" * 100_000).decode(),  # nests too deep to parse
    ],
)
@of(TODOS)
def test_a_tampered_cursor_is_refused(table: Table, cursor: str) -> None:
    table.put(todo("ana", "t1"))
    with pytest.raises(InvalidCursor):
        table.query("ana", cursor=cursor)


@pytest.mark.parametrize(
    "index_position",
    [None, "open", {"status": "open"}, {"status": "open", "due": "1"}, {"due": 1}],
)
@of(TODOS)
def test_a_tampered_index_cursor_is_refused(table: Table, index_position: Any) -> None:
    table.put(todo("ana", "t1", status="open", due=1))
    position = {"i": "by-status", "k": {"user": "ana", "id": "t1"}, "x": index_position}
    with pytest.raises(InvalidCursor):
        table.query("open", index="by-status", cursor=forged_cursor(position))


# --- sparse indexes --------------------------------------------------------------------------


@of(TODOS)
def test_items_without_the_index_keys_are_not_in_the_index(table: Table) -> None:
    table.put(todo("ana", "t1", status="open", due=1))
    table.put(todo("ana", "t2", status="open"))  # no index sort key
    table.put(todo("ana", "t3", due=2))  # no index partition key
    table.put(todo("ana", "t4"))
    assert ids(table.query("open", index="by-status").items) == ["t1"]


@of(TODOS)
def test_updates_move_items_in_and_out_of_the_index(table: Table) -> None:
    key = {"user": "ana", "id": "t1"}
    table.put(todo("ana", "t1"))
    table.update(key, {"status": "open", "due": 1})
    assert ids(table.query("open", index="by-status").items) == ["t1"]
    table.update(key, {"status": "done"})
    assert table.query("open", index="by-status").items == []
    assert ids(table.query("done", index="by-status").items) == ["t1"]
    table.update(key, {"due": 0.5})
    assert ids(table.query("done", index="by-status", sort=KeyCompare("<", 1)).items) == ["t1"]
    table.update(key, remove_attributes=["due"])
    assert table.query("done", index="by-status").items == []


@of(TODOS)
def test_puts_and_deletes_keep_the_index_in_step(table: Table) -> None:
    table.put(todo("ana", "t1", status="open", due=1))
    table.put(todo("ana", "t1", status="done", due=1, title="replaced"))
    assert table.query("open", index="by-status").items == []
    assert table.query("done", index="by-status").items == [
        todo("ana", "t1", status="done", due=1, title="replaced")
    ]
    table.delete({"user": "ana", "id": "t1"})
    assert table.query("done", index="by-status").items == []


@of(PROFILES)
def test_an_index_without_sort_key_lists_its_partition_by_primary_key(table: Table) -> None:
    for id in ["cy", "ana", "bob"]:
        table.put({"id": id, "email": "shared@example.com"})
    table.put({"id": "dee", "email": "dee@example.com"})
    table.put({"id": "eve"})
    items, pages = walk(table, "shared@example.com", index="by-email", limit=2)
    assert (ids(items), pages) == (["ana", "bob", "cy"], 2)


# --- invalid items -----------------------------------------------------------------------------


_INVALID_ITEMS = {
    "missing-partition-key": {"id": "t1"},
    "missing-sort-key": {"user": "ana"},
    "number-for-string-key": {"user": 1, "id": "t1"},
    "bool-for-string-key": {"user": True, "id": "t1"},
    "empty-string-key": {"user": "", "id": "t1"},
    "sort-key-over-1024-bytes": {"user": "ana", "id": "x" * 1025},
    "surrogate-in-key": {"user": "ana\udc80", "id": "t1"},
    "nan": {"user": "ana", "id": "t1", "n": math.nan},
    "infinity-in-list": {"user": "ana", "id": "t1", "n": [math.inf]},
    "number-over-38-digits": {"user": "ana", "id": "t1", "n": 10**38},
    "set": {"user": "ana", "id": "t1", "tags": {"a", "b"}},
    "bytes": {"user": "ana", "id": "t1", "raw": b"bytes"},
    "object": {"user": "ana", "id": "t1", "when": object()},
    "number-map-key": {"user": "ana", "id": "t1", "map": {1: "one"}},
    "surrogate-in-value": {"user": "ana", "id": "t1", "text": "bad \ud800 surrogate"},
    "empty-attribute-name": {"user": "ana", "id": "t1", "": "empty name"},
    "string-for-number-index-key": {"user": "ana", "id": "t1", "status": "open", "due": "soon"},
    "number-for-string-index-key": {"user": "ana", "id": "t1", "status": 3, "due": 1},
    "over-400-kb": {"user": "ana", "id": "t1", "big": "x" * (400 * 1024)},
}


@pytest.mark.parametrize("item", _INVALID_ITEMS.values(), ids=_INVALID_ITEMS.keys())
@of(TODOS)
def test_an_invalid_item_is_refused_and_nothing_is_stored(table: Table, item: Item) -> None:
    with pytest.raises(InvalidItem):
        table.put(item)
    assert table.query("ana").items == []
    assert table.query("open", index="by-status").items == []


@of(TODOS)
def test_documents_nest_at_most_32_levels(table: Table) -> None:
    deepest: Any = "leaf"
    for _ in range(31):
        deepest = {"m": deepest}
    table.put(todo("ana", "t1", doc=deepest))
    with pytest.raises(InvalidItem):
        table.put(todo("ana", "t2", doc=[deepest]))
    assert ids(table.query("ana").items) == ["t1"]


@of(TODOS)
def test_item_size_counts_text_in_utf8(table: Table) -> None:
    text = "日" * 130_000  # 390 KB in UTF-8 (but 780 KB as \\u escapes)
    table.put(todo("ana", "t1", text=text))
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", text=text)


@of(SCORES)
def test_number_keys_must_be_finite_and_fit_64_bits(table: Table) -> None:
    for score in [math.inf, math.nan, 2**63, "1"]:
        with pytest.raises(InvalidItem):
            table.put({"game": "chess", "score": score})
    table.put({"game": "chess", "score": 2**63 - 1})
    table.put({"game": "chess", "score": -(2**63)})
    assert ids(table.query("chess").items, "score") == [-(2**63), 2**63 - 1]


@of(TODOS)
def test_queries_with_wrong_key_types_are_refused(table: Table) -> None:
    with pytest.raises(InvalidItem):
        table.query(5)
    with pytest.raises(InvalidItem):
        table.query("open", KeyCompare(">", "1"), index="by-status")
    with pytest.raises(InvalidItem):
        table.query("ana", BeginsWith("bad \udc80"))


# --- copies ---------------------------------------------------------------------------------------


@of(TODOS)
def test_changing_a_returned_item_does_not_change_the_table(table: Table) -> None:
    original = todo("ana", "t1", tags=["a"], meta={"n": 1}, status="open", due=1)
    table.put(original)
    for returned in [
        table.get({"user": "ana", "id": "t1"}),
        table.query("ana").items[0],
        table.query("open", index="by-status").items[0],
        table.update({"user": "ana", "id": "t1"}, {"extra": [1]}),
    ]:
        assert returned is not None
        returned["tags"].append("b")
        returned["meta"]["n"] = 2
        returned["title"] = "changed"
    assert table.get({"user": "ana", "id": "t1"}) == {**original, "extra": [1]}


@of(TODOS)
def test_changing_a_written_item_afterwards_does_not_change_the_table(table: Table) -> None:
    item = todo("ana", "t1", tags=["a"])
    table.put(item)
    changes: Item = {"more": {"list": [1]}}
    table.update({"user": "ana", "id": "t2"}, changes)
    item["tags"].append("b")
    changes["more"]["list"].append(2)
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", tags=["a"])
    assert table.get({"user": "ana", "id": "t2"}) == todo("ana", "t2", more={"list": [1]})


@of(TODOS)
def test_tuples_come_back_as_lists(table: Table) -> None:
    table.put(todo("ana", "t1", pair=(1, "a"), nested={"t": ()}))
    assert table.get({"user": "ana", "id": "t1"}) == todo(
        "ana", "t1", pair=[1, "a"], nested={"t": []}
    )


# --- batch gets and consistent reads ---------------------------------------------------


@of(TODOS)
def test_batch_get_returns_items_in_the_order_asked_with_none_for_missing(table: Table) -> None:
    table.put(todo("ana", "t1", n=1))
    table.put(todo("ana", "t2", n=2))
    found = table.batch_get(
        [{"user": "ana", "id": "t2"}, {"user": "bob", "id": "t1"}, {"user": "ana", "id": "t1"}]
    )
    assert found == [todo("ana", "t2", n=2), None, todo("ana", "t1", n=1)]
    assert table.batch_get([]) == []


@of(TODOS)
def test_batch_get_refuses_a_key_twice_and_more_than_100_keys(table: Table) -> None:
    with pytest.raises(InvalidItem, match="twice"):
        table.batch_get([{"user": "ana", "id": "t1"}, {"user": "ana", "id": "t1"}])
    with pytest.raises(InvalidItem, match="at most 100"):
        table.batch_get([{"user": "ana", "id": f"t{n}"} for n in range(101)])
    with pytest.raises(InvalidItem, match="missing"):
        table.batch_get([{"user": "ana"}])


@of(TODOS)
def test_consistent_reads_see_the_latest_write(table: Table) -> None:
    table.put(todo("ana", "t1", n=1))
    assert table.get({"user": "ana", "id": "t1"}, consistent=True) == todo("ana", "t1", n=1)
    table.update({"user": "ana", "id": "t1"}, {"n": 2})
    assert table.get({"user": "ana", "id": "t1"}, consistent=True) == todo("ana", "t1", n=2)
    assert table.batch_get([{"user": "ana", "id": "t1"}], consistent=True)[0] == todo(
        "ana", "t1", n=2
    )
    assert ids(table.query("ana", consistent=True).items) == ["t1"]


@of(TODOS)
def test_a_query_of_an_index_cannot_be_consistent(table: Table) -> None:
    with pytest.raises(InvalidItem, match="consistent"):
        table.query("open", index="by-status", consistent=True)


# --- scans and predicate conditions ----------------------------------------------------


@of(TODOS)
def test_a_scan_walks_every_item_once_page_by_page(table: Table) -> None:
    for user in ("bo", "ana", "cy"):
        for number in range(4):
            table.put(todo(user, f"t{number}"))
    seen: list[tuple[Any, Any]] = []
    cursor, pages = None, 0
    while True:
        page = table.scan(limit=5, cursor=cursor)
        seen += [(item["user"], item["id"]) for item in page.items]
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted({(u, f"t{n}") for u in ("bo", "ana", "cy") for n in range(4)})
    assert len(seen) == 12
    assert pages == 3


@of(COUNTERS)
def test_a_scan_of_an_empty_table_is_one_empty_page(table: Table) -> None:
    assert table.scan() == Page(items=[])


@of(TODOS)
def test_scan_and_query_cursors_are_not_interchangeable(table: Table) -> None:
    for number in range(3):
        table.put(todo("ana", f"t{number}"))
    scan_cursor = table.scan(limit=1).cursor
    query_cursor = table.query("ana", limit=1).cursor
    assert scan_cursor is not None
    assert query_cursor is not None
    with pytest.raises(InvalidCursor):
        table.query("ana", cursor=scan_cursor)
    with pytest.raises(InvalidCursor):
        table.scan(cursor=query_cursor)


@of(COUNTERS)
def test_a_predicate_condition_is_checked_with_the_write(table: Table) -> None:
    table.put({"name": "hits", "n": 1})
    is_one = ItemMatches(lambda item: item is not None and item.get("n") == 1, "n = 1")
    if not table.evaluates_predicates:
        with pytest.raises(InvalidItem):
            table.put({"name": "hits", "n": 2}, condition=is_one)
        assert table.get({"name": "hits"}) == {"name": "hits", "n": 1}
        return
    table.put({"name": "hits", "n": 2}, condition=is_one)
    with pytest.raises(ConditionFailed):
        table.put({"name": "hits", "n": 3}, condition=is_one)
    with pytest.raises(ConditionFailed):
        table.delete({"name": "hits"}, condition=is_one)
    assert table.get({"name": "hits"}) == {"name": "hits", "n": 2}
    missing = ItemMatches(lambda item: item is None, "no item")
    table.put({"name": "new"}, condition=missing)
    assert table.get({"name": "new"}) == {"name": "new"}
