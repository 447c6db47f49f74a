"""MemoryMailer: the in-memory fake of the mail port."""

from __future__ import annotations

import threading

import pytest

from overcast.ports.mail import Email, MailUnavailable
from overcast.ports.mail.memory import MemoryMailer


def welcome(to: str = "reader@example.com") -> Email:
    return Email(
        sender="blog@example.com",
        to=(to,),
        subject="Welcome",
        text="Thanks for subscribing.",
        html="<p>Thanks for subscribing.</p>",
    )


def test_a_sent_message_is_recorded_with_its_id() -> None:
    mailer = MemoryMailer()

    message_id = mailer.send(welcome())

    assert mailer.sent == [welcome()]
    assert mailer.ids == [message_id]


def test_each_message_gets_its_own_id_and_order_is_kept() -> None:
    mailer = MemoryMailer()

    first = mailer.send(welcome("ann@example.com"))
    second = mailer.send(welcome("bob@example.com"))

    assert first != second
    assert [email.to for email in mailer.sent] == [("ann@example.com",), ("bob@example.com",)]


def test_concurrent_senders_lose_no_message() -> None:
    mailer = MemoryMailer()
    start = threading.Barrier(8)

    def send_many(worker: int) -> None:
        start.wait()
        for n in range(50):
            mailer.send(welcome(f"user{worker}-{n}@example.com"))

    threads = [threading.Thread(target=send_many, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(mailer.sent) == 400
    assert len(set(mailer.ids)) == 400
    assert len({email.to for email in mailer.sent}) == 400


def test_a_failing_mailer_raises_and_records_nothing() -> None:
    mailer = MemoryMailer(fail_with=MailUnavailable("the mail server is down"))

    with pytest.raises(MailUnavailable, match="down"):
        mailer.send(welcome())

    assert mailer.sent == []
