"""Pagination cursors keep their format: one handed out by an earlier release resumes.

The pinned strings below were produced by the table port before its cursors moved to
``overcast.ports.tables.cursors``; a client may hold one across an upgrade.
"""

from __future__ import annotations

import pytest

from overcast.ports.tables import InvalidCursor, Table, cursors
from overcast.ports.tables.memory import MemoryTable
from tests.tables_contract import SCORES, TODOS

AFTER_T0 = "eyJpIjpudWxsLCJrIjp7InVzZXIiOiJhbmEiLCJpZCI6InQwIn19"
AFTER_T1 = "eyJpIjpudWxsLCJrIjp7InVzZXIiOiJhbmEiLCJpZCI6InQxIn19"
AFTER_T1_BY_STATUS = (
    "eyJpIjoiYnktc3RhdHVzIiwiayI6eyJ1c2VyIjoiYW5hIiwiaWQiOiJ0MSJ9LCJ4Ijp7InN0YXR1cyI6Im9wZW4i"
    "LCJkdWUiOjExfX0"
)
SCAN_AFTER_T0 = "eyJzY2FuIjp0cnVlLCJrIjp7InVzZXIiOiJhbmEiLCJpZCI6InQwIn19"
SCAN_AFTER_T2 = "eyJzY2FuIjp0cnVlLCJrIjp7InVzZXIiOiJhbmEiLCJpZCI6InQyIn19"
AFTER_SCORE_1_5 = "eyJpIjpudWxsLCJrIjp7ImdhbWUiOiJjaGVzcyIsInNjb3JlIjoxLjV9fQ"
AFTER_SCORE_3_DESCENDING = "eyJpIjpudWxsLCJrIjp7ImdhbWUiOiJjaGVzcyIsInNjb3JlIjozfX0"


@pytest.fixture
def todos() -> Table:
    table = MemoryTable(TODOS)
    for number in range(3):
        table.put({"user": "ana", "id": f"t{number}", "status": "open", "due": 10 + number})
    return table


def test_a_page_hands_out_the_same_cursor_as_before(todos: Table) -> None:
    # given three todos of ana, all open
    # when pages of one (table) and of two (index) are read, and a page of the scan
    # then their cursors are byte for byte the earlier release's
    assert todos.query("ana", limit=1).cursor == AFTER_T0
    assert todos.query("open", index="by-status", limit=2).cursor == AFTER_T1_BY_STATUS
    assert todos.scan(limit=1).cursor == SCAN_AFTER_T0


def test_a_start_key_becomes_the_same_cursor_as_before(todos: Table) -> None:
    # given an item (or just its key), as DynamoDB's ExclusiveStartKey names it
    last = {"user": "ana", "id": "t1", "status": "open", "due": 11}
    # when it is turned into a query's or a scan's cursor
    # then the cursors are the earlier release's, whatever else the item holds
    assert todos.query_cursor({"user": "ana", "id": "t1"}) == AFTER_T1
    assert todos.query_cursor(last, "by-status") == AFTER_T1_BY_STATUS
    assert todos.scan_cursor({"user": "ana", "id": "t2", "title": "x"}) == SCAN_AFTER_T2


def test_a_cursor_from_before_resumes_where_it_left_off(todos: Table) -> None:
    # given cursors handed out by the earlier release
    # when they resume a query of the table, of the index, and a scan
    # then each page starts right after the item the cursor names
    assert [item["id"] for item in todos.query("ana", cursor=AFTER_T0).items] == ["t1", "t2"]
    by_status = todos.query("open", index="by-status", cursor=AFTER_T1_BY_STATUS)
    assert [item["id"] for item in by_status.items] == ["t2"]
    assert [item["id"] for item in todos.scan(cursor=SCAN_AFTER_T0).items] == ["t1", "t2"]


def test_number_sort_keys_keep_their_cursor_both_ways() -> None:
    # given scores 1.5, 2 and 3 in one game
    scores = MemoryTable(SCORES)
    for score in (1.5, 2, 3):
        scores.put({"game": "chess", "score": score})
    # when the first page is read ascending and descending
    # then the cursors are the earlier release's, and resume after 1.5 and 3
    assert scores.query("chess", limit=1).cursor == AFTER_SCORE_1_5
    assert scores.query("chess", descending=True, limit=1).cursor == AFTER_SCORE_3_DESCENDING
    after = scores.query("chess", cursor=AFTER_SCORE_1_5).items
    assert [item["score"] for item in after] == [2, 3]
    before = scores.query("chess", descending=True, cursor=AFTER_SCORE_3_DESCENDING).items
    assert [item["score"] for item in before] == [2, 1.5]


def test_a_scan_cursor_does_not_resume_a_query() -> None:
    # given a scan's cursor from the earlier release
    # when it is decoded as a query's, and a query's as a scan's
    # then both are refused
    with pytest.raises(InvalidCursor, match="belongs to a scan"):
        cursors.decode_query_cursor(TODOS, SCAN_AFTER_T0, None, "ana")
    with pytest.raises(InvalidCursor, match="belongs to a query"):
        cursors.decode_scan_cursor(TODOS, AFTER_T0)
