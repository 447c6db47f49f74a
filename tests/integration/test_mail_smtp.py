"""SmtpMailer → SmtpSink → Mailbox over real sockets, on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from rich.console import Console

from overcast.local.mail import Mailbox, SmtpSink
from overcast.local.mail.render import print_mail, print_mail_list
from overcast.ports.mail import Email, InvalidMessage, MailUnavailable
from overcast.ports.mail.smtp import SmtpMailer

ELEVEN_MIB = 11 * 1024 * 1024


@contextlib.asynccontextmanager
async def running_sink(mailbox: Mailbox) -> AsyncIterator[SmtpSink]:
    sink = SmtpSink(mailbox, port=0)
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()


def newsletter(**changes: object) -> Email:
    fields: dict[str, object] = {
        "sender": "blog@example.com",
        "to": ("zoë@example.com", "bob@example.com"),
        "subject": "Bienvenue — café ☕ and a long subject " + "x" * 80,
        "text": "Hello Zoë,\nthanks for subscribing.\n",
        "html": "<p>Hello Zoë, <b>thanks</b> for subscribing.</p>",
    }
    fields.update(changes)
    return Email(**fields)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_sent_message_arrives_with_text_html_and_utf8_subject(tmp_path: Path) -> None:
    async def scenario() -> str:
        mailbox = Mailbox(tmp_path / "mail")
        async with running_sink(mailbox) as sink:
            mailer = SmtpMailer("127.0.0.1", sink.port)
            return await asyncio.to_thread(mailer.send, newsletter())

    message_id = asyncio.run(scenario())

    # Read back by another reader, as the CLI in another process does.
    [stored] = Mailbox(tmp_path / "mail").find(to="zoë@example.com")
    assert stored.subject == newsletter().subject
    assert stored.sender == "blog@example.com"
    assert stored.to == ("zoë@example.com", "bob@example.com")
    assert stored.text == "Hello Zoë,\nthanks for subscribing.\n"
    assert stored.html == "<p>Hello Zoë, <b>thanks</b> for subscribing.</p>\n"
    assert f"Message-ID: <{message_id}>".encode() in stored.raw
    assert stored.received_at.tzinfo is not None


def test_a_text_only_message_to_ascii_addresses_encodes_its_utf8_subject(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_sink(Mailbox(tmp_path)) as sink:
            mailer = SmtpMailer("127.0.0.1", sink.port)
            await asyncio.to_thread(mailer.send, newsletter(to=("bob@example.com",), html=None))

    asyncio.run(scenario())

    [stored] = Mailbox(tmp_path).find(subject_contains="CAFÉ ☕")
    assert stored.subject == newsletter().subject
    headers = stored.raw.split(b"\n\n", 1)[0]
    assert b"=?utf-8?" in headers  # RFC 2047 encoded words: no raw UTF-8 without SMTPUTF8
    assert headers.isascii()
    assert stored.html is None
    assert stored.text.startswith("Hello Zoë")
    assert b"multipart" not in stored.raw


def test_envelope_recipients_missing_from_the_headers_are_kept(tmp_path: Path) -> None:
    def send_with_bcc(port: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost") as client:
            raw = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
            client.sendmail("a@example.com", ["b@example.com", "hidden@example.com"], raw)

    async def scenario() -> None:
        async with running_sink(Mailbox(tmp_path)) as sink:
            await asyncio.to_thread(send_with_bcc, sink.port)

    asyncio.run(scenario())

    [stored] = Mailbox(tmp_path).find(to="HIDDEN@example.com")
    assert stored.to == ("b@example.com", "hidden@example.com")
    assert stored.raw.startswith(b"Return-Path: <a@example.com>\n")


def test_an_unreachable_server_raises_mail_unavailable() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), timeout=2)

    with pytest.raises(MailUnavailable, match="Is the mail server"):
        mailer.send(newsletter())


def test_an_oversize_message_is_refused_with_552_and_not_stored(tmp_path: Path) -> None:
    line = b"x" * 998 + b"\r\n"
    body = b"Subject: big\r\n\r\n" + line * (ELEVEN_MIB // len(line))

    def send_without_size(port: int) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost") as client:
            client.ehlo()
            client.mail("a@example.com")  # no SIZE= declared: refused after DATA
            client.rcpt("b@example.com")
            return client.data(body)  # the reply to the end of DATA

    async def scenario() -> tuple[int, bytes]:
        async with running_sink(Mailbox(tmp_path)) as sink:
            return await asyncio.to_thread(send_without_size, sink.port)

    code, reply = asyncio.run(scenario())

    assert (code, reply) == (552, b"Error: Too much mail data")
    assert Mailbox(tmp_path).list() == []


def test_an_oversize_message_declared_up_front_is_an_invalid_message(tmp_path: Path) -> None:
    huge = newsletter(text=("x" * 70 + "\n") * (ELEVEN_MIB // 71 + 1), html=None)

    async def scenario() -> None:
        async with running_sink(Mailbox(tmp_path)) as sink:
            mailer = SmtpMailer("127.0.0.1", sink.port)
            await asyncio.to_thread(mailer.send, huge)

    with pytest.raises(InvalidMessage, match="too large"):
        asyncio.run(scenario())
    assert Mailbox(tmp_path).list() == []


class BrokenDisk(Mailbox):
    def deliver(self, raw: bytes) -> str:
        raise OSError(28, "No space left on device")


def test_a_message_the_mailbox_cannot_store_is_not_acknowledged(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_sink(BrokenDisk(tmp_path)) as sink:
            mailer = SmtpMailer("127.0.0.1", sink.port)
            await asyncio.to_thread(mailer.send, newsletter())

    with pytest.raises(MailUnavailable, match="451"):
        asyncio.run(scenario())
    assert Mailbox(tmp_path).list() == []


class RefuseRecipients:
    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return self.reply


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.1.1 No such user", InvalidMessage), ("450 4.2.1 Mailbox busy", MailUnavailable)],
)
def test_refused_recipients_map_to_the_port_errors(reply: str, error: type[Exception]) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(RefuseRecipients(reply), hostname="refuser.test", loop=loop),
            "127.0.0.1",
            0,
        )
        port = server.sockets[0].getsockname()[1]
        ascii_only = newsletter(to=("bob@example.com",))
        try:
            await asyncio.to_thread(SmtpMailer("127.0.0.1", port).send, ascii_only)
        finally:
            server.close()
            await server.wait_closed()

    with pytest.raises(error, match=reply.split()[0]):
        asyncio.run(scenario())


def test_stop_closes_open_connections_and_frees_the_port(tmp_path: Path) -> None:
    async def scenario() -> None:
        sink = SmtpSink(Mailbox(tmp_path), port=0)
        await sink.start()
        port = sink.port
        client = await asyncio.to_thread(smtplib.SMTP, "127.0.0.1", port, "localhost", 5)
        assert (await asyncio.to_thread(client.noop))[0] == 250

        await sink.stop()

        with pytest.raises(smtplib.SMTPServerDisconnected):
            await asyncio.to_thread(client.noop)
        client.close()
        with pytest.raises(MailUnavailable):
            await asyncio.to_thread(SmtpMailer("127.0.0.1", port, timeout=2).send, newsletter())

    asyncio.run(scenario())


def test_a_busy_port_is_reported_clearly(tmp_path: Path) -> None:
    async def scenario() -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            sink = SmtpSink(Mailbox(tmp_path), port=taken.getsockname()[1])
            await sink.start()

    with pytest.raises(OSError, match="another program"):
        asyncio.run(scenario())


def test_the_port_is_unknown_before_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = SmtpSink(Mailbox(tmp_path), port=0).port


def test_sent_mail_is_listed_and_shown_on_the_terminal(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_sink(Mailbox(tmp_path)) as sink:
            mailer = SmtpMailer("127.0.0.1", sink.port)
            await asyncio.to_thread(mailer.send, newsletter(subject="First"))
            await asyncio.to_thread(mailer.send, newsletter(subject="Second", text="Body two"))

    asyncio.run(scenario())
    console = Console(record=True, width=200)

    print_mail_list(Mailbox(tmp_path), console)
    print_mail(Mailbox(tmp_path), "2", console)

    output = console.export_text()
    assert "First" in output
    assert output.index("First") < output.index("Second")
    assert "zoë@example.com, bob@example.com" in output
    assert "Body two" in output
