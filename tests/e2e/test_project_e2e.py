"""A user's own project: its services run beside Overcast's, declared the same way."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from overcast.local.endpoints import Endpoints
from tests.cloud_process import OVERCAST
from tests.e2e.conftest import Users


def pinboard(endpoints: Endpoints, path: str) -> str:
    api = endpoints.services["pinboard"].api
    assert api is not None
    return api + path


def test_a_projects_service_is_served_with_its_own_stage(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    response = https.get(pinboard(endpoints, "/hello"))
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "resource": "/hello",
        "path": "/hello",
        "pathParameters": None,
        "stage": "prod",
        "claims": None,
        "function": "pinboard-board",
    }


def test_greedy_path_parameter_takes_the_rest_of_the_path(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    response = https.post(pinboard(endpoints, "/files/a/b/c.txt"))
    assert response.status_code == 200
    assert response.json()["pathParameters"] == {"path": "a/b/c.txt"}


def test_a_slow_function_gets_the_gateway_timeout(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    response = https.get(pinboard(endpoints, "/slow"))
    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}


def test_each_api_accepts_only_its_own_pools_tokens(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    member = users.sign_up_and_in("pinboard", "members")
    todo_user = users.sign_up_and_in()

    mine = https.get(pinboard(endpoints, "/me"), headers={"Authorization": member.id_token})
    assert mine.status_code == 200
    assert mine.json()["claims"]["sub"] == member.sub

    other_pool = https.get(
        pinboard(endpoints, "/me"), headers={"Authorization": todo_user.id_token}
    )
    assert other_pool.status_code == 401
    todo_api = endpoints.services["todo"].api
    reversed_pool = https.get(
        f"{todo_api}/todos", headers={"Authorization": f"Bearer {member.id_token}"}
    )
    assert reversed_pool.status_code == 401


@pytest.mark.parametrize(
    ("config", "service_code", "expected"),
    [
        (
            'services = ["missing.service"]\n',
            None,
            "Cannot import service module 'missing.service'",
        ),
        (
            'services = ["broken.service"]\npython_path = ["."]\n',
            "from overcast.spec import *\n"
            "service = Service('broken', buckets=(Bucket('b' * 60),))\n",
            "longer than S3's 63 characters",
        ),
        (
            'services = ["broken.service"]\npython_path = ["."]\n',
            "from overcast.spec import *\nservice = Service('Bad Name')\n",
            "Service name 'Bad Name' is invalid",
        ),
    ],
)
def test_a_declaration_the_local_cloud_cannot_honour_stops_start_up(
    tmp_path: Path, config: str, service_code: str | None, expected: str
) -> None:
    (tmp_path / "overcast.toml").write_text(config)
    if service_code:
        (tmp_path / "broken").mkdir()
        (tmp_path / "broken" / "__init__.py").write_text("")
        (tmp_path / "broken" / "service.py").write_text(service_code)

    completed = subprocess.run(
        [*OVERCAST, "up", "--ports", "auto", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 1
    assert expected in completed.stderr
    assert not (tmp_path / ".overcast" / "endpoints.json").exists()
