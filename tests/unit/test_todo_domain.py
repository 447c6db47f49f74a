"""The to-do domain: ids, timestamps, and what create / replace / patch requests accept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from overcast.apps.todo.domain import (
    MAX_NOTES_LENGTH,
    MAX_TITLE_LENGTH,
    Todo,
    TodoCreate,
    TodoPatch,
    TodoReplace,
    UlidFactory,
    is_todo_id,
    timestamp,
)
from tests.todo_events import ManualClock

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + CROCKFORD.index(char)
    return value


def _errors(model: type[Any], data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return {".".join(map(str, error["loc"])): error["type"] for error in caught.value.errors()}


# --- ids ------------------------------------------------------------------------


def test_id_is_the_ulid_of_the_clock_time_and_the_random_bits() -> None:
    # The ULID spec's own example: time 1469918176385 -> 01ARYZ6S41TSV4RRFFQ69G5FAV.
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=1469918176385)
    new_id = UlidFactory(lambda: moment, randbits=lambda bits: _decode("TSV4RRFFQ69G5FAV"))

    assert new_id() == "01ARYZ6S41TSV4RRFFQ69G5FAV"


def test_ids_made_in_one_millisecond_still_increase() -> None:
    new_id = UlidFactory(ManualClock())

    ids = [new_id() for _ in range(200)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(is_todo_id(todo_id) and len(todo_id) == 26 for todo_id in ids)


def test_later_ids_sort_after_earlier_ones_whatever_their_random_bits() -> None:
    clock = ManualClock()
    random_bits = iter([2**80 - 1, 0])
    new_id = UlidFactory(clock, randbits=lambda bits: next(random_bits))

    first = new_id()
    clock.advance(milliseconds=1)
    second = new_id()

    assert first < second


def test_ids_keep_increasing_when_the_clock_steps_back() -> None:
    clock = ManualClock()
    new_id = UlidFactory(clock)
    first = new_id()

    clock.advance(seconds=-5)

    assert new_id() > first


def test_only_upper_case_ulids_are_todo_ids() -> None:
    assert is_todo_id("01ARYZ6S41TSV4RRFFQ69G5FAV")
    assert not is_todo_id("01aryz6s41tsv4rrffq69g5fav")
    assert not is_todo_id("01ARYZ6S41TSV4RRFFQ69G5FAI")  # I is not Crockford base32
    assert not is_todo_id("81ARYZ6S41TSV4RRFFQ69G5FAV")  # more than 128 bits
    assert not is_todo_id("01ARYZ6S41")


def test_timestamps_are_utc_with_milliseconds() -> None:
    paris = timezone(timedelta(hours=2))

    assert timestamp(datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=paris)) == (
        "2024-05-01T12:00:00.123Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        timestamp(datetime(2024, 5, 1))


# --- create ----------------------------------------------------------------------


def test_a_new_todo_has_defaults_a_stripped_title_and_version_1() -> None:
    fields = TodoCreate.model_validate({"title": "  Buy milk \n"})

    todo = Todo.create("01ARYZ6S41TSV4RRFFQ69G5FAV", fields, ManualClock()())

    assert todo.title == "Buy milk"
    assert (todo.completed, todo.notes, todo.due_date, todo.order) == (False, None, None, None)
    assert todo.created_at == todo.updated_at == "2024-05-01T12:00:00.000Z"
    assert todo.version == 1


@pytest.mark.parametrize(
    ("title", "error"),
    [
        ("   ", "string_too_short"),
        ("", "string_too_short"),
        ("x" * (MAX_TITLE_LENGTH + 1), "string_too_long"),
        (42, "string_type"),
        (None, "string_type"),
    ],
)
def test_a_title_must_be_1_to_500_characters_of_text(title: Any, error: str) -> None:
    assert _errors(TodoCreate, {"title": title}) == {"title": error}


def test_a_title_of_500_characters_is_accepted_once_stripped() -> None:
    fields = TodoCreate.model_validate({"title": f"  {'x' * MAX_TITLE_LENGTH}  "})

    assert len(fields.title) == MAX_TITLE_LENGTH


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("completed", "true", "bool_type"),
        ("completed", 1, "bool_type"),
        ("order", "3", "int_type"),
        ("order", True, "int_type"),
        ("order", 1.5, "int_type"),
        ("order", 2**53, "less_than_equal"),
        ("notes", "n" * (MAX_NOTES_LENGTH + 1), "string_too_long"),
        ("notes", ["list"], "string_type"),
        ("due_date", "2024-02-30", "date_value"),
        ("due_date", "20240501", "date_type"),
        ("due_date", 1714521600, "date_type"),
    ],
)
def test_types_are_strict(field: str, value: Any, error: str) -> None:
    assert _errors(TodoCreate, {"title": "t", field: value}) == {field: error}


def test_unknown_fields_are_refused() -> None:
    assert _errors(TodoCreate, {"title": "t", "owner": "someone-else"}) == {
        "owner": "extra_forbidden"
    }


def test_a_due_date_is_a_calendar_date() -> None:
    fields = TodoCreate.model_validate({"title": "t", "due_date": "2024-12-31", "order": -3})

    assert (fields.due_date, fields.order) == (date(2024, 12, 31), -3)


# --- replace and patch ---------------------------------------------------------------


def test_a_replacement_needs_the_title_and_completed() -> None:
    assert _errors(TodoReplace, {"notes": "n"}) == {"title": "missing", "completed": "missing"}


def test_a_replacement_clears_the_optional_fields_it_leaves_out() -> None:
    todo = _todo(notes="old", order=4, due_date=date(2024, 6, 1))
    replacement = TodoReplace.model_validate({"title": "New", "completed": True})

    replaced = todo.revised(replacement.changes(), ManualClock()() + timedelta(seconds=1))

    assert (replaced.title, replaced.completed) == ("New", True)
    assert (replaced.notes, replaced.order, replaced.due_date) == (None, None, None)


def test_a_patch_changes_only_what_it_names_and_null_clears() -> None:
    todo = _todo(notes="old", order=4)
    patch = TodoPatch.model_validate({"completed": True, "notes": None})

    patched = todo.revised(patch.changes(), ManualClock()())

    assert (patched.title, patched.completed, patched.notes, patched.order) == (
        "Title",
        True,
        None,
        4,
    )


def test_a_patch_cannot_null_the_title_or_completed() -> None:
    assert _errors(TodoPatch, {"title": None, "completed": None}) == {
        "title": "null_not_allowed",
        "completed": "null_not_allowed",
    }


def test_an_empty_patch_is_refused() -> None:
    assert _errors(TodoPatch, {}) == {"": "empty_patch"}


def test_a_revision_bumps_the_version_and_updated_at_only() -> None:
    clock = ManualClock()
    todo = _todo()
    clock.advance(minutes=5)

    revised = todo.revised({"title": "Renamed"}, clock())

    assert revised.version == todo.version + 1
    assert revised.created_at == todo.created_at
    assert revised.updated_at == "2024-05-01T12:05:00.000Z"
    assert todo.title == "Title"  # the original is unchanged


def _todo(**fields: Any) -> Todo:
    create = TodoCreate.model_validate({"title": "Title"})
    return Todo.create("01ARYZ6S41TSV4RRFFQ69G5FAV", create, ManualClock()()).revised(
        fields, ManualClock()()
    )
