"""The blog API's users and profiles, on an in-memory table and a fake user pool."""

from __future__ import annotations

from tests.blog_fakes import memory_blog

SUBSCRIBER = {"pk": "SUBSCRIBER#alice@example.com", "sk": "SUBSCRIBER"}


def test_registering_answers_the_user_with_a_token_and_subscribes_them() -> None:
    api = memory_blog()

    response = api.call(
        "POST",
        "/api/users",
        body={"user": {"username": "alice", "email": "alice@example.com", "password": "pw123456"}},
    )

    assert response.status == 201
    assert response.body["user"] == {
        "email": "alice@example.com",
        "token": response.body["user"]["token"],
        "username": "alice",
        "bio": None,
        "image": None,
    }
    subscriber = api.table.get(SUBSCRIBER)
    assert subscriber is not None
    assert (subscriber["source"], subscriber["status"]) == ("account", "subscribed")


def test_a_taken_username_or_email_is_409_and_creates_no_account() -> None:
    api = memory_blog()
    api.register("alice")

    same_name = {"username": "ALICE", "email": "other@example.com", "password": "pw123456"}
    same_email = {"username": "bob", "email": "alice@example.com", "password": "pw123456"}
    by_name = api.call("POST", "/api/users", body={"user": same_name})
    by_email = api.call("POST", "/api/users", body={"user": same_email})

    assert (by_name.status, by_name.body) == (
        409,
        {"errors": {"username": ["has already been taken"]}},
    )
    assert (by_email.status, by_email.body) == (
        409,
        {"errors": {"email": ["has already been taken"]}},
    )
    assert list(api.directory.accounts) == ["alice@example.com"]


def test_a_bad_registration_body_is_422_naming_the_field() -> None:
    api = memory_blog()

    missing = api.call(
        "POST", "/api/users", body={"user": {"username": "a", "password": "pw123456"}}
    )
    unwrapped = api.call("POST", "/api/users", body={"username": "a"})
    not_json = api.call("POST", "/api/users", body="{nope")

    assert (missing.status, missing.body) == (422, {"errors": {"email": ["can't be blank"]}})
    assert (unwrapped.status, unwrapped.body) == (422, {"errors": {"user": ["is missing"]}})
    assert not_json.status == 422
    assert "body" in not_json.body["errors"]


def test_login_answers_the_user_and_a_wrong_password_is_401() -> None:
    api = memory_blog()
    api.register("alice", password="right-password")

    good = {"email": "alice@example.com", "password": "right-password"}
    bad = {"email": "alice@example.com", "password": "wrong-password"}
    ok = api.call("POST", "/api/users/login", body={"user": good})
    refused = api.call("POST", "/api/users/login", body={"user": bad})

    assert ok.status == 200
    assert ok.body["user"]["username"] == "alice"
    assert refused.status == 401
    assert refused.body == {"errors": {"email or password": ["is invalid"]}}


def test_current_user_needs_a_valid_token_with_token_or_bearer() -> None:
    api = memory_blog()
    alice = api.register("alice")

    with_token = alice.call("GET", "/api/user")
    with_bearer = alice.as_token(alice.token, scheme="Bearer").call("GET", "/api/user")
    anonymous = api.call("GET", "/api/user")
    forged = api.as_token("token-sub-999").call("GET", "/api/user")

    assert (with_token.status, with_bearer.status) == (200, 200)
    assert with_token.body["user"]["token"] == alice.token
    assert (anonymous.status, anonymous.body) == (401, {"errors": {"token": ["is missing"]}})
    assert (forged.status, forged.body) == (401, {"errors": {"token": ["is invalid"]}})


def test_updating_the_user_changes_bio_username_and_password() -> None:
    api = memory_blog()
    alice = api.register("alice")
    api.register("bob")

    changes = {"bio": "Hi", "username": "alicia", "password": "new-password"}
    updated = alice.call("PUT", "/api/user", body={"user": changes})
    taken = alice.call("PUT", "/api/user", body={"user": {"username": "bob"}})
    anonymous = api.call("PUT", "/api/user", body={"user": {"bio": "x"}})

    assert updated.status == 200
    assert (updated.body["user"]["bio"], updated.body["user"]["username"]) == ("Hi", "alicia")
    assert api.directory.accounts["alice@example.com"][1] == "new-password"
    assert api.call("GET", "/api/profiles/{username}", username="alicia").status == 200
    assert api.call("GET", "/api/profiles/{username}", username="alice").status == 404
    assert (taken.status, anonymous.status) == (409, 401)


def test_profiles_follow_and_unfollow() -> None:
    api = memory_blog()
    alice = api.register("alice")
    api.register("bob")

    followed = alice.call("POST", "/api/profiles/{username}/follow", username="bob")
    seen = alice.call("GET", "/api/profiles/{username}", username="bob")
    anonymous = api.call("GET", "/api/profiles/{username}", username="bob")
    unfollowed = alice.call("DELETE", "/api/profiles/{username}/follow", username="bob")
    nobody = alice.call("POST", "/api/profiles/{username}/follow", username="nobody")
    signed_out = api.call("POST", "/api/profiles/{username}/follow", username="bob")

    assert (followed.status, followed.body["profile"]["following"]) == (200, True)
    assert seen.body["profile"] == {
        "username": "bob",
        "bio": None,
        "image": None,
        "following": True,
    }
    assert anonymous.body["profile"]["following"] is False
    assert (unfollowed.status, unfollowed.body["profile"]["following"]) == (200, False)
    assert (nobody.status, nobody.body) == (404, {"errors": {"profile": ["not found"]}})
    assert signed_out.status == 401


def test_an_unknown_route_is_404_in_realworld_shape() -> None:
    response = memory_blog().call("GET", "/api/nothing-here")

    assert (response.status, response.body) == (404, {"errors": {"resource": ["not found"]}})
