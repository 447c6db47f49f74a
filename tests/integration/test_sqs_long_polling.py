"""SQS's long polls at the local AWS endpoint: they wait without holding the worker
threads every other API needs, they wait the queue's own receive wait by default, and
they return a message as soon as it is sent."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.messaging_endpoint import MessagingCloud, messaging_cloud

# asyncio's default executor: min(32, CPUs + 4) workers (concurrent.futures.ThreadPoolExecutor).
DEFAULT_POOL_WORKERS = min(32, (os.cpu_count() or 1) + 4)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessagingCloud]:
    with messaging_cloud(tmp_path_factory.mktemp("sqs-polls")) as served:
        yield served


def _timed(call: Any) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_many_long_polls_leave_other_apis_answering_and_get_a_message_promptly(
    cloud: MessagingCloud,
) -> None:
    # Given more long polls on an empty queue than the server has default worker threads
    url = cloud.queue_url("shop-audit")
    pollers = DEFAULT_POOL_WORKERS + 6
    sqs = cloud.client("sqs", max_pool_connections=pollers + 2)
    got: list[tuple[float, list[str]]] = []

    def poll() -> None:
        answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)
        got.append((time.monotonic(), [m["Body"] for m in answer.get("Messages", [])]))

    threads = [threading.Thread(target=poll) for _ in range(pollers)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)

    # When other APIs are called meanwhile, and a message is sent
    s3_took = _timed(cloud.client("s3").list_buckets)
    sts_took = _timed(cloud.client("sts").get_caller_identity)
    sent_at = time.monotonic()
    cloud.client("sqs").send_message(QueueUrl=url, MessageBody="wake up")
    for thread in threads:
        thread.join()

    # Then they answer at once, and one poller gets the message soon after it was sent
    assert s3_took < 0.5
    assert sts_took < 0.5
    [(received_at, bodies)] = [entry for entry in got if entry[1]]
    assert bodies == ["wake up"]
    assert received_at - sent_at < 0.5
    assert len(got) == pollers


def test_a_receive_without_wait_time_waits_the_queues_receive_wait(
    cloud: MessagingCloud,
) -> None:
    url = cloud.queue_url("shop-patient")
    sqs = cloud.client("sqs")

    waited = _timed(lambda: sqs.receive_message(QueueUrl=url))
    short = _timed(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0))
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ReceiveMessageWaitTimeSeconds"]
    )["Attributes"]

    assert 0.9 < waited < 2.5
    assert short < 0.5
    assert attributes == {"ReceiveMessageWaitTimeSeconds": "1"}
    other = sqs.get_queue_attributes(QueueUrl=cloud.queue_url("shop-audit"), AttributeNames=["All"])
    assert other["Attributes"]["ReceiveMessageWaitTimeSeconds"] == "0"


def test_create_queue_compares_the_receive_wait_with_the_declaration(
    cloud: MessagingCloud,
) -> None:
    sqs = cloud.client("sqs")

    same = sqs.create_queue(
        QueueName="shop-patient", Attributes={"ReceiveMessageWaitTimeSeconds": "1"}
    )

    assert same["QueueUrl"] == cloud.queue_url("shop-patient")
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(
            QueueName="shop-patient", Attributes={"ReceiveMessageWaitTimeSeconds": "5"}
        )
