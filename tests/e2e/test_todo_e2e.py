"""MyToDoList end to end: real sign-up by mail, real HTTPS, real SQLite, real processes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import httpx

from overcast.local.endpoints import Endpoints
from tests.cloud_process import OVERCAST, CloudProcess
from tests.e2e.conftest import SAMPLE_PROJECT, Users, bearer, todo_url, trusting


def test_a_user_signs_up_by_mail_and_manages_their_todos(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    # Given a user who signed up, confirmed with the code from the mail, and signed in
    alice = users.sign_up_and_in()

    # When they create two to-dos
    first = https.post(todo_url(endpoints), json={"title": "Buy milk"}, headers=bearer(alice))
    second = https.post(
        todo_url(endpoints), json={"title": "Write tests", "notes": "e2e"}, headers=bearer(alice)
    )
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    todo = first.json()
    assert todo["title"] == "Buy milk"
    assert todo["completed"] is False
    assert todo["version"] == 1

    # Then they list them newest first, and read one
    listed = https.get(todo_url(endpoints), headers=bearer(alice))
    assert listed.status_code == 200
    assert [item["title"] for item in listed.json()["items"]] == ["Write tests", "Buy milk"]
    read = https.get(todo_url(endpoints, f"/todos/{todo['id']}"), headers=bearer(alice))
    assert read.status_code == 200
    assert read.json() == todo
    etag = read.headers["ETag"]

    # When they complete it with the ETag they read
    patched = https.patch(
        todo_url(endpoints, f"/todos/{todo['id']}"),
        json={"completed": True},
        headers={**bearer(alice), "If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["completed"] is True
    assert patched.json()["version"] == 2

    # Then a write with the stale ETag is refused and changes nothing
    stale = https.put(
        todo_url(endpoints, f"/todos/{todo['id']}"),
        json={"title": "Buy oat milk", "completed": False},
        headers={**bearer(alice), "If-Match": etag},
    )
    assert stale.status_code == 412
    again = https.get(todo_url(endpoints, f"/todos/{todo['id']}"), headers=bearer(alice))
    assert again.json()["title"] == "Buy milk"

    # And the completed filter finds only the completed one
    done = https.get(todo_url(endpoints), params={"completed": "true"}, headers=bearer(alice))
    assert [item["id"] for item in done.json()["items"]] == [todo["id"]]

    # When they delete it, it is gone
    deleted = https.delete(todo_url(endpoints, f"/todos/{todo['id']}"), headers=bearer(alice))
    assert deleted.status_code == 204
    gone = https.get(todo_url(endpoints, f"/todos/{todo['id']}"), headers=bearer(alice))
    assert gone.status_code == 404


def test_other_user_can_neither_see_nor_change_my_todos(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    alice = users.sign_up_and_in()
    bob = users.sign_up_and_in()
    created = https.post(todo_url(endpoints), json={"title": "Alice's"}, headers=bearer(alice))
    mine = todo_url(endpoints, f"/todos/{created.json()['id']}")

    assert https.get(todo_url(endpoints), headers=bearer(bob)).json()["items"] == []
    assert https.get(mine, headers=bearer(bob)).status_code == 404
    assert https.patch(mine, json={"title": "Bob's"}, headers=bearer(bob)).status_code == 404
    assert (
        https.put(mine, json={"title": "Bob's", "completed": True}, headers=bearer(bob)).status_code
        == 404
    )
    assert https.delete(mine, headers=bearer(bob)).status_code == 404

    unchanged = https.get(mine, headers=bearer(alice))
    assert unchanged.status_code == 200
    assert unchanged.json()["title"] == "Alice's"
    assert unchanged.json()["version"] == 1


def test_the_api_serves_its_openapi_document(endpoints: Endpoints, https: httpx.Client) -> None:
    response = https.get(todo_url(endpoints, "/openapi.json"))
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/todos/{id}" in document["paths"] or "/todos/{todo_id}" in document["paths"]


def test_everything_survives_a_restart(own_cloud: Callable[..., CloudProcess]) -> None:
    # Given a cloud of its own, a user and a to-do
    cloud = own_cloud(SAMPLE_PROJECT, "--quiet")
    endpoints = cloud.start()
    own_users = Users(endpoints, cloud.data_dir)
    alice = own_users.sign_up_and_in()
    with httpx.Client(verify=trusting(endpoints)) as https:
        created = https.post(
            todo_url(endpoints), json={"title": "Persist me"}, headers=bearer(alice)
        )
        assert created.status_code == 201

    # When the cloud stops (Ctrl-C) and starts again on the same data directory
    assert cloud.stop() == 0, cloud.output()
    restarted = cloud.start()

    # Then the same user pool and client still exist (on new free ports, so the issuer URL
    # differs), the user signs in again, and the to-do is there
    before, after = endpoints.services["todo"], restarted.services["todo"]
    assert after.user_pools["users"].id == before.user_pools["users"].id
    assert after.user_pools["users"].clients == before.user_pools["users"].clients
    again = Users(restarted, cloud.data_dir).sign_in(alice.email, own_users.client_id())
    with httpx.Client(verify=trusting(restarted)) as https:
        listed = https.get(todo_url(restarted), headers=bearer(again))
    assert [item["title"] for item in listed.json()["items"]] == ["Persist me"]
    assert cloud.stop() == 0


def test_a_crash_loses_no_acknowledged_write(own_cloud: Callable[..., CloudProcess]) -> None:
    # Given a to-do the API acknowledged with 201
    cloud = own_cloud(SAMPLE_PROJECT, "--quiet")
    endpoints = cloud.start()
    users = Users(endpoints, cloud.data_dir)
    alice = users.sign_up_and_in()
    with httpx.Client(verify=trusting(endpoints)) as https:
        created = https.post(todo_url(endpoints), json={"title": "Acked"}, headers=bearer(alice))
    assert created.status_code == 201

    # When the process dies without any chance to clean up
    assert cloud.process is not None
    cloud.process.kill()
    cloud.process.wait()

    # Then its stale endpoints file is recognised as such, and a new start has the to-do
    stale = subprocess.run(
        [*OVERCAST, "env", "--data-dir", str(cloud.data_dir)], capture_output=True, text=True
    )
    assert stale.returncode == 1
    restarted = cloud.start()
    again = Users(restarted, cloud.data_dir).sign_in(alice.email, users.client_id())
    with httpx.Client(verify=trusting(restarted)) as https:
        listed = https.get(todo_url(restarted), headers=bearer(again)).json()
    assert [item["title"] for item in listed["items"]] == ["Acked"]
    assert cloud.stop() == 0
