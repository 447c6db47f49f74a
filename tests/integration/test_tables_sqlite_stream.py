"""The SQLite table keeps the change stream's contract, and its records outlive the
connection that wrote them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from overcast import spec
from overcast.ports.tables.sqlite import SqliteTable
from tests.tables_stream_contract import *  # noqa: F403  (the contract's tests run here)
from tests.tables_stream_contract import BOTH, KEY


@pytest.fixture
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteTable]:
    declaration: spec.Table = request.param
    opened = SqliteTable(declaration, tmp_path / f"{declaration.name}.sqlite3")
    yield opened
    opened.close()


def test_records_and_label_survive_a_reopen_and_numbers_never_go_back(tmp_path: Path) -> None:
    path = tmp_path / "blog.sqlite3"
    first = SqliteTable(BOTH, path)
    first.put({**KEY, "n": 1})
    label = first.stream_label()
    first.close()

    second = SqliteTable(BOTH, path)
    second.put({**KEY, "n": 2})

    records = second.stream_records()
    assert [r.change.event_name for r in records] == ["INSERT", "MODIFY"]
    assert records[0].sequence < records[1].sequence
    assert second.stream_label() == label
    second.close()


def test_a_reader_on_another_connection_sees_each_committed_record(tmp_path: Path) -> None:
    path = tmp_path / "blog.sqlite3"
    writer, reader = SqliteTable(BOTH, path), SqliteTable(BOTH, path)
    assert reader.stream_records() == []

    writer.put({**KEY})

    assert [r.change.keys for r in reader.stream_records()] == [KEY]
    writer.close()
    reader.close()
