"""Object-created events: written with the object in the bucket's catalog, delivered by
the dispatcher as S3 notification events, retried as Lambda's async invocation."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from mypy_boto3_s3 import S3Client

from overcast import spec
from overcast.local.events.dispatcher import ObjectEventDispatcher, Subscription
from overcast.local.functions.invoker import FunctionError
from overcast.ports.objects.filesystem import FilesystemBuckets
from tests.integration.test_s3_fixtures import ACCOUNT, REGION, LocalS3

SAMPLE = Path(__file__).parents[1] / "events" / "s3_put.json"
photos = spec.Bucket("photos")
thumbnails = spec.Function("thumbnails", "overcast.apps.blog.thumbnails:handler")


class FakeInvoker:
    """Records what it is asked to invoke; fails the first ``failures`` times."""

    def __init__(self, failures: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.failures = failures

    def __contains__(self, function: object) -> bool:
        return True

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any:
        self.events.append(event)
        if self.failures:
            self.failures -= 1
            raise FunctionError("ValueError", "boom")
        return None


def trigger(**options: Any) -> spec.ObjectCreatedTrigger:
    return spec.ObjectCreatedTrigger(photos, thumbnails, prefix="uploads/", **options)


def dispatcher(
    buckets: FilesystemBuckets, bucket: str, invoker: FakeInvoker, **options: Any
) -> ObjectEventDispatcher:
    made = ObjectEventDispatcher(
        buckets,
        [Subscription(bucket, "thumbnails-on-photos", options.pop("trigger", trigger()))],
        invoker,
        region=REGION,
        account_id=ACCOUNT,
        retry_delays=(0.0, 0.0),
        **options,
    )
    made.configure()
    return made


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


@pytest.fixture
def buckets(tmp_path: Path) -> FilesystemBuckets:
    made = FilesystemBuckets(tmp_path / "buckets")
    made.create("blog-photos")
    return made


def test_an_object_created_under_the_prefix_is_delivered_in_aws_shape(
    buckets: FilesystemBuckets,
) -> None:
    invoker = FakeInvoker()
    events = dispatcher(buckets, "blog-photos", invoker)
    store = buckets.store("blog-photos")
    store.put("uploads/red flower=1.jpg", b"0123456789")
    store.put("thumbnails/x/160.jpg", b"not matched")
    assert asyncio.run(events.run_once()) == 1
    [event] = invoker.events
    sample = json.loads(SAMPLE.read_text())
    assert shape(event) == shape(sample)
    [record] = event["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::blog-photos"
    assert record["s3"]["configurationId"] == "thumbnails-on-photos"
    assert record["s3"]["object"]["key"] == "uploads/red+flower%3D1.jpg"
    assert record["s3"]["object"]["size"] == 10
    assert record["s3"]["object"]["eTag"] == store.head("uploads/red flower=1.jpg").etag
    assert record["eventTime"].endswith("Z")
    assert asyncio.run(events.run_once()) == 0  # delivered: gone


def test_sequencers_grow_with_each_write_of_a_key(buckets: FilesystemBuckets) -> None:
    invoker = FakeInvoker()
    events = dispatcher(buckets, "blog-photos", invoker)
    for body in (b"a", b"bb", b"ccc"):
        buckets.store("blog-photos").put("uploads/p", body)
    asyncio.run(events.run_once())
    sequencers = [e["Records"][0]["s3"]["object"]["sequencer"] for e in invoker.events]
    assert len(sequencers) == 3
    assert sorted(sequencers) == sorted(set(sequencers))


def test_a_failing_function_is_tried_three_times_then_stored_as_failed(
    buckets: FilesystemBuckets,
) -> None:
    invoker = FakeInvoker(failures=5)
    events = dispatcher(buckets, "blog-photos", invoker)
    buckets.store("blog-photos").put("uploads/p", b"x")
    for _ in range(4):
        asyncio.run(events.run_once())
    assert len(invoker.events) == 3  # the first attempt and Lambda's 2 retries
    [(failed, condition)] = events.failures("blog-photos")
    assert (failed.key, condition, failed.attempts) == ("uploads/p", "RetriesExhausted", 3)
    assert failed.error is not None
    assert "boom" in failed.error


def test_a_function_that_recovers_gets_the_event_once_more(buckets: FilesystemBuckets) -> None:
    invoker = FakeInvoker(failures=1)
    events = dispatcher(buckets, "blog-photos", invoker, trigger=trigger(maximum_retry_attempts=1))
    buckets.store("blog-photos").put("uploads/p", b"x")
    for _ in range(3):
        asyncio.run(events.run_once())
    assert len(invoker.events) == 2
    assert events.failures("blog-photos") == []


def test_an_event_older_than_its_maximum_age_is_dropped_to_the_failure_store(
    buckets: FilesystemBuckets,
) -> None:
    invoker = FakeInvoker()
    buckets.store("blog-photos")  # opened before the clock moves
    events = dispatcher(
        buckets,
        "blog-photos",
        invoker,
        trigger=trigger(maximum_event_age_seconds=60),
        clock=lambda: 4_000_000_000.0,  # far in the future
    )
    buckets.store("blog-photos").put("uploads/p", b"x")
    asyncio.run(events.run_once())
    assert invoker.events == []
    [(_, condition)] = events.failures("blog-photos")
    assert condition == "EventAgeExceeded"


def test_an_event_written_by_a_process_killed_right_after_is_delivered(
    buckets: FilesystemBuckets, tmp_path: Path
) -> None:
    invoker = FakeInvoker()
    events = dispatcher(buckets, "blog-photos", invoker)
    writer = textwrap.dedent(
        f"""
        import os, signal
        from overcast.ports.objects.filesystem import FilesystemBuckets
        FilesystemBuckets({str(tmp_path / "buckets")!r}).store("blog-photos").put(
            "uploads/crash", b"body")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", writer], check=False, timeout=60)
    assert done.returncode == -9
    asyncio.run(events.run_once())
    keys = [e["Records"][0]["s3"]["object"]["key"] for e in invoker.events]
    assert keys == ["uploads/crash"]


