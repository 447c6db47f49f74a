"""``overcast up`` serves the web mailbox over HTTPS, with what the SMTP sink received."""

from __future__ import annotations

import secrets
import smtplib
from email.message import EmailMessage
from urllib.parse import quote

import httpx

from overcast.local.endpoints import Endpoints
from tests.cloud_process import CloudProcess


def send(endpoints: Endpoints, to: str, subject: str) -> None:
    host, port = endpoints.smtp.rsplit(":", 1)
    message = EmailMessage()
    message["From"] = "no-reply@blog.example"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Plain words")
    message.add_alternative("<p>Rich <b>words</b></p>", subtype="html")
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(message)


def test_up_serves_the_mailbox_with_the_mail_it_received(
    cloud: CloudProcess, endpoints: Endpoints, https: httpx.Client
) -> None:
    assert endpoints.mailbox_url is not None
    assert endpoints.mailbox_url.startswith("https://")
    assert "mailbox (web)" in cloud.output()
    to = f"reader-{secrets.token_hex(4)}@example.com"

    send(endpoints, to, "Hello over SMTP")
    found = https.get(endpoints.mailbox_url + "api/messages", params={"to": to}).json()
    listed = https.get(endpoints.mailbox_url)

    assert [m["subject"] for m in found["messages"]] == ["Hello over SMTP"]
    assert listed.status_code == 200
    assert "Hello over SMTP" in listed.text
    message_id = quote(found["messages"][0]["id"], safe="")
    whole = https.get(f"{endpoints.mailbox_url}api/messages/{message_id}").json()
    assert whole["html"] == "<p>Rich <b>words</b></p>\n"
    assert https.delete(f"{endpoints.mailbox_url}api/messages/{message_id}").status_code == 204
    assert https.get(endpoints.mailbox_url + "api/messages", params={"to": to}).json() == {
        "messages": []
    }
