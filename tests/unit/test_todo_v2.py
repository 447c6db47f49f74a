"""The to-do API's v2 stage: v1's API, whose lists also count their to-dos."""

from __future__ import annotations

from overcast.apps.todo import handler_v2
from overcast.apps.todo.handler import create_app
from tests.todo_events import TodoApi, memory_api, memory_folders, repository_on


def v2_api() -> TodoApi:
    app = handler_v2.upgrade(create_app(repository_on(), memory_folders()))
    return TodoApi(app.resolve)


def test_a_v2_list_says_how_many_todos_its_page_holds() -> None:
    api = v2_api()
    for number in range(3):
        api.create(title=f"#{number}")

    page = api.list(limit="2")

    assert page.status == 200
    assert page.body["count"] == 2
    assert len(page.body["items"]) == 2
    assert page.body["next_cursor"]


def test_an_empty_v2_list_counts_zero() -> None:
    assert v2_api().list().body == {"items": [], "next_cursor": None, "count": 0}


def test_v1_lists_stay_as_they_were() -> None:
    api = memory_api()
    api.create(title="one")

    assert set(api.list().body) == {"items", "next_cursor"}


def test_everything_but_the_list_answers_as_in_v1() -> None:
    v1, v2 = memory_api(), v2_api()
    for api in (v1, v2):
        created = api.create(title="same")
        read = api.item("GET", created["id"])
        assert (read.status, read.body["title"]) == (200, "same")
        assert api.item("GET", "missing").status == 404
        assert api.list(limit="0").status == 422
