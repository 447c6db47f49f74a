"""Attachments: keys in the caller's own folder of the files bucket, and no others."""

from __future__ import annotations

import pytest

from overcast.apps.todo.attachments import AttachmentFolders
from overcast.apps.todo.handler import create_app
from overcast.ports.identities.memory import MemoryIdentityDirectory
from tests.todo_events import TodoApi, id_token_of, identity_of, memory_api, repository_on

MINE = f"{identity_of('user-a')}/receipts/milk.pdf"
THEIRS = f"{identity_of('user-b')}/secret.txt"


def test_a_todo_keeps_attachments_from_my_folder() -> None:
    api = memory_api()

    created = api.create(attachments=[MINE])

    assert created["attachments"] == [MINE]
    assert api.item("GET", created["id"]).body["attachments"] == [MINE]


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(THEIRS, id="another-users-folder"),
        pytest.param("top-level.txt", id="outside-any-folder"),
        pytest.param(f"{identity_of('user-a')}/", id="the-folder-itself"),
        pytest.param(f"{identity_of('user-a')}x/file", id="a-folder-that-only-starts-alike"),
    ],
)
def test_an_attachment_outside_my_folder_is_refused_and_nothing_is_created(key: str) -> None:
    api = memory_api()

    response = api.call("POST", "/todos", body={"title": "Pay", "attachments": [MINE, key]})

    assert response.status == 422
    assert response.body["detail"][0]["loc"] == ["body", "attachments", 1]
    assert identity_of("user-a") in response.body["detail"][0]["msg"]
    assert api.list().body["items"] == []


def test_patching_in_anothers_file_is_refused_and_the_todo_is_unchanged() -> None:
    api = memory_api()
    created = api.create(attachments=[MINE])

    response = api.item("PATCH", created["id"], body={"attachments": [THEIRS]})

    assert response.status == 422
    assert api.item("GET", created["id"]).body == created


def test_replacing_without_attachments_clears_them_and_an_empty_patch_list_too() -> None:
    api = memory_api()
    created = api.create(attachments=[MINE])
    patched = api.item("PATCH", created["id"], body={"attachments": []}).body
    api.item("PATCH", created["id"], body={"attachments": [MINE]})

    replaced = api.item("PUT", created["id"], body={"title": "New", "completed": False}).body

    assert patched["attachments"] == []
    assert replaced["attachments"] == []


@pytest.mark.parametrize(
    ("attachments", "kind"),
    [
        pytest.param([MINE, MINE], "attachments_unique", id="listed-twice"),
        pytest.param([f"{MINE}{n}" for n in range(21)], "too_long", id="21-attachments"),
        pytest.param([f"{identity_of('user-a')}/" + "k" * 1024], "object_key_length", id="1kb+"),
        pytest.param([f"{identity_of('user-a')}/a\x00b"], "object_key_chars", id="nul"),
        pytest.param([""], "object_key_length", id="empty"),
        pytest.param([7], "string_type", id="not-a-string"),
        pytest.param([f"{MINE}/../x"], "object_key_segment", id="dot-dot-segment"),
        pytest.param([f"{identity_of('user-a')}/./x"], "object_key_segment", id="dot-segment"),
    ],
)
def test_malformed_attachment_lists_are_refused(attachments: list[object], kind: str) -> None:
    api = memory_api()

    response = api.call("POST", "/todos", body={"title": "Pay", "attachments": attachments})

    assert response.status == 422
    assert kind in [problem["type"] for problem in response.body["detail"]]
    assert api.list().body["items"] == []


def test_attachments_cannot_be_patched_to_null() -> None:
    api = memory_api()
    created = api.create(attachments=[MINE])

    response = api.item("PATCH", created["id"], body={"attachments": None})

    assert response.status == 422
    assert api.item("GET", created["id"]).body["attachments"] == [MINE]


def test_the_identity_pool_is_asked_once_per_user_and_not_at_all_without_attachments() -> None:
    directory = MemoryIdentityDirectory({id_token_of("user-a"): identity_of("user-a")})
    api = TodoApi(create_app(repository_on(), AttachmentFolders(lambda: directory)).resolve)

    api.create()
    lookups_without_attachments = directory.lookups
    api.create(attachments=[MINE])
    api.create(attachments=[MINE])

    assert (lookups_without_attachments, directory.lookups) == (0, 1)


def test_a_sign_in_the_identity_pool_refuses_is_403_and_creates_nothing() -> None:
    directory = MemoryIdentityDirectory({})
    api = TodoApi(create_app(repository_on(), AttachmentFolders(lambda: directory)).resolve)

    response = api.call("POST", "/todos", body={"title": "Pay", "attachments": [MINE]})

    assert response.status == 403
    assert api.list().body["items"] == []
