"""MyBlog's article events end to end: an article published through the API reaches the
topic through the table's stream, then the newsletter (one email per subscribed reader)
and the article's page on the CDN, each through its own queue, in ``overcast up``."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import httpx

from overcast.local.endpoints import Endpoints
from tests.e2e.conftest import Inbox, ItemReader

PASSWORD = "A reader's passphrase 1"
NEWSLETTER = "New on MyBlog.com"
BUDGET_S = 5.0


def _api(endpoints: Endpoints, path: str) -> str:
    api = endpoints.services["blog"].api
    assert api is not None
    return api + path


def _site(endpoints: Endpoints, path: str) -> str:
    return endpoints.services["blog"].distributions["site"].url.rstrip("/") + path


def _subscribe(https: httpx.Client, endpoints: Endpoints, email: str) -> None:
    response = https.post(_api(endpoints, "/api/subscriptions"), json={"email": email})
    assert response.status_code in (200, 201), response.text


def _unsubscribe(
    https: httpx.Client, endpoints: Endpoints, blog_item: ItemReader, email: str
) -> None:
    item = blog_item({"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER"})
    assert item is not None
    query = {"email": email, "token": item["unsubscribe_token"]}
    response = https.get(_api(endpoints, "/api/subscriptions/unsubscribe"), params=query)
    assert response.status_code == 200, response.text


def _publish(https: httpx.Client, endpoints: Endpoints, title: str) -> str:
    name = f"author{secrets.token_hex(3)}"
    user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    registered = https.post(_api(endpoints, "/api/users"), json={"user": user})
    assert registered.status_code == 201, registered.text
    token = {"Authorization": f"Token {registered.json()['user']['token']}"}
    article = {"title": title, "description": "Fresh news", "body": "Some *words*.", "tagList": []}
    response = https.post(
        _api(endpoints, "/api/articles"), json={"article": article}, headers=token
    )
    assert response.status_code == 201, response.text
    slug: str = response.json()["article"]["slug"]
    return slug


def _newsletters(inbox: Inbox, email: str, wait_s: float) -> list[Any]:
    deadline = time.monotonic() + wait_s
    while True:
        found = inbox.find(to=email, subject_contains=NEWSLETTER)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _page(https: httpx.Client, url: str, wait_s: float) -> httpx.Response:
    deadline = time.monotonic() + wait_s
    while True:
        response = https.get(url)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_a_published_article_mails_each_subscribed_reader_once_and_appears_on_the_cdn(
    endpoints: Endpoints, https: httpx.Client, inbox: Inbox, blog_item: ItemReader
) -> None:
    # Given two readers on the newsletter, one of whom unsubscribed
    suffix = secrets.token_hex(3)
    staying, leaving = f"stays-{suffix}@example.com", f"leaves-{suffix}@example.com"
    _subscribe(https, endpoints, staying)
    _subscribe(https, endpoints, leaving)
    _unsubscribe(https, endpoints, blog_item, leaving)
    # When an author publishes an article through the API
    title = f"Events {suffix}"
    started = time.monotonic()
    slug = _publish(https, endpoints, title)
    # Then the subscribed reader gets its newsletter within the budget
    mails = _newsletters(inbox, staying, BUDGET_S)
    elapsed = time.monotonic() - started
    print(f"publish -> newsletter in the mailbox: {elapsed:.2f} s")
    assert mails, f"no newsletter reached {staying} within {BUDGET_S} s"
    # ... linking to the article's page on the site, which the CDN serves
    links = re.findall(r"https://\S+/articles/\S+", mails[0].text)
    assert links == [_site(endpoints, f"/articles/{slug}")]
    page = _page(https, links[0], BUDGET_S)
    assert page.status_code == 200
    assert title in page.text
    # And exactly once; the reader who left gets none
    time.sleep(0.5)  # a second email would arrive about now
    assert len(inbox.find(to=staying, subject_contains=NEWSLETTER)) == 1
    assert inbox.find(to=leaving, subject_contains=NEWSLETTER) == []


def _article(https: httpx.Client, endpoints: Endpoints, slug: str) -> dict[str, Any]:
    response = https.get(_api(endpoints, f"/api/articles/{slug}"))
    assert response.status_code == 200, response.text
    article: dict[str, Any] = response.json()["article"]
    return article


def test_an_edited_article_is_rendered_again_and_mails_no_one(
    endpoints: Endpoints, https: httpx.Client, inbox: Inbox
) -> None:
    # Given a subscribed reader and an article they were told about
    reader = f"edits-{secrets.token_hex(3)}@example.com"
    _subscribe(https, endpoints, reader)
    name = f"editor{secrets.token_hex(3)}"
    user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    registered = https.post(_api(endpoints, "/api/users"), json={"user": user})
    token = {"Authorization": f"Token {registered.json()['user']['token']}"}
    article = {"title": "Before", "description": "d", "body": "b", "tagList": []}
    created = https.post(_api(endpoints, "/api/articles"), json={"article": article}, headers=token)
    slug = created.json()["article"]["slug"]
    assert len(_newsletters(inbox, reader, BUDGET_S)) == 1
    # When the author edits it
    changes = {"article": {"title": "After the edit"}}
    edited = https.put(_api(endpoints, f"/api/articles/{slug}"), json=changes, headers=token)
    assert edited.status_code == 200, edited.text
    # Then its page shows the edit (through the pages queue), and no second email comes
    deadline = time.monotonic() + BUDGET_S
    url = _site(endpoints, f"/articles/{slug}")
    while "After the edit" not in https.get(url).text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "After the edit" in https.get(url).text
    assert _article(https, endpoints, slug)["title"] == "After the edit"
    time.sleep(0.5)
    assert len(inbox.find(to=reader, subject_contains=NEWSLETTER)) == 1


def test_an_authors_rename_reaches_their_article_page_on_the_cdn(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    # Given an author whose published article's page names them
    name = f"renamer{secrets.token_hex(3)}"
    user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    registered = https.post(_api(endpoints, "/api/users"), json={"user": user})
    assert registered.status_code == 201, registered.text
    token = {"Authorization": f"Token {registered.json()['user']['token']}"}
    article = {"title": "Signed", "description": "d", "body": "b", "tagList": []}
    created = https.post(_api(endpoints, "/api/articles"), json={"article": article}, headers=token)
    url = _site(endpoints, f"/articles/{created.json()['article']['slug']}")
    assert name in _page(https, url, BUDGET_S).text
    # When the author changes their username
    renamed = f"{name}-new"
    changed = https.put(
        _api(endpoints, "/api/user"), json={"user": {"username": renamed}}, headers=token
    )
    assert changed.status_code == 200, changed.text
    # Then the page on the CDN names them anew (rendered again and invalidated)
    deadline = time.monotonic() + BUDGET_S
    while f">{renamed}<" not in https.get(url).text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f">{renamed}<" in https.get(url).text
