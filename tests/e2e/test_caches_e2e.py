"""MyToDoList's read path through the running cloud: the stage cache and the read cache,
read-your-writes, per-user entries, ``overcast stats`` and ``overcast flush-stage-cache``."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from overcast.local.endpoints import Endpoints
from tests.cloud_process import OVERCAST, CloudProcess
from tests.e2e.conftest import Users, bearer, todo_url

REFRESH = {"Cache-Control": "max-age=0"}


def overcast(*args: str) -> subprocess.CompletedProcess[str]:
    wide = {**os.environ, "COLUMNS": "250"}  # Rich wraps tables to the terminal's width
    return subprocess.run(
        [*OVERCAST, *args], capture_output=True, text=True, timeout=60, check=False, env=wide
    )


def outcome(response: httpx.Response) -> str:
    assert response.status_code < 500, response.text
    return response.headers["x-overcast-cache"]


def test_a_user_reads_their_own_writes_through_both_caches(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    # Given alice's to-do, read twice: the second read is the stage cache's
    alice = bearer(users.sign_up_and_in())
    created = https.post(todo_url(endpoints), json={"title": "Buy milk"}, headers=alice).json()
    one = todo_url(endpoints, f"/todos/{created['id']}")
    assert outcome(https.get(one, headers=alice)) == "Miss"
    assert outcome(https.get(one, headers=alice)) == "Hit"
    assert outcome(https.get(todo_url(endpoints), headers=alice)) == "Miss"
    # When she changes it
    patched = https.patch(one, json={"title": "Buy oat milk"}, headers=alice)
    assert patched.status_code == 200, patched.text
    # Then both her reads of it show the change at once
    again = https.get(one, headers=alice)
    assert (outcome(again), again.json()["title"], again.headers["ETag"]) == (
        "Miss",
        "Buy oat milk",
        '"2"',
    )
    listed = https.get(todo_url(endpoints), headers=alice)
    assert [item["title"] for item in listed.json()["items"]] == ["Buy oat milk"]
    # And a new to-do, and a deletion, show in her list at once too
    https.post(todo_url(endpoints), json={"title": "Write tests"}, headers=alice)
    titles = [
        item["title"] for item in https.get(todo_url(endpoints), headers=alice).json()["items"]
    ]
    assert titles == ["Write tests", "Buy oat milk"]
    assert https.delete(one, headers=alice).status_code == 204
    assert https.get(one, headers=alice).status_code == 404


def test_two_users_reading_the_same_paths_never_get_each_others_data(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    alice, bob = bearer(users.sign_up_and_in()), bearer(users.sign_up_and_in())
    created = https.post(todo_url(endpoints), json={"title": "Alice's"}, headers=alice).json()
    hers = todo_url(endpoints, f"/todos/{created['id']}")
    for _ in range(2):  # cached for her
        assert https.get(hers, headers=alice).json()["title"] == "Alice's"
        assert https.get(todo_url(endpoints), headers=alice).json()["items"] != []
    # Bob, on the very same URLs, gets his own answers, never her cached ones
    for _ in range(2):
        assert https.get(hers, headers=bob).status_code == 404
        assert https.get(todo_url(endpoints), headers=bob).json()["items"] == []


def test_a_browser_never_gets_an_answer_cached_for_another_origin(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    alice = bearer(users.sign_up_and_in())
    https.get(todo_url(endpoints), headers=alice)  # cached for a client without Origin
    for origin in ("https://app.example", "https://other.example"):
        for _ in range(2):
            answer = https.get(todo_url(endpoints), headers={**alice, "Origin": origin})
            assert answer.headers.get("access-control-allow-origin") in ("*", origin)


def test_another_users_max_age_zero_cannot_flush_my_entry(
    endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    alice, bob = bearer(users.sign_up_and_in()), bearer(users.sign_up_and_in())
    https.get(todo_url(endpoints), headers=alice)
    refused = https.get(todo_url(endpoints), headers={**bob, **REFRESH})
    assert outcome(refused) in ("Hit", "Miss")  # no IAM InvalidateCache: ignored, as on AWS
    assert refused.headers["warning"].startswith("199 Cache-control headers were ignored")
    assert outcome(https.get(todo_url(endpoints), headers=alice)) == "Hit"
    # And without signing in, Cache-Control is ignored, with API Gateway's warning
    public = todo_url(endpoints, "/openapi.json")
    https.get(public)
    ignored = https.get(public, headers=REFRESH)
    assert outcome(ignored) == "Hit"
    assert ignored.headers["warning"].startswith("199 Cache-control headers were ignored")


def test_stats_show_each_cache_and_flush_empties_the_stage_cache(
    cloud: CloudProcess, endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    # Given reads through both caches
    alice = bearer(users.sign_up_and_in())
    https.post(todo_url(endpoints), json={"title": "Count me"}, headers=alice)
    for _ in range(3):
        https.get(todo_url(endpoints), headers=alice)
    https.get(todo_url(endpoints), headers={**alice, **REFRESH})

    # When `overcast stats` asks the running cloud
    figures = overcast("stats", "--data-dir", str(cloud.data_dir), "--json")
    assert figures.returncode == 0, figures.stderr
    todo = json.loads(figures.stdout)["services"]["todo"]

    # Then the stage cache counts per route, and the read cache per table and cache
    listed = todo["stage_cache"]["routes"]["GET /todos"]
    assert listed["hits"] >= 2
    assert listed["misses"] >= 1
    assert todo["stage_cache"]["entries"] >= 1
    read = todo["read_caches"]["todos"]
    assert read["query"]["hits"] + read["query"]["misses"] >= 2
    assert set(read) == {"item", "query"}
    table = overcast("stats", "--data-dir", str(cloud.data_dir))
    # (the to-do API has two stages, each with its cache)
    assert "todo API v1 stage cache" in table.stdout
    assert "todo API v2 stage cache" in table.stdout
    assert "GET /todos/{id}" in table.stdout
    assert "Read caches" in table.stdout

    # And a flush empties the stage cache
    flushed = overcast("flush-stage-cache", "todo", "--data-dir", str(cloud.data_dir))
    assert flushed.returncode == 0, flushed.stderr
    assert "Flushed" in flushed.stdout
    assert outcome(https.get(todo_url(endpoints), headers=alice)) == "Miss"
    unknown = overcast("flush-stage-cache", "nothing", "--data-dir", str(cloud.data_dir))
    assert unknown.returncode == 1
    assert "No service 'nothing' with a stage cache" in unknown.stderr


def test_the_admin_api_needs_the_token_from_the_data_directory(
    cloud: CloudProcess, endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    alice = bearer(users.sign_up_and_in())
    https.get(todo_url(endpoints), headers=alice)
    admin = endpoints.aws["cognito-idp"] + "/_overcast"
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic x"}):
        assert https.get(f"{admin}/stats", headers=headers).status_code == 401
        flush = https.post(
            f"{admin}/stage-cache/flush", params={"service": "todo"}, headers=headers
        )
        assert flush.status_code == 401
    assert outcome(https.get(todo_url(endpoints), headers=alice)) == "Hit"  # nothing flushed
    token_file = cloud.data_dir / "admin-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    token = {"Authorization": f"Bearer {token_file.read_text()}"}
    assert https.get(f"{admin}/stats", headers=token).status_code == 200


LEAKY_SERVICE = """
from overcast.spec import Api, CognitoAuthorizer, Function, Route, Service, StageCache, UserPool

members = UserPool("members")
me = Function("me", handler="leaky:handler")
service = Service(
    name="leaky",
    user_pools=(members,),
    api=Api(
        name="leaky",
        cache=StageCache(),
        routes=(Route("GET", "/me", me, CognitoAuthorizer(members)),),
    ),
)
"""


def test_a_declaration_that_would_leak_is_refused_at_start_up(
    tmp_path: Path, own_cloud: Callable[..., CloudProcess]
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "leaky.py").write_text(LEAKY_SERVICE)
    (project / "overcast.toml").write_text('services = ["leaky"]\npython_path = ["src"]\n')
    cloud = own_cloud(project)
    with pytest.raises(RuntimeError, match="exited early") as refused:
        cloud.start()
    message = " ".join(str(refused.value).split())
    assert "route 'GET /me' is behind an authorizer and cached" in message
    assert "method.request.header.Authorization" in message