def test_objects_created_through_the_s3_endpoint_name_how(tmp_path: Path) -> None:
    invoker = FakeInvoker()
    with LocalS3(tmp_path).serve() as s3:
        client: S3Client = s3.client()
        client.create_bucket(Bucket="blog-photos")
        events = dispatcher(s3.buckets, "blog-photos", invoker)
        client.put_object(Bucket="blog-photos", Key="uploads/put", Body=b"x")
        client.copy_object(
            Bucket="blog-photos", Key="uploads/copy", CopySource="blog-photos/uploads/put"
        )
        upload = client.create_multipart_upload(Bucket="blog-photos", Key="uploads/multi")
        part = client.upload_part(
            Bucket="blog-photos",
            Key="uploads/multi",
            UploadId=upload["UploadId"],
            PartNumber=1,
            Body=b"y",
        )
        client.complete_multipart_upload(
            Bucket="blog-photos",
            Key="uploads/multi",
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        asyncio.run(events.run_once())
    records = [e["Records"][0] for e in invoker.events]
    assert [(r["s3"]["object"]["key"], r["eventName"]) for r in records] == [
        ("uploads/put", "ObjectCreated:Put"),
        ("uploads/copy", "ObjectCreated:Copy"),
        ("uploads/multi", "ObjectCreated:CompleteMultipartUpload"),
    ]
    assert {r["userIdentity"]["principalId"] for r in records} == {f"AWS:{ACCOUNT}"}
    assert {r["requestParameters"]["sourceIPAddress"] for r in records} == {"127.0.0.1"}
    assert all(len(r["responseElements"]["x-amz-request-id"]) > 0 for r in records)


def test_the_background_loop_delivers_new_writes_and_stops_when_told(
    buckets: FilesystemBuckets,
) -> None:
    invoker = FakeInvoker()
    events = dispatcher(buckets, "blog-photos", invoker, poll_seconds=0.01)

    async def scenario() -> None:
        running = asyncio.create_task(events.run_until(lambda: len(invoker.events) >= 1))
        await asyncio.to_thread(buckets.store("blog-photos").put, "uploads/later", b"x")
        await asyncio.wait_for(running, timeout=10)

    asyncio.run(scenario())
    assert [e["Records"][0]["s3"]["object"]["key"] for e in invoker.events] == ["uploads/later"]
