"""The welcome function sends each new subscriber exactly one welcome email."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from overcast.apps.blog.service import blog_table
from overcast.apps.blog.welcome import WelcomeFunction, Welcomer
from overcast.local.streams.events import StreamSource, stream_event, stream_record
from overcast.ports.mail.exceptions import MailUnavailable
from overcast.ports.mail.memory import MemoryMailer
from overcast.ports.tables.memory import MemoryTable

API = "https://127.0.0.1:4443/v1/"
SOURCE = StreamSource(
    "arn:aws:dynamodb:us-east-1:1:table/blog-blog/stream/x", "us-east-1", "NEW_AND_OLD_IMAGES"
)


def subscribe(table: MemoryTable, email: str, name: str | None = None) -> None:
    item = {
        "pk": f"SUBSCRIBER#{email.lower()}",
        "sk": "SUBSCRIBER",
        "email": email,
        "source": "newsletter",
        "unsubscribe_token": f"token-of-{email}",
        "subscribed_at": "2026-01-01T00:00:00Z",
        "status": "subscribed",
    }
    table.put(item | ({"name": name} if name else {}))


def new_subscribers_event(table: MemoryTable) -> dict[str, Any]:
    records = [stream_record(r, SOURCE) for r in table.stream_records()]
    return stream_event(r for r in records if r["dynamodb"]["Keys"]["sk"]["S"] == "SUBSCRIBER")


@pytest.fixture
def table() -> MemoryTable:
    return MemoryTable(blog_table)


def function(table: MemoryTable, mailer: MemoryMailer) -> WelcomeFunction:
    return WelcomeFunction(Welcomer(table, mailer, API))


def test_each_new_subscriber_gets_one_welcome_with_text_html_and_unsubscribe_link(
    table: MemoryTable,
) -> None:
    subscribe(table, "Ana@Example.com", name="Ana")
    subscribe(table, "bo@example.com")
    mailer = MemoryMailer()

    response = function(table, mailer).handle(new_subscribers_event(table), None)

    assert response == {"batchItemFailures": []}
    assert [email.to for email in mailer.sent] == [("Ana@Example.com",), ("bo@example.com",)]
    ana = mailer.sent[0]
    link = (
        "https://127.0.0.1:4443/v1/api/subscriptions/unsubscribe"
        "?email=Ana%40Example.com&token=token-of-Ana%40Example.com"
    )
    assert "Hello Ana," in ana.text
    assert link in ana.text
    assert ana.html is not None
    assert link.replace("&", "&amp;") in ana.html
    assert "Hello there," in mailer.sent[1].text
    welcomed = table.get({"pk": "SUBSCRIBER#ana@example.com", "sk": "WELCOMED"})
    assert welcomed is not None
    assert welcomed["message_id"] == mailer.ids[0]


def test_a_redelivered_batch_sends_nothing_twice(table: MemoryTable) -> None:
    subscribe(table, "ana@example.com")
    event = new_subscribers_event(table)
    mailer = MemoryMailer()
    handler = function(table, mailer)

    handler.handle(event, None)
    handler.handle(event, None)
    function(table, mailer).handle(json.loads(json.dumps(event)), None)

    assert len(mailer.sent) == 1


def test_the_html_is_escaped_and_the_text_is_not(table: MemoryTable) -> None:
    subscribe(table, "eve@example.com", name="<b>Eve</b> & co")
    mailer = MemoryMailer()

    function(table, mailer).handle(new_subscribers_event(table), None)

    (email,) = mailer.sent
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in (email.html or "")
    assert "<b>Eve</b> & co" in email.text


def test_a_subscriber_who_left_before_delivery_gets_nothing(table: MemoryTable) -> None:
    subscribe(table, "ana@example.com")
    event = new_subscribers_event(table)
    table.update({"pk": "SUBSCRIBER#ana@example.com", "sk": "SUBSCRIBER"}, {"status": "gone"})
    mailer = MemoryMailer()

    function(table, mailer).handle(event, None)

    assert mailer.sent == []


def test_when_mail_is_down_the_records_are_reported_failed_and_a_retry_sends_them(
    table: MemoryTable,
) -> None:
    subscribe(table, "ana@example.com")
    subscribe(table, "bo@example.com")
    event = new_subscribers_event(table)
    sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    down = MemoryMailer(fail_with=MailUnavailable("sink down"))
    welcomer = Welcomer(table, down, API)

    # Only the second fails: Powertools reports just it.
    welcomer_ok = Welcomer(table, MemoryMailer(), API)
    welcomer_ok.welcome("ana@example.com")
    response = WelcomeFunction(welcomer).handle(event, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequences[1]}]}

    retry = MemoryMailer()
    WelcomeFunction(Welcomer(table, retry, API)).handle(event, None)
    assert [email.to for email in retry.sent] == [("bo@example.com",)]


def test_the_templates_ship_with_the_package() -> None:
    folder = Path(__file__).parents[2] / "src" / "overcast" / "apps" / "blog" / "templates"
    assert sorted(p.name for p in folder.glob("welcome.*")) == ["welcome.html.j2", "welcome.txt.j2"]


def test_an_address_the_mailer_refuses_is_skipped_not_retried_forever(table: MemoryTable) -> None:
    subscribe(table, "not-an-address")
    subscribe(table, "bo@example.com")
    mailer = MemoryMailer()

    response = function(table, mailer).handle(new_subscribers_event(table), None)

    assert response == {"batchItemFailures": []}
    assert [email.to for email in mailer.sent] == [("bo@example.com",)]
