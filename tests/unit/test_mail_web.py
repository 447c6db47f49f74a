"""The web mailbox over ASGI, on a real Maildir in a temporary directory."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from overcast.local.mail import Mailbox
from overcast.local.mail.web import MailboxWeb

pytestmark = pytest.mark.anyio
ORIGIN = "https://127.0.0.1:8025"
EVIL_HTML = (
    '<p id="greeting">Welcome, reader</p><script>alert(1)</script>'
    '<a href="https://blog.example/unsubscribe?token=abc">Unsubscribe</a>'
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def mailbox(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "mail")


@pytest.fixture
async def client(mailbox: Mailbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=MailboxWeb(mailbox))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as c:
        yield c


def deliver(
    mailbox: Mailbox, to: str, subject: str, text: str = "Hello", html: str | None = None
) -> str:
    message = EmailMessage()
    message["From"] = "MyBlog <no-reply@blog.example>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    message_id = mailbox.deliver(message.as_bytes())
    time.sleep(0.001)  # distinct delivery times, so the order is the delivery order
    return message_id


def page(message_id: str) -> str:
    return "/messages/" + quote(message_id, safe="")


async def test_the_list_shows_the_newest_message_first(
    mailbox: Mailbox, client: httpx.AsyncClient
) -> None:
    deliver(mailbox, "ann@example.com", "First post")
    deliver(mailbox, "bob@example.com", "Second post")

    response = await client.get("/")

    assert response.status_code == 200
    body = response.text
    assert body.index("Second post") < body.index("First post")
    assert "bob@example.com" in body
    assert "MyBlog &lt;no-reply@blog.example&gt;" in body
    assert "2 messages, newest first" in body


async def test_an_empty_mailbox_says_so(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert "No mail yet" in response.text


async def test_a_subject_full_of_markup_is_shown_as_text(
    mailbox: Mailbox, client: httpx.AsyncClient
) -> None:
    message_id = deliver(mailbox, "ann@example.com", "<img src=x onerror=alert(1)>")

    listed = await client.get("/")
    shown = await client.get(page(message_id))

    for response in (listed, shown):
        assert "<img src=x" not in response.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in response.text


async def test_a_message_page_frames_its_html_in_a_sandbox_and_shows_text_and_headers(
    mailbox: Mailbox, client: httpx.AsyncClient
) -> None:
    message_id = deliver(
        mailbox, "ann@example.com", "Welcome", "Unsubscribe: https://blog.example/u?t=1", EVIL_HTML
    )

    response = await client.get(page(message_id))

    assert response.status_code == 200
    iframe = re.search(r"<iframe[^>]*>", response.text)
    assert iframe is not None
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in iframe.group(0)
    assert f'src="{page(message_id)}/html"' in iframe.group(0)
    assert "<script>" not in response.text  # the HTML part is never inlined
    assert '<a href="https://blog.example/u?t=1"' in response.text  # the text part, linked
    assert '<th scope="row">Subject</th><td>Welcome</td>' in response.text
    assert "script-src" not in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_the_html_part_can_never_run_script(
    mailbox: Mailbox, client: httpx.AsyncClient
) -> None:
    message_id = deliver(mailbox, "ann@example.com", "Welcome", "Hi", EVIL_HTML)

    response = await client.get(f"{page(message_id)}/html")

    assert response.status_code == 200
    assert '<p id="greeting">Welcome, reader</p>' in response.text
    policy = response.headers["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert "allow-scripts" not in directives["sandbox"]
    assert "allow-same-origin" not in directives["sandbox"]
    assert directives["default-src"] == ["'none'"]
    assert "script-src" not in directives


async def test_the_raw_source_is_the_message_as_stored(
    mailbox: Mailbox, client: httpx.AsyncClient
) -> None:
    message_id = deliver(mailbox, "ann@example.com", "Raw me", "Body line", EVIL_HTML)

    response = await client.get(f"{page(message_id)}/raw")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == mailbox.get(message_id).raw
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "origin",
    # Under the page's Referrer-Policy: no-referrer, Chromium sends Origin: null on a
    # same-origin form POST (Fetch: "serializing a request origin").
    [ORIGIN, "null"],
)
async def test_a_form_post_from_the_page_deletes_the_message(
    mailbox: Mailbox, client: httpx.AsyncClient, origin: str
) -> None:
    message_id = deliver(mailbox, "ann@example.com", "Delete me")

    response = await client.post(
        f"{page(message_id)}/delete",
        headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/?deleted=1"
    assert mailbox.list() == []
    assert "Message deleted." in (await client.get("/?deleted=1")).text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:8025"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": ORIGIN},
    ],
)
async def test_another_site_cannot_delete_mail(
    mailbox: Mailbox, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    message_id = deliver(mailbox, "ann@example.com", "Keep me")

    posted = await client.post(f"{page(message_id)}/delete", headers=headers)
    deleted = await client.delete(f"/api/messages/{quote(message_id, safe='')}", headers=headers)

    assert posted.status_code == deleted.status_code == 403
    assert [mail.id for mail in mailbox.list()] == [message_id]


async def test_an_unknown_message_is_not_found_everywhere(client: httpx.AsyncClient) -> None:
    for path in ("/messages/nope", "/messages/nope/html", "/messages/nope/raw"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "No such message" in response.text
    assert (await client.post("/messages/nope/delete")).status_code == 404
    assert (await client.get("/api/messages/nope")).status_code == 404
    assert (await client.delete("/api/messages/nope")).status_code == 404
    assert (await client.delete("/api/messages/..%2F..%2Fetc")).status_code == 404


async def test_the_api_finds_mail_by_recipient_and_subject(
    mailbox: Mailbox, client: httpx.AsyncClient
) -> None:
    deliver(mailbox, "ann@example.com", "Welcome to MyBlog")
    deliver(mailbox, "bob@example.com", "Welcome to MyBlog")
    newest = deliver(mailbox, "Ann@Example.com", "Your weekly digest")

    everything = (await client.get("/api/messages")).json()["messages"]
    for_ann = (await client.get("/api/messages", params={"to": "ann@example.com"})).json()
    welcomes = await client.get(
        "/api/messages", params={"to": "ann@example.com", "subject": "welcome"}
    )

    assert len(everything) == 3
    assert everything[0]["id"] == newest
    assert [m["subject"] for m in for_ann["messages"]] == [
        "Your weekly digest",
        "Welcome to MyBlog",
    ]
    assert [m["to"] for m in welcomes.json()["messages"]] == [["ann@example.com"]]
    assert set(everything[0]) == {"id", "from", "to", "subject", "date"}


async def test_the_api_returns_one_message_whole(
    mailbox: Mailbox, client: httpx.AsyncClient
) -> None:
    message_id = deliver(mailbox, "ann@example.com", "Welcome", "Plain body", EVIL_HTML)

    response = await client.get(f"/api/messages/{quote(message_id, safe='')}")

    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "Plain body\n"
    assert body["html"].startswith('<p id="greeting">')
    assert ["Subject", "Welcome"] in body["headers"]
    assert body["from"] == "MyBlog <no-reply@blog.example>"
    assert body["date"].endswith("+00:00")


async def test_the_api_deletes_a_message_once(mailbox: Mailbox, client: httpx.AsyncClient) -> None:
    message_id = deliver(mailbox, "ann@example.com", "Bye")
    path = f"/api/messages/{quote(message_id, safe='')}"

    first = await client.delete(path)
    second = await client.delete(path)

    assert (first.status_code, second.status_code) == (204, 404)
    assert (await client.get(path)).status_code == 404


async def test_only_the_listed_methods_are_allowed(client: httpx.AsyncClient) -> None:
    assert (await client.post("/")).status_code == 405
    assert (await client.get("/messages/x/delete")).status_code == 405


async def test_the_stylesheet_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
