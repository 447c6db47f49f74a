"""Welcome emails end to end: the blog API (or any writer) → the table's stream → the
dispatcher in ``overcast up`` → the welcome function's worker → the SMTP sink. Exactly
one email per subscriber for 50 subscriptions at once, and across a kill -9 of the
local cloud in the middle of delivering: the email in flight when the sink died may be
sent again, but with the same Message-ID, which the mailbox keeps once (see
``welcome.py``)."""

from __future__ import annotations

import ssl
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from overcast.apps.blog.service import blog_table
from overcast.local.mail import Mailbox
from overcast.ports.tables.sqlite import SqliteTable
from tests.cloud_process import CloudProcess
from tests.e2e.conftest import SAMPLE_PROJECT


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def welcomed(data_dir: Path) -> Counter[str]:
    mails = Mailbox(data_dir / "mail").list()
    return Counter(to for mail in mails if mail.subject.startswith("Welcome") for to in mail.to)


def wait_for_mail(data_dir: Path, count: int, seconds: float = 30.0) -> Counter[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = welcomed(data_dir)
        if sum(found.values()) >= count:
            return found
        time.sleep(0.05)
    return welcomed(data_dir)


def subscriber(email: str) -> dict[str, str]:
    return {
        "pk": f"SUBSCRIBER#{email}",
        "sk": "SUBSCRIBER",
        "email": email,
        "source": "newsletter",
        "unsubscribe_token": "t",
        "subscribed_at": "2026-01-01T00:00:00Z",
        "status": "subscribed",
    }


def test_fifty_subscriptions_at_once_get_fifty_welcomes(data_dir: Path) -> None:
    cloud = CloudProcess(data_dir, SAMPLE_PROJECT, ["--quiet"])
    endpoints = cloud.start()
    try:
        api = endpoints.services["blog"].api
        emails = [f"fifty-{n}@example.com" for n in range(50)]
        trusting = ssl.create_default_context(cafile=endpoints.ca_bundle)
        with httpx.Client(verify=trusting, timeout=30) as https:

            def subscribe(email: str) -> int:
                return https.post(f"{api}/api/subscriptions", json={"email": email}).status_code

            with ThreadPoolExecutor(10) as pool:
                statuses = list(pool.map(subscribe, emails))
        found = wait_for_mail(data_dir, 50)
        time.sleep(0.5)  # a duplicate would arrive about now
        found = welcomed(data_dir)
    finally:
        assert cloud.stop() == 0, cloud.output()

    assert statuses == [201] * 50
    assert found == Counter(emails)


def test_a_kill_9_mid_delivery_still_ends_with_one_welcome_each(data_dir: Path) -> None:
    cloud = CloudProcess(data_dir, SAMPLE_PROJECT, ["--quiet"])
    cloud.start()
    emails = [f"crash-{n}@example.com" for n in range(60)]
    table = SqliteTable(blog_table, data_dir / "tables" / "blog" / "blog.sqlite3")
    try:
        for email in emails:
            table.put(subscriber(email))
        wait_for_mail(data_dir, 5)
        assert cloud.process is not None
        cloud.process.kill()  # SIGKILL: no shutdown, workers orphaned mid-batch
        cloud.process.wait()
        before = sum(welcomed(data_dir).values())

        again = CloudProcess(data_dir, SAMPLE_PROJECT, ["--quiet"])
        again.start()
        try:
            wait_for_mail(data_dir, 60)
            time.sleep(0.5)
            found = welcomed(data_dir)
        finally:
            assert again.stop() == 0, again.output()
    finally:
        table.close()
        if cloud.process is not None and cloud.process.poll() is None:
            cloud.process.kill()

    assert before < 60, "the kill came too late to test anything"
    assert set(found) == set(emails)  # nobody is left without a welcome
    assert sum(found.values()) == len(emails), found.most_common(3)  # exactly one each
