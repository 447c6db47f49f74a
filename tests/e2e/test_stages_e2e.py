"""Versions side by side: the to-do API's v1 and v2 served at once by `overcast up`."""

from __future__ import annotations

import httpx

from overcast.local.endpoints import Endpoints
from tests.e2e.conftest import Users, bearer


def stage_url(endpoints: Endpoints, stage: str, path: str = "/todos") -> str:
    return endpoints.services["todo"].stages[stage] + path


def test_the_endpoints_name_every_stage_and_the_api_is_the_default_one(
    endpoints: Endpoints,
) -> None:
    todo = endpoints.services["todo"]

    assert set(todo.stages) == {"v1", "v2"}
    assert todo.api == todo.stages["v1"]
    assert todo.stages["v2"].endswith("/v2")


def test_v1_and_v2_answer_at_once_on_the_same_data(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    # Given a signed-in user who created two to-dos through v1
    alice = users.sign_up_and_in()
    for title in ("Buy milk", "Write tests"):
        created = https.post(
            stage_url(endpoints, "v1"), json={"title": title}, headers=bearer(alice)
        )
        assert created.status_code == 201, created.text
        assert created.headers["Location"].startswith("/v1/todos/")

    # When they list them through each version
    v1 = https.get(stage_url(endpoints, "v1"), headers=bearer(alice))
    v2 = https.get(stage_url(endpoints, "v2"), headers=bearer(alice))

    # Then v1 answers as it always did, and v2 also counts them
    assert (v1.status_code, v2.status_code) == (200, 200)
    assert set(v1.json()) == {"items", "next_cursor"}
    assert v2.json()["count"] == 2
    assert v2.json()["items"] == v1.json()["items"]


def test_a_write_through_v2_is_read_through_v1(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    bob = users.sign_up_and_in()
    created = https.post(
        stage_url(endpoints, "v2"), json={"title": "v2 write"}, headers=bearer(bob)
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"].startswith("/v2/todos/")

    read = https.get(
        stage_url(endpoints, "v1", f"/todos/{created.json()['id']}"), headers=bearer(bob)
    )

    assert read.status_code == 200
    assert read.json() == created.json()


def test_each_stage_keeps_its_own_cache(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    # Given a user whose v1 list is cached
    carol = users.sign_up_and_in()
    first = https.get(stage_url(endpoints, "v1"), headers=bearer(carol))
    assert (
        https.get(stage_url(endpoints, "v1"), headers=bearer(carol)).headers["x-overcast-cache"]
        == "Hit"
    )
    # Then v2 never serves v1's cached answer: it misses, then caches its own
    missed = https.get(stage_url(endpoints, "v2"), headers=bearer(carol))
    assert missed.headers["x-overcast-cache"] == "Miss"
    assert missed.json() == {**first.json(), "count": 0}
    assert (
        https.get(stage_url(endpoints, "v2"), headers=bearer(carol)).headers["x-overcast-cache"]
        == "Hit"
    )


def test_a_stage_that_is_not_declared_has_no_methods(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    api = endpoints.services["todo"].api
    assert api is not None
    v3 = api.removesuffix("/v1") + "/v3/todos"

    response = https.get(v3, headers=bearer(users.sign_up_and_in()))

    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
