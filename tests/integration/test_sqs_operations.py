"""The SQS and SNS operations over a real SQLite messaging store, apart from HTTPS: a
store that fails answers 503 and changes nothing, a failed purge does not start the
purge interval, an older store's queues still load, and a client that hangs up ends
its long poll."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.types import Message, Scope

import overcast.local.identity  # noqa: F401  (before wire: wire and identity import each other)
from overcast import spec
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.principals import Principal
from overcast.local.sns import errors as sns_errors
from overcast.local.sns.operations import SnsOperations
from overcast.local.sqs import errors
from overcast.local.sqs.app import SqsApi
from overcast.local.sqs.inventory import MessagingInventory
from overcast.local.sqs.operations import SqsOperations
from overcast.ports.queues.exceptions import QueueUnavailable
from overcast.ports.queues.sqlite import SqliteMessaging, SqliteStore

ACCOUNT = "000000000000"
ROOT = Principal(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, ACCOUNT, is_root=True)
work = spec.Queue("work")
news = spec.Topic("news")
service = spec.Service(
    "svc", queues=(work,), topics=(news,), subscriptions=(spec.Subscription(news, work),)
)
URL = f"https://local/{ACCOUNT}/svc-work"


class PurgeFailsOnce(MessagingInventory):
    """The real inventory, whose first purge fails as a locked store would."""

    failed = False

    def purge(self, queue: str) -> int:
        if not self.failed:
            self.failed = True
            raise QueueUnavailable("The local messaging store is locked.")
        return super().purge(queue)


class RootSigner:
    """Every request is the root user's (signatures are tested elsewhere)."""

    def authenticate(self, scope: Scope, body: bytes, errors: object) -> Principal:
        return ROOT


@pytest.fixture
def messaging(tmp_path: Path) -> SqliteMessaging:
    store = SqliteMessaging(tmp_path / "messaging.sqlite3")
    store.declare(service)
    return store


def _operations(messaging: SqliteMessaging, inventory: MessagingInventory) -> SqsOperations:
    evaluator = PolicyEvaluator(lambda: datetime.now(UTC))
    return SqsOperations(messaging, inventory, evaluator, endpoint="https://local", clock=time.time)


def _broken_inventory(tmp_path: Path) -> MessagingInventory:
    (tmp_path / "not-a-folder").write_text("a file where the store's folder should be")
    return MessagingInventory(SqliteStore(tmp_path / "not-a-folder" / "messaging.sqlite3"))


def test_a_failing_store_is_service_unavailable_for_every_sqs_listing_and_count(
    messaging: SqliteMessaging, tmp_path: Path
) -> None:
    sqs = _operations(messaging, _broken_inventory(tmp_path))

    calls = [
        lambda: sqs.list_queues(ROOT, {}),
        lambda: sqs.get_queue_attributes(ROOT, {"QueueUrl": URL, "AttributeNames": ["All"]}),
        lambda: sqs.create_queue(ROOT, {"QueueName": "svc-work"}),
        lambda: sqs.purge_queue(ROOT, {"QueueUrl": URL}),
    ]
    for call in calls:
        with pytest.raises(errors.ServiceUnavailable) as caught:
            call()
        assert caught.value.status == 503


def test_a_failing_store_is_service_unavailable_for_sns_listings(
    messaging: SqliteMessaging, tmp_path: Path
) -> None:
    evaluator = PolicyEvaluator(lambda: datetime.now(UTC))
    sns = SnsOperations(messaging, _broken_inventory(tmp_path), evaluator)
    arn = messaging.arn("sns", "svc-news")

    calls = [
        lambda: sns.list_topics(ROOT, {}),
        lambda: sns.list_subscriptions(ROOT, {}),
        lambda: sns.get_topic_attributes(ROOT, {"TopicArn": arn}),
        lambda: sns.create_topic(ROOT, {"Name": "svc-news"}),
    ]
    for call in calls:
        with pytest.raises(sns_errors.ServiceUnavailable) as caught:
            call()
        assert caught.value.status == 503


def test_a_failed_purge_purges_nothing_and_does_not_start_the_interval(
    messaging: SqliteMessaging,
) -> None:
    sqs = _operations(messaging, PurgeFailsOnce(messaging.sqlite))
    sqs.send_message(ROOT, {"QueueUrl": URL, "MessageBody": "keep me"})

    with pytest.raises(errors.ServiceUnavailable):
        sqs.purge_queue(ROOT, {"QueueUrl": URL})
    counts = sqs.get_queue_attributes(ROOT, {"QueueUrl": URL, "AttributeNames": ["All"]})
    assert counts["Attributes"]["ApproximateNumberOfMessages"] == "1"

    assert sqs.purge_queue(ROOT, {"QueueUrl": URL}) == {}
    with pytest.raises(errors.PurgeQueueInProgress):
        sqs.purge_queue(ROOT, {"QueueUrl": URL})


def test_a_queue_kept_by_an_older_store_loads_with_no_receive_wait(
    messaging: SqliteMessaging,
) -> None:
    with messaging.sqlite.transaction() as transaction:
        [text] = transaction.connection.execute("SELECT config FROM queues").fetchone()
        old = {k: v for k, v in json.loads(text).items() if k != "receive_wait_seconds"}
        transaction.connection.execute("UPDATE queues SET config = ?", (json.dumps(old),))

    queue = messaging.queue("svc-work")

    assert queue.config.receive_wait_seconds == 0
    assert queue.config.name == "svc-work"


def test_a_client_that_hangs_up_ends_its_long_poll(messaging: SqliteMessaging) -> None:
    api = SqsApi(
        _operations(messaging, MessagingInventory(messaging.sqlite)),
        RootSigner(),  # type: ignore[arg-type]
        poll_seconds=0.02,
    )
    body = json.dumps({"QueueUrl": URL, "WaitTimeSeconds": 10}).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"x-amz-target", b"AmazonSQS.ReceiveMessage")],
    }
    sent: list[Message] = []

    async def serve() -> float:
        started = time.monotonic()
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> Message:
            if pending:
                return pending.pop()
            if time.monotonic() - started < 0.3:
                await asyncio.sleep(3600)  # still connected
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        await api(scope, receive, send)
        return time.monotonic() - started

    elapsed = asyncio.run(serve())

    assert 0.25 < elapsed < 2
    assert sent[0]["status"] == 200
    assert json.loads(sent[-1]["body"]) == {}
