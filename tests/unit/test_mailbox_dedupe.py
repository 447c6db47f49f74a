"""The mailbox keeps one copy of a message per Message-ID, as mail providers do."""

from __future__ import annotations

from pathlib import Path

from overcast.local.mail import Mailbox


def message(message_id: str, body: str) -> bytes:
    return (
        f"From: a@example.com\r\nTo: b@example.com\r\nSubject: Hi\r\n"
        f"Message-ID: {message_id}\r\n\r\n{body}\r\n"
    ).encode()


def test_a_message_sent_again_with_its_message_id_is_kept_once(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path / "mail")

    first = mailbox.deliver(message("<welcome-1@example.com>", "hello"))
    again = mailbox.deliver(message("<welcome-1@example.com>", "hello"))
    other = mailbox.deliver(message("<welcome-2@example.com>", "hello"))

    assert first == again != other
    assert len(mailbox.list()) == 2


def test_the_copy_kept_is_remembered_across_a_restart(tmp_path: Path) -> None:
    Mailbox(tmp_path / "mail").deliver(message("<welcome-1@example.com>", "hello"))

    Mailbox(tmp_path / "mail").deliver(message("<welcome-1@example.com>", "hello"))

    assert len(Mailbox(tmp_path / "mail").list()) == 1
