"""Newsletter subscriptions, one-click unsubscribe and photo uploads (in memory)."""

from __future__ import annotations

from tests.blog_fakes import memory_blog

KEY = {"pk": "SUBSCRIBER#reader@example.com", "sk": "SUBSCRIBER"}
UNSUBSCRIBE = "/api/subscriptions/unsubscribe"


def test_subscribing_writes_one_subscriber_and_again_writes_nothing() -> None:
    api = memory_blog()

    first = api.call("POST", "/api/subscriptions", body={"email": "Reader@example.com"})
    item = api.table.get(KEY)
    again = api.call("POST", "/api/subscriptions", body={"email": "reader@example.com"})

    assert first.status == 201
    assert item is not None
    assert (item["source"], item["status"], item["email"]) == (
        "newsletter",
        "subscribed",
        "Reader@example.com",
    )
    assert len(item["unsubscribe_token"]) >= 32
    assert item["subscribed_at"].endswith("Z")
    assert again.status == 200
    assert api.table.get(KEY) == item  # same token: no new item, so no second welcome


def test_subscribing_again_after_unsubscribing_puts_the_reader_back_on_the_list() -> None:
    api = memory_blog()
    api.call("POST", "/api/subscriptions", body={"email": "reader@example.com"})
    token = str((api.table.get(KEY) or {})["unsubscribe_token"])
    api.call("GET", UNSUBSCRIBE, query={"email": "reader@example.com", "token": token})

    again = api.call("POST", "/api/subscriptions", body={"email": "reader@example.com"})

    assert again.status == 200
    assert again.body["subscription"]["status"] == "subscribed"
    assert (api.table.get(KEY) or {})["status"] == "subscribed"


def test_a_bad_subscription_is_422() -> None:
    api = memory_blog()

    bad = api.call("POST", "/api/subscriptions", body={"email": "not-an-address"})
    empty = api.call("POST", "/api/subscriptions", body={})

    assert (bad.status, list(bad.body["errors"])) == (422, ["email"])
    assert empty.body == {"errors": {"email": ["can't be blank"]}}


def test_the_unsubscribe_link_works_and_a_wrong_token_changes_nothing() -> None:
    api = memory_blog()
    api.call("POST", "/api/subscriptions", body={"email": "reader@example.com"})
    token = str((api.table.get(KEY) or {})["unsubscribe_token"])

    forged = api.call("GET", UNSUBSCRIBE, query={"email": "reader@example.com", "token": "x"})
    status_after_forgery = (api.table.get(KEY) or {})["status"]
    done = api.call("GET", UNSUBSCRIBE, query={"email": "reader@example.com", "token": token})

    assert (forged.status, status_after_forgery) == (422, "subscribed")
    assert done.status == 200
    assert (api.table.get(KEY) or {})["status"] == "unsubscribed"
    assert (
        api.call("GET", UNSUBSCRIBE, query={"email": "x@example.com", "token": "t"}).status == 404
    )


def test_a_signed_in_author_gets_a_presigned_upload_and_a_pending_photo() -> None:
    api = memory_blog()
    alice = api.register("alice")

    asked = alice.call("POST", "/api/photos", body={"content_type": "image/png"})
    photo = asked.body["photo"]
    status = api.call("GET", "/api/photos/{id}", id=photo["id"])

    assert asked.status == 201
    assert photo["upload"]["fields"] == {
        "key": f"uploads/{photo['id']}",
        "Content-Type": "image/png",
    }
    assert status.body == {"photo": {"id": photo["id"], "status": "pending"}}
    assert api.call("POST", "/api/photos", body={"content_type": "image/png"}).status == 401
    refused = alice.call("POST", "/api/photos", body={"content_type": "text/plain"})
    assert (refused.status, list(refused.body["errors"])) == (422, ["content_type"])


def test_photo_status_reports_ready_thumbnails_and_rejections() -> None:
    api = memory_blog()
    alice = api.register("alice")
    ready = alice.call("POST", "/api/photos", body={"content_type": "image/jpeg"}).body["photo"]
    bad = alice.call("POST", "/api/photos", body={"content_type": "image/jpeg"}).body["photo"]
    api.table.update(
        {"pk": f"PHOTO#{ready['id']}", "sk": "PHOTO"}, {"status": "ready", "sizes": [160, 480]}
    )
    api.table.update(
        {"pk": f"PHOTO#{bad['id']}", "sk": "PHOTO"}, {"status": "rejected", "reason": "truncated"}
    )

    shown = api.call("GET", "/api/photos/{id}", id=ready["id"]).body["photo"]
    rejected = api.call("GET", "/api/photos/{id}", id=bad["id"]).body["photo"]

    assert shown["thumbnails"] == {
        "160": f"/thumbnails/{ready['id']}/160.jpg",
        "480": f"/thumbnails/{ready['id']}/480.jpg",
    }
    assert (rejected["status"], rejected["reason"]) == ("rejected", "truncated")
    assert api.call("GET", "/api/photos/{id}", id="nope").status == 404
