"""Bucket notifications to topics and queues: objects created in a filesystem bucket reach
the cloud's SQLite messaging as S3's event message, at least once, whatever crashes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.local.events.dispatcher import ObjectEventDispatcher, subscriptions_of
from overcast.local.events.notifier import SUBJECT, MessagingNotifier
from overcast.ports.objects.filesystem import FilesystemBuckets
from overcast.ports.queues.exceptions import QueueUnavailable
from overcast.ports.queues.sqlite import SqliteMessaging
from tests.integration.test_s3_fixtures import ACCOUNT, REGION

SAMPLE = Path(__file__).parents[1] / "events" / "s3_put.json"
PHOTOS = spec.Bucket("photos")
UPLOADS = spec.Queue("uploads")
AUDIT = spec.Queue("audit")
RAW = spec.Queue("raw")
ARRIVALS = spec.Topic("arrivals")
BUCKET = "blog-photos"


def _service() -> spec.Service:
    return spec.Service(
        "blog",
        buckets=(PHOTOS,),
        queues=(UPLOADS, AUDIT, RAW),
        topics=(ARRIVALS,),
        subscriptions=(
            spec.Subscription(ARRIVALS, AUDIT),
            spec.Subscription(ARRIVALS, RAW, raw_message_delivery=True),
        ),
        object_notifications=(
            spec.ObjectCreatedNotification(PHOTOS, UPLOADS, prefix="uploads/", suffix=".jpg"),
            spec.ObjectCreatedNotification(PHOTOS, ARRIVALS, prefix="inbox/"),
        ),
    )


class FlakyNotifier:
    """Fails its first ``failures`` sends as the messaging store would, then sends."""

    def __init__(self, notifier: MessagingNotifier, failures: int) -> None:
        self.notifier = notifier
        self.failures = failures

    def send(self, target: spec.Topic | spec.Queue, message: str) -> None:
        if self.failures:
            self.failures -= 1
            raise QueueUnavailable("The local messaging store is locked.")
        self.notifier.send(target, message)


@pytest.fixture
def buckets(tmp_path: Path) -> FilesystemBuckets:
    made = FilesystemBuckets(tmp_path / "buckets")
    made.create(BUCKET)
    return made


@pytest.fixture
def messaging(tmp_path: Path) -> SqliteMessaging:
    made = SqliteMessaging(tmp_path / "messaging.sqlite3", region=REGION, account_id=ACCOUNT)
    made.declare(_service())
    return made


def dispatcher(buckets: FilesystemBuckets, notifier: Any, **options: Any) -> ObjectEventDispatcher:
    made = ObjectEventDispatcher(
        buckets,
        subscriptions_of(_service(), {"photos": BUCKET}),
        invoker=None,  # type: ignore[arg-type]  # no function is triggered
        region=REGION,
        account_id=ACCOUNT,
        retry_delays=(0.0, 0.0),
        notifier=notifier,
        **options,
    )
    made.configure()
    return made


def bodies(messaging: SqliteMessaging, queue: spec.Queue) -> list[str]:
    received = messaging.queue(spec.queue_name("blog", queue)).receive(10)
    return [message.body for message in received]


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def test_an_upload_reaches_the_queue_as_s3s_event_message(
    buckets: FilesystemBuckets, messaging: SqliteMessaging
) -> None:
    # Given a notification of .jpg uploads to a queue
    events = dispatcher(buckets, MessagingNotifier(messaging, "blog"))
    store = buckets.store(BUCKET)
    # When a matching and two unmatched objects are created
    store.put("uploads/red flower.jpg", b"0123456789")
    store.put("uploads/notes.txt", b"not a jpg")
    store.put("elsewhere/x.jpg", b"not under the prefix")
    assert asyncio.run(events.run_once()) == 1
    # Then the queue holds S3's event message, and only it
    [body] = bodies(messaging, UPLOADS)
    event = json.loads(body)
    assert shape(event) == shape(json.loads(SAMPLE.read_text()))
    [record] = event["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "blog-queue-uploads-0"
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{BUCKET}"
    assert record["s3"]["object"]["key"] == "uploads/red+flower.jpg"
    assert record["s3"]["object"]["size"] == 10
    assert bodies(messaging, AUDIT) == []  # the topic's prefix did not match
    assert asyncio.run(events.run_once()) == 0  # sent: the event is gone


def test_through_a_topic_each_subscription_gets_the_event_its_own_way(
    buckets: FilesystemBuckets, messaging: SqliteMessaging
) -> None:
    # Given a notification to a topic with an enveloped and a raw subscription
    events = dispatcher(buckets, MessagingNotifier(messaging, "blog"))
    # When an object is created under the topic's prefix
    buckets.store(BUCKET).put("inbox/letter.pdf", b"pdf")
    asyncio.run(events.run_once())
    # Then the enveloped queue gets SNS's notification whose Message is S3's event
    [enveloped] = bodies(messaging, AUDIT)
    notification = json.loads(enveloped)
    assert notification["Type"] == "Notification"
    assert notification["Subject"] == SUBJECT == "Amazon S3 Notification"
    assert notification["TopicArn"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:blog-arrivals"
    event = json.loads(notification["Message"])
    assert event["Records"][0]["s3"]["object"]["key"] == "inbox/letter.pdf"
    assert event["Records"][0]["s3"]["configurationId"] == "blog-topic-arrivals-1"
    # ... and the raw one the event itself
    [raw] = bodies(messaging, RAW)
    assert json.loads(raw) == event
    assert bodies(messaging, UPLOADS) == []


def test_a_send_that_fails_keeps_the_event_until_it_succeeds(
    buckets: FilesystemBuckets, messaging: SqliteMessaging
) -> None:
    # Given a messaging store that refuses the first two sends
    notifier = FlakyNotifier(MessagingNotifier(messaging, "blog"), failures=2)
    events = dispatcher(buckets, notifier)
    buckets.store(BUCKET).put("uploads/p.jpg", b"x")
    # When the dispatcher tries twice
    asyncio.run(events.run_once())
    asyncio.run(events.run_once())
    # Then nothing was sent, and the event waits with its error
    assert bodies(messaging, UPLOADS) == []
    [pending] = buckets.store(BUCKET).catalog.due_events(4_000_000_000.0, 10)
    assert pending.attempts == 2
    assert pending.error is not None
    assert "locked" in pending.error
    # ... and the third try sends it, once, and nothing is given up
    asyncio.run(events.run_once())
    assert len(bodies(messaging, UPLOADS)) == 1
    assert events.failures(BUCKET) == []


def test_a_dispatcher_killed_right_after_sending_loses_nothing(
    buckets: FilesystemBuckets, messaging: SqliteMessaging, tmp_path: Path
) -> None:
    # Given an event, and a dispatcher process killed as soon as its send committed
    after_restart = dispatcher(buckets, MessagingNotifier(messaging, "blog"))
    buckets.store(BUCKET).put("uploads/crash.jpg", b"body")
    killed = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from overcast.local.events.notifier import MessagingNotifier
        from overcast.ports.objects.filesystem import FilesystemBuckets
        from overcast.ports.queues.sqlite import SqliteMessaging
        from tests.integration.test_object_notifications import dispatcher

        class SendThenDie(MessagingNotifier):
            def send(self, target, message):
                super().send(target, message)
                os.kill(os.getpid(), signal.SIGKILL)

        messaging = SqliteMessaging({str(tmp_path / "messaging.sqlite3")!r})
        buckets = FilesystemBuckets({str(tmp_path / "buckets")!r})
        asyncio.run(dispatcher(buckets, SendThenDie(messaging, "blog")).run_once())
        """
    )
    root = Path(__file__).parents[2]
    done = subprocess.run([sys.executable, "-c", killed], check=False, timeout=60, cwd=root)
    assert done.returncode == -9
    # When the next dispatcher runs
    assert asyncio.run(after_restart.run_once()) == 1
    # Then the event was sent again: at least once, never lost
    keys = [
        json.loads(body)["Records"][0]["s3"]["object"]["key"] for body in bodies(messaging, UPLOADS)
    ]
    assert keys == ["uploads/crash.jpg", "uploads/crash.jpg"]
    assert asyncio.run(after_restart.run_once()) == 0


def test_notifications_without_a_notifier_are_refused_at_start(
    buckets: FilesystemBuckets,
) -> None:
    with pytest.raises(ValueError, match="notifier"):
        dispatcher(buckets, None)
