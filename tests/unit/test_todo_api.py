"""The to-do API's routes, called with API Gateway REST proxy events on an in-memory table."""

from __future__ import annotations

from typing import Any

import pytest

from tests.todo_events import ManualClock, TodoApi, memory_api


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api(clock: ManualClock) -> TodoApi:
    return memory_api(clock)


def test_creating_a_todo_answers_201_with_location_and_etag(api: TodoApi) -> None:
    response = api.call(
        "POST", "/todos", body={"title": " Buy milk ", "due_date": "2024-05-03", "order": 1}
    )

    todo = response.body
    assert response.status == 201
    assert response.headers["Location"] == f"/v1/todos/{todo['id']}"
    assert response.headers["ETag"] == '"1"'
    assert todo == {
        "id": todo["id"],
        "title": "Buy milk",
        "notes": None,
        "completed": False,
        "due_date": "2024-05-03",
        "order": 1,
        "attachments": [],
        "created_at": "2024-05-01T12:00:00.000Z",
        "updated_at": "2024-05-01T12:00:00.000Z",
        "version": 1,
    }


def test_reading_a_todo_answers_it_with_its_etag(api: TodoApi) -> None:
    created = api.create(title="Read me")

    response = api.item("GET", created["id"])

    assert (response.status, response.headers["ETag"], response.body) == (200, '"1"', created)


def test_the_list_is_newest_first_20_by_default(api: TodoApi, clock: ManualClock) -> None:
    for number in range(23):
        api.create(title=f"#{number}")
        clock.advance(milliseconds=1)

    first = api.list()
    second = api.list(cursor=first.body["next_cursor"])

    assert first.status == second.status == 200
    titles = [todo["title"] for todo in first.body["items"] + second.body["items"]]
    assert titles == [f"#{number}" for number in range(22, -1, -1)]
    assert len(first.body["items"]) == 20
    assert second.body["next_cursor"] is None


def test_walking_small_pages_sees_each_todo_once(api: TodoApi) -> None:
    created = [api.create(title=f"#{number}")["id"] for number in range(7)]

    seen = [todo["id"] for todo in _walk(api, limit="2")]

    assert seen == created[::-1]


def test_the_completed_filter_lists_only_matching_todos(api: TodoApi) -> None:
    done = api.create(title="done", completed=True)
    pending = api.create(title="pending")

    assert [t["id"] for t in _walk(api, completed="true")] == [done["id"]]
    assert [t["id"] for t in _walk(api, completed="false")] == [pending["id"]]


def test_put_with_the_current_etag_replaces_and_bumps_the_version(
    api: TodoApi, clock: ManualClock
) -> None:
    created = api.create(notes="old", order=3)
    clock.advance(seconds=1)

    response = api.item(
        "PUT",
        created["id"],
        body={"title": "Replaced", "completed": True},
        headers={"If-Match": '"1"'},
    )

    assert (response.status, response.headers["ETag"]) == (200, '"2"')
    assert response.body["title"] == "Replaced"
    assert (response.body["notes"], response.body["order"]) == (None, None)
    assert response.body["updated_at"] == "2024-05-01T12:00:01.000Z"
    assert api.item("GET", created["id"]).body == response.body


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("if_match", ['"2"', 'W/"1"', "1", '"1", "2"', '"one"'])
def test_a_write_whose_if_match_does_not_match_is_412_and_changes_nothing(
    api: TodoApi, method: str, if_match: str
) -> None:
    created = api.create()

    response = api.item(
        method,
        created["id"],
        body={"title": "No", "completed": True},
        headers={"If-Match": if_match},
    )

    assert response.status == 412
    assert "changed since you read it" in response.message
    assert api.item("GET", created["id"]).body == created


@pytest.mark.parametrize("headers", [{}, {"If-Match": "*"}, {"if-match": '"2"'}])
def test_a_patch_without_a_stale_if_match_applies(api: TodoApi, headers: dict[str, str]) -> None:
    created = api.create(notes="some notes")
    api.item("PATCH", created["id"], body={"order": 5})

    response = api.item("PATCH", created["id"], body={"notes": None}, headers=headers)

    assert (response.status, response.headers["ETag"]) == (200, '"3"')
    assert (response.body["notes"], response.body["order"], response.body["title"]) == (
        None,
        5,
        created["title"],
    )


def test_delete_answers_204_and_the_todo_is_gone(api: TodoApi) -> None:
    created = api.create()

    response = api.item("DELETE", created["id"], headers={"If-Match": '"1"'})

    assert (response.status, response.body) == (204, None)
    assert api.item("GET", created["id"]).status == 404
    assert api.list().body == {"items": [], "next_cursor": None}


def test_delete_with_a_stale_if_match_is_412_and_keeps_the_todo(api: TodoApi) -> None:
    created = api.create()
    api.item("PATCH", created["id"], body={"completed": True})

    response = api.item("DELETE", created["id"], headers={"If-Match": '"1"'})

    assert response.status == 412
    assert api.item("GET", created["id"]).status == 200


@pytest.mark.parametrize("todo_id", ["01ARYZ6S41TSV4RRFFQ69G5FAV", "not-an-id"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_an_unknown_id_is_404(api: TodoApi, method: str, todo_id: str) -> None:
    body = {"title": "t", "completed": False} if method in ("PUT", "PATCH") else None

    response = api.item(method, todo_id, body=body)

    assert (response.status, response.body) == (404, {"message": "To-do not found"})


@pytest.mark.parametrize(
    ("method", "body", "headers"),
    [
        ("GET", None, {}),
        ("PUT", {"title": "Mine now", "completed": True}, {}),
        ("PATCH", {"title": "Mine now"}, {"If-Match": '"1"'}),
        ("DELETE", None, {}),
        ("DELETE", None, {"If-Match": '"1"'}),
    ],
)
def test_another_users_todo_is_404_and_unchanged(
    api: TodoApi, method: str, body: Any, headers: dict[str, str]
) -> None:
    mine = api.create(title="Alice's")

    response = api.as_user("user-b").item(method, mine["id"], body=body, headers=headers)

    assert (response.status, response.body) == (404, {"message": "To-do not found"})
    assert api.item("GET", mine["id"]).body == mine


def test_users_only_list_their_own_todos(api: TodoApi) -> None:
    api.create(title="Alice's")
    bob = api.as_user("user-b")
    bobs = bob.create(title="Bob's")

    assert [todo["id"] for todo in _walk(bob)] == [bobs["id"]]


def _walk(api: TodoApi, **query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.list(**query, **({"cursor": cursor} if cursor else {}))
        assert page.status == 200, page.body
        items += page.body["items"]
        cursor = page.body["next_cursor"]
        if cursor is None:
            return items
