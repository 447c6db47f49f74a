"""Sync calls between services go through the gateway, with the caller's credentials.

The sample project's pinboard serves ``GET /todos`` by calling the to-do API (declared
``calls=("todo",)``) with its caller's ``Authorization`` header. It has no access to the
to-do table, so what each caller sees is what the to-do gateway and API let them see.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from overcast.local.endpoints import Endpoints
from tests.cloud_process import OVERCAST
from tests.e2e.conftest import Session, Users, bearer, todo_url


def _pinboard_todos(endpoints: Endpoints) -> str:
    api = endpoints.services["pinboard"].api
    assert api is not None
    return api + "/todos"


def _add_todo(https: httpx.Client, endpoints: Endpoints, user: Session, title: str) -> str:
    created = https.post(todo_url(endpoints), json={"title": title}, headers=bearer(user))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_signed_in_user_sees_their_own_todos_through_the_pinboard(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    # Given two to-do users, each with a to-do of their own
    alice, bob = users.sign_up_and_in(), users.sign_up_and_in()
    alices = _add_todo(https, endpoints, alice, "alice's milk")
    bobs = _add_todo(https, endpoints, bob, "bob's bread")

    # When each asks the pinboard for their to-dos, with their own token
    as_alice = https.get(_pinboard_todos(endpoints), headers=bearer(alice))
    as_bob = https.get(_pinboard_todos(endpoints), headers=bearer(bob))

    # Then each sees exactly their own: the to-do API answered as that caller
    assert as_alice.status_code == 200, as_alice.text
    assert as_alice.json() == {"todos": [{"id": alices, "title": "alice's milk"}]}
    assert as_bob.status_code == 200, as_bob.text
    assert as_bob.json() == {"todos": [{"id": bobs, "title": "bob's bread"}]}


def test_without_a_token_the_todo_gateway_refuses_the_pinboards_call(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    # Given a to-do user with a to-do (so there is something a bypass would reveal)
    owner = users.sign_up_and_in()
    _add_todo(https, endpoints, owner, "private")

    # When the pinboard is called without a token, or with a forged one
    anonymous = https.get(_pinboard_todos(endpoints))
    forged = https.get(_pinboard_todos(endpoints), headers={"Authorization": "Bearer x.y.z"})

    # Then the to-do gateway refused the pinboard's call (401), and nothing leaked
    assert anonymous.status_code == 401
    assert anonymous.json() == {"message": "The to-do API refused the call."}
    assert forged.status_code == 401
    assert "private" not in anonymous.text + forged.text


def test_a_token_of_another_pool_is_refused_by_the_todo_gateway(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    # Given a pinboard member: signed in, but not a to-do user
    member = users.sign_up_and_in("pinboard", "members")

    # When they ask the pinboard for to-dos
    response = https.get(_pinboard_todos(endpoints), headers=bearer(member))

    # Then the to-do gateway's authorizer refuses their token
    assert response.status_code == 401


def test_a_call_to_a_service_the_cloud_does_not_serve_stops_start_up(tmp_path: Path) -> None:
    # Given a project whose function calls a service nobody declares
    (tmp_path / "overcast.toml").write_text(
        'services = ["caller.service"]\npython_path = ["."]\nbuiltin_apps = false\n'
    )
    (tmp_path / "caller").mkdir()
    (tmp_path / "caller" / "__init__.py").write_text("")
    (tmp_path / "caller" / "service.py").write_text(
        "from overcast.spec import *\n"
        "f = Function('f', handler='caller.h:handler', calls=('billing',))\n"
        "service = Service('caller', functions=(f,))\n"
    )

    # When the local cloud starts
    completed = subprocess.run(
        [*OVERCAST, "up", "--ports", "auto", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # Then it refuses, naming the call and what to do
    assert completed.returncode == 1
    assert "function 'f' calls service 'billing', which this local cloud does not serve" in (
        completed.stderr
    )
    assert not (tmp_path / ".overcast" / "endpoints.json").exists()
