"""MyBlog's RealWorld API end to end: real HTTPS, real user pool (admin calls with the
function's own credentials), real SQLite, the local cloud in its own process."""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import time
from typing import Any

import httpx
from PIL import Image

from overcast.local.endpoints import Endpoints
from tests.e2e.conftest import Inbox, ItemReader

PASSWORD = "A reader's passphrase 1"


def _url(endpoints: Endpoints, path: str) -> str:
    api = endpoints.services["blog"].api
    assert api is not None
    return api + path


def _site(endpoints: Endpoints, path: str) -> str:
    """``path`` on the blog's distribution (thumbnails are served there)."""
    return endpoints.services["blog"].distributions["site"].url.rstrip("/") + path


def _register(https: httpx.Client, endpoints: Endpoints, name: str) -> dict[str, Any]:
    user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    response = https.post(_url(endpoints, "/api/users"), json={"user": user})
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()["user"]
    return registered


def _token(user: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Token {user['token']}"}


def test_readers_register_sign_in_write_favorite_comment_and_follow(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    # Given two readers who registered (accounts made in the user pool by the function)
    suffix = secrets.token_hex(3)
    alice = _register(https, endpoints, f"alice{suffix}")
    bob = _register(https, endpoints, f"bob{suffix}")

    # When alice signs in again, her token is a fresh ID token of the same account
    login = {"user": {"email": alice["email"], "password": PASSWORD}}
    signed_in = https.post(_url(endpoints, "/api/users/login"), json=login)
    wrong = {"user": {"email": alice["email"], "password": "not the passphrase"}}
    refused = https.post(_url(endpoints, "/api/users/login"), json=wrong)
    assert signed_in.status_code == 200, signed_in.text
    assert refused.status_code == 401
    me = https.get(_url(endpoints, "/api/user"), headers=_token(signed_in.json()["user"]))
    assert me.json()["user"]["username"] == alice["username"]

    # When alice writes an article with a tag, and bob follows her, favorites and comments
    tag = f"tag{suffix}"
    article = {"title": "Hello world", "description": "d", "body": "b", "tagList": [tag]}
    created = https.post(
        _url(endpoints, "/api/articles"), json={"article": article}, headers=_token(alice)
    )
    assert created.status_code == 201, created.text
    slug = created.json()["article"]["slug"]
    follow = f"/api/profiles/{alice['username']}/follow"
    assert https.post(_url(endpoints, follow), headers=_token(bob)).status_code == 200
    favorited = https.post(_url(endpoints, f"/api/articles/{slug}/favorite"), headers=_token(bob))
    comment = https.post(
        _url(endpoints, f"/api/articles/{slug}/comments"),
        json={"comment": {"body": "Great"}},
        headers=_token(bob),
    )

    # Then bob's feed has it, favorited; anyone can read it, its comments and its tag
    feed = https.get(_url(endpoints, "/api/articles/feed"), headers=_token(bob)).json()
    assert [a["slug"] for a in feed["articles"]] == [slug]
    assert favorited.json()["article"]["favoritesCount"] == 1
    assert comment.status_code == 201
    comments = https.get(_url(endpoints, f"/api/articles/{slug}/comments")).json()["comments"]
    assert [c["body"] for c in comments] == ["Great"]
    assert tag in https.get(_url(endpoints, "/api/tags")).json()["tags"]
    by_tag = https.get(_url(endpoints, "/api/articles"), params={"tag": tag}).json()
    assert (by_tag["articlesCount"], by_tag["articles"][0]["favorited"]) == (1, False)

    # When bob tries to edit it he is refused; alice edits, then deletes it
    refused_edit = https.put(
        _url(endpoints, f"/api/articles/{slug}"),
        json={"article": {"body": "x"}},
        headers=_token(bob),
    )
    edited = https.put(
        _url(endpoints, f"/api/articles/{slug}"),
        json={"article": {"body": "New"}},
        headers=_token(alice),
    )
    deleted = https.delete(_url(endpoints, f"/api/articles/{slug}"), headers=_token(alice))
    assert (refused_edit.status_code, edited.status_code, deleted.status_code) == (403, 200, 204)
    assert https.get(_url(endpoints, f"/api/articles/{slug}")).status_code == 404

    # A forged token is refused
    forged = {"Authorization": f"Token {alice['token'][:-4]}AAAA"}
    assert https.get(_url(endpoints, "/api/user"), headers=forged).status_code == 401


def test_a_newsletter_subscription_and_its_unsubscribe_link(
    endpoints: Endpoints, https: httpx.Client, blog_item: ItemReader
) -> None:
    email = f"reader-{secrets.token_hex(3)}@example.com"

    first = https.post(_url(endpoints, "/api/subscriptions"), json={"email": email})
    again = https.post(_url(endpoints, "/api/subscriptions"), json={"email": email})
    key = {"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER"}
    item = blog_item(key)
    assert item is not None
    link = "/api/subscriptions/unsubscribe"
    forged = https.get(_url(endpoints, link), params={"email": email, "token": "forged"})
    done = https.get(
        _url(endpoints, link), params={"email": email, "token": item["unsubscribe_token"]}
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert (forged.status_code, done.status_code) == (422, 200)
    assert (blog_item(key) or {})["status"] == "unsubscribed"


def test_an_author_gets_a_sigv4_presigned_post_for_an_upload(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    author = _register(https, endpoints, f"carol{secrets.token_hex(3)}")

    response = https.post(
        _url(endpoints, "/api/photos"), json={"content_type": "image/jpeg"}, headers=_token(author)
    )
    photo = response.json()["photo"]
    fields = photo["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    status = https.get(_url(endpoints, f"/api/photos/{photo['id']}")).json()["photo"]

    assert response.status_code == 201, response.text
    assert photo["upload"]["url"].startswith(endpoints.aws["s3"])
    assert fields["key"] == f"uploads/{photo['id']}"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["x-amz-credential"].startswith("ASIA")  # the function role's session
    assert "x-amz-security-token" in fields
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert ["content-length-range", 1, 20 * 1024 * 1024] in policy["conditions"]
    assert status == {"id": photo["id"], "status": "pending"}


def test_a_photo_uploaded_through_its_presigned_post_gets_every_thumbnail(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    # Given an author's upload form for a JPEG with EXIF orientation and GPS metadata
    author = _register(https, endpoints, f"dora{secrets.token_hex(3)}")
    photo = https.post(
        _url(endpoints, "/api/photos"), json={"content_type": "image/jpeg"}, headers=_token(author)
    ).json()["photo"]
    upload = photo["upload"]
    # When the browser posts the file straight to the bucket
    posted = https.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("photo.jpg", _jpeg_with_gps(2000, 1000), "image/jpeg")},
    )
    # Then the thumbnail function makes every size up to the photo's own width (1000 px
    # once EXIF orientation turns it upright: never upscaled), and the API links them
    status = _wait_for_photo(https, endpoints, photo["id"])
    assert posted.status_code == 204, posted.text
    assert status["status"] == "ready", status
    assert sorted(status["thumbnails"], key=int) == ["160", "480"]
    thumbnail_url = _site(endpoints, status["thumbnails"]["480"])
    thumbnail = Image.open(io.BytesIO(https.get(thumbnail_url).content))
    assert thumbnail.size == (480, 960)  # portrait: the orientation was applied
    assert not thumbnail.getexif()  # no metadata left, GPS included


def test_a_text_file_posted_as_a_photo_is_rejected_with_a_reason(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    author = _register(https, endpoints, f"erin{secrets.token_hex(3)}")
    photo = https.post(
        _url(endpoints, "/api/photos"), json={"content_type": "image/jpeg"}, headers=_token(author)
    ).json()["photo"]
    upload = photo["upload"]
    posted = https.post(
        upload["url"], data=upload["fields"], files={"file": ("a.jpg", b"not a jpeg", "image/jpeg")}
    )
    status = _wait_for_photo(https, endpoints, photo["id"])
    assert posted.status_code == 204, posted.text
    assert status["status"] == "rejected"
    assert status["reason"]


def _jpeg_with_gps(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _wait_for_photo(https: httpx.Client, endpoints: Endpoints, photo_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        status: dict[str, Any] = https.get(_url(endpoints, f"/api/photos/{photo_id}")).json()[
            "photo"
        ]
        if status["status"] != "pending" or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_a_newsletter_subscriber_gets_one_welcome_whose_link_unsubscribes(
    endpoints: Endpoints, https: httpx.Client, inbox: Inbox, blog_item: ItemReader
) -> None:
    # Given a reader who subscribes twice (a double click)
    email = f"newsletter-{secrets.token_hex(3)}@example.com"
    https.post(_url(endpoints, "/api/subscriptions"), json={"email": email})
    https.post(_url(endpoints, "/api/subscriptions"), json={"email": email})
    # When the welcome email arrives
    deadline = time.monotonic() + 30
    while not inbox.find(to=email) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a second email would arrive about now
    welcomes = inbox.find(to=email)
    # Then there is exactly one, and its unsubscribe link works with one click
    assert len(welcomes) == 1
    links = re.findall(r"https://\S+/api/subscriptions/unsubscribe\?\S+", welcomes[0].text)
    assert links, welcomes[0].text
    assert https.get(links[0]).status_code == 200
    item = blog_item({"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER"})
    assert (item or {})["status"] == "unsubscribed"


def test_a_refused_password_leaves_the_email_free_to_register(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    name = f"frank{secrets.token_hex(3)}"
    user = {"username": name, "email": f"{name}@example.com"}

    weak = https.post(_url(endpoints, "/api/users"), json={"user": {**user, "password": "weak"}})
    strong = https.post(
        _url(endpoints, "/api/users"), json={"user": {**user, "password": PASSWORD}}
    )
    login = https.post(
        _url(endpoints, "/api/users/login"),
        json={"user": {"email": user["email"], "password": PASSWORD}},
    )

    assert weak.status_code == 422, weak.text
    assert "password" in weak.json()["errors"]
    assert (strong.status_code, login.status_code) == (201, 200), (strong.text, login.text)


def test_a_png_photo_gets_png_thumbnails_at_working_links(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    author = _register(https, endpoints, f"gail{secrets.token_hex(3)}")
    photo = https.post(
        _url(endpoints, "/api/photos"), json={"content_type": "image/png"}, headers=_token(author)
    ).json()["photo"]
    png = io.BytesIO()
    Image.new("RGBA", (600, 300), (0, 90, 200, 255)).save(png, "PNG")
    https.post(
        photo["upload"]["url"],
        data=photo["upload"]["fields"],
        files={"file": ("logo.png", png.getvalue(), "image/png")},
    )

    status = _wait_for_photo(https, endpoints, photo["id"])
    fetched = https.get(_site(endpoints, status["thumbnails"]["160"]))

    assert status["status"] == "ready", status
    assert fetched.status_code == 200
    assert Image.open(io.BytesIO(fetched.content)).format == "PNG"
