"""Mailbox (a real Maildir on disk) and its terminal rendering."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from email.utils import make_msgid
from pathlib import Path

import pytest
from rich.console import Console

from overcast.local.mail import Mailbox, MailNotFound
from overcast.local.mail.render import lookup, print_mail, print_mail_list
from overcast.ports.mail import Email
from overcast.ports.mail.smtp import build_message


def raw_mail(
    subject: str = "Hello", to: tuple[str, ...] = ("ann@example.com",), html: str | None = None
) -> bytes:
    email = Email("app@example.com", to, subject, f"Body of {subject}\n", html)
    return build_message(email, make_msgid(domain="example.com"), datetime.now(UTC)).as_bytes()


def test_a_delivered_message_can_be_read_back_by_id(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)

    message_id = mailbox.deliver(raw_mail("Welcome", html="<p>Hi</p>"))

    stored = mailbox.get(message_id)
    assert (stored.id, stored.subject, stored.sender) == (message_id, "Welcome", "app@example.com")
    assert stored.to == ("ann@example.com",)
    assert stored.text == "Body of Welcome\n"
    assert stored.html == "<p>Hi</p>\n"
    assert b"\r\n" not in stored.raw  # stored with the host's line endings, as an MDA does
    assert (tmp_path / "new" / message_id).is_file()


def test_messages_are_listed_oldest_first_with_aware_times(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    for subject in ("one", "two", "three", "four"):
        mailbox.deliver(raw_mail(subject))

    summaries = mailbox.list()

    assert [summary.subject for summary in summaries] == ["one", "two", "three", "four"]
    times = [summary.received_at for summary in summaries]
    assert times == sorted(times)
    assert all(moment.tzinfo is not None for moment in times)


def test_another_reader_sees_new_mail_and_never_a_half_written_one(tmp_path: Path) -> None:
    reader = Mailbox(tmp_path)
    assert reader.list() == []
    (tmp_path / "tmp" / "123.M1P1Q1.host").write_bytes(b"Subject: half")  # mid-delivery

    Mailbox(tmp_path).deliver(raw_mail("arrived"))

    assert [summary.subject for summary in reader.list()] == ["arrived"]


def test_an_unknown_id_raises_a_clear_not_found(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    mailbox.deliver(raw_mail())

    with pytest.raises(MailNotFound) as caught:
        mailbox.get("1234.nope")

    assert isinstance(caught.value, KeyError)
    assert str(caught.value).startswith("No message '1234.nope' in the mailbox at")


@pytest.mark.parametrize("sneaky", ["../../etc/passwd", "new/x", "", "/etc/passwd"])
def test_an_id_cannot_reach_outside_the_mailbox(tmp_path: Path, sneaky: str) -> None:
    mailbox = Mailbox(tmp_path / "mail")
    (tmp_path / "secret").write_bytes(b"Subject: secret\n\nsecret")

    with pytest.raises(MailNotFound):
        mailbox.get(sneaky)


def test_find_matches_recipient_and_subject_case_insensitively(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    mailbox.deliver(raw_mail("Your verification code", to=("Ann@Example.com",)))
    mailbox.deliver(raw_mail("Welcome to the blog", to=("ann@example.com", "bob@example.com")))
    mailbox.deliver(raw_mail("Your verification code", to=("bob@example.com",)))

    for_ann = mailbox.find(to="ann@example.com")
    codes_for_bob = mailbox.find(to="bob@example.com", subject_contains="VERIFICATION")

    assert [mail.subject for mail in for_ann] == ["Your verification code", "Welcome to the blog"]
    assert [mail.to for mail in codes_for_bob] == [("bob@example.com",)]
    assert len(mailbox.find()) == 3


def test_clear_deletes_every_message_for_every_reader(tmp_path: Path) -> None:
    writer, reader = Mailbox(tmp_path), Mailbox(tmp_path)
    writer.deliver(raw_mail("a"))
    writer.deliver(raw_mail("b"))
    assert len(reader.list()) == 2

    writer.clear()

    assert reader.list() == []
    assert writer.find() == []


def test_concurrent_deliveries_all_land_with_distinct_ids(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    ids: list[str] = []
    start = threading.Barrier(6)

    def deliver_some(worker: int) -> None:
        start.wait()
        for n in range(10):
            ids.append(mailbox.deliver(raw_mail(f"w{worker}-{n}")))

    threads = [threading.Thread(target=deliver_some, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 60
    assert len(mailbox.list()) == 60


def test_a_message_with_an_unknown_charset_is_still_readable(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    raw = (
        b"From: x@example.com\nTo: y@example.com\nSubject: odd\n"
        b'Content-Type: text/plain; charset="x-no-such-charset"\n\nplain words\n'
    )

    stored = mailbox.get(mailbox.deliver(raw))

    assert stored.text == "plain words\n"


def test_the_list_is_a_table_numbered_from_the_oldest(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    mailbox.deliver(raw_mail("older"))
    mailbox.deliver(raw_mail("newer", to=("ann@example.com", "bob@example.com")))
    console = Console(record=True, width=160)

    print_mail_list(mailbox, console)

    lines = console.export_text().splitlines()
    older = next(line for line in lines if "older" in line)
    newer = next(line for line in lines if "newer" in line)
    assert older.split()[1] == "1"
    assert newer.split()[1] == "2"
    assert "ann@example.com, bob@example.com" in newer
    assert "app@example.com" in newer


def test_an_empty_mailbox_says_so(tmp_path: Path) -> None:
    console = Console(record=True, width=160)

    print_mail_list(Mailbox(tmp_path), console)

    assert console.export_text().startswith("No mail yet.")


def test_mail_text_is_never_read_as_markup(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    mailbox.deliver(raw_mail("[bold red]urgent[/]"))
    console = Console(record=True, width=160)

    print_mail_list(mailbox, console)
    print_mail(mailbox, "1", console)

    assert console.export_text().count("[bold red]urgent[/]") == 3  # list, subject, body


def test_show_accepts_the_list_number_or_the_id(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    mailbox.deliver(raw_mail("first"))
    second = mailbox.deliver(raw_mail("second"))
    by_number, by_id = Console(record=True, width=160), Console(record=True, width=160)

    print_mail(mailbox, "2", by_number)
    print_mail(mailbox, second, by_id)

    shown = by_id.export_text()
    assert by_number.export_text() == shown
    assert "Body of second" in shown
    assert lookup(mailbox, "1").subject == "first"


@pytest.mark.parametrize("reference", ["0", "3", "99"])
def test_show_of_a_number_outside_the_list_says_how_many_there_are(
    tmp_path: Path, reference: str
) -> None:
    mailbox = Mailbox(tmp_path)
    mailbox.deliver(raw_mail("a"))
    mailbox.deliver(raw_mail("b"))

    with pytest.raises(MailNotFound, match="the mailbox holds 2 message"):
        print_mail(mailbox, reference, Console(record=True))


def test_show_of_an_html_only_message_prints_the_html(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    raw = b"From: x@example.com\nTo: y@example.com\nContent-Type: text/html\n\n<p>Hi</p>\n"
    mailbox.deliver(raw)
    console = Console(record=True, width=160)

    print_mail(mailbox, "1", console)

    output = console.export_text()
    assert "no plain-text body" in output
    assert "<p>Hi</p>" in output
