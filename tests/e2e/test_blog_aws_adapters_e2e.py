"""MyBlog end to end with the AWS adapters: both worlds pass the same scenarios.

The local cloud keeps its tables in moto's server (``--dynamodb-endpoint``), reads the
stream triggers' records from moto's DynamoDB Streams, and sends the functions' mail
through SES v2 to moto (``--ses-endpoint``); the user pool, the gateway, the topics and
queues stay the local cloud's. The scenarios of ``test_blog_e2e.py`` and
``test_blog_newsletter_e2e.py`` that involve tables, streams and mail run here again:
they read mail through ``inbox`` (here moto's SES) and items through ``blog_item``
(here moto's table).

Photos and thumbnails stay on the local cloud's S3: moto cannot invoke a local function
on an S3 event, so the photo scenarios are not repeated here.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from overcast.apps.blog.service import blog_table
from overcast.local.endpoints import Endpoints
from overcast.local.mail import Mailbox
from overcast.local.streams.store import Checkpoint, StreamStore, store_path
from overcast.ports.tables.dynamodb import DynamoDbTable
from tests.cloud_process import CloudProcess
from tests.e2e.conftest import SAMPLE_PROJECT, Inbox, ItemReader
from tests.e2e.moto_world import MotoInbox, moto_client
from tests.e2e.test_blog_e2e import (  # noqa: F401  (the same scenarios run here)
    test_a_newsletter_subscriber_gets_one_welcome_whose_link_unsubscribes,
    test_a_newsletter_subscription_and_its_unsubscribe_link,
    test_readers_register_sign_in_write_favorite_comment_and_follow,
)
from tests.e2e.test_blog_newsletter_e2e import (  # noqa: F401  (likewise)
    test_a_published_article_mails_each_subscribed_reader_once_and_appears_on_the_cdn,
    test_an_authors_rename_reaches_their_article_page_on_the_cdn,
    test_an_edited_article_is_rendered_again_and_mails_no_one,
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, moto_server: str) -> Iterator[CloudProcess]:
    """A local cloud whose tables and mail are moto's (overrides the session's cloud)."""
    data_dir = tmp_path_factory.mktemp("blog-aws-adapters") / "data"
    options = ["--dynamodb-endpoint", moto_server, "--ses-endpoint", moto_server]
    process = CloudProcess(data_dir, SAMPLE_PROJECT, ["--quiet", *options])
    process.start()
    yield process
    assert process.stop() == 0, process.output()


@pytest.fixture(scope="module")
def endpoints(cloud: CloudProcess) -> Endpoints:
    assert cloud.endpoints is not None
    return cloud.endpoints


@pytest.fixture(scope="module")
def moto_dynamodb(moto_server: str) -> Any:
    return moto_client("dynamodb", moto_server)


@pytest.fixture
def inbox(moto_server: str) -> Inbox:
    """The functions' mail: what moto's SES sent."""
    return MotoInbox()


@pytest.fixture
def blog_item(moto_dynamodb: Any) -> ItemReader:
    """Reads one item of the blog's table in moto, strongly consistent."""
    table = DynamoDbTable(blog_table, "blog-blog", moto_dynamodb)

    def read(key: Mapping[str, Any]) -> dict[str, Any] | None:
        return table.get(dict(key), consistent=True)

    return read


def _subscribe(https: httpx.Client, endpoints: Endpoints, email: str) -> None:
    api = endpoints.services["blog"].api
    assert api is not None
    response = https.post(f"{api}/api/subscriptions", json={"email": email})
    assert response.status_code == 201, response.text


def _wait_for(found: Any, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := found()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def test_a_subscriber_lands_in_dynamodb_and_no_sqlite_table_is_written(
    endpoints: Endpoints, https: httpx.Client, cloud: CloudProcess, moto_dynamodb: Any
) -> None:
    # Given the cloud created the blog's table, with its stream, in moto at start
    described = moto_dynamodb.describe_table(TableName="blog-blog")["Table"]
    assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"

    # When a reader subscribes through the API
    email = f"in-moto-{secrets.token_hex(3)}@example.com"
    _subscribe(https, endpoints, email)

    # Then the subscriber is in moto's table, and the welcome trigger marked it welcomed
    def welcomed() -> Any:
        key = {"pk": {"S": f"SUBSCRIBER#{email}"}, "sk": {"S": "WELCOMED"}}
        return moto_dynamodb.get_item(TableName="blog-blog", Key=key).get("Item")

    key = {"pk": {"S": f"SUBSCRIBER#{email}"}, "sk": {"S": "SUBSCRIBER"}}
    assert "Item" in moto_dynamodb.get_item(TableName="blog-blog", Key=key)
    assert _wait_for(welcomed), cloud.output()[-3000:]
    # And the local cloud wrote no SQLite table for the blog
    assert not list((cloud.data_dir / "tables").glob("blog/*.sqlite3"))


def test_the_welcome_mail_goes_through_ses_not_the_local_mailbox(
    endpoints: Endpoints, https: httpx.Client, cloud: CloudProcess
) -> None:
    # Given a reader who subscribes
    email = f"welcome-ses-{secrets.token_hex(3)}@example.com"
    _subscribe(https, endpoints, email)

    # When the welcome trigger (on moto's stream) has run
    sent = _wait_for(lambda: MotoInbox().find(to=email))

    # Then moto's SES sent it, from the blog's declared identity, and the mailbox has none
    assert [mail.sender.rpartition("@")[2].rstrip(">") for mail in sent] == ["myblog.com"]
    assert Mailbox(cloud.data_dir / "mail").find(to=email) == []


def test_the_triggers_checkpoint_dynamodbs_long_sequence_numbers_exactly(
    endpoints: Endpoints, https: httpx.Client, cloud: CloudProcess, moto_dynamodb: Any
) -> None:
    # Given a subscriber whose record the welcome trigger has read from moto's stream
    email = f"checkpoint-{secrets.token_hex(3)}@example.com"
    _subscribe(https, endpoints, email)
    assert _wait_for(lambda: MotoInbox().find(to=email))
    arn = moto_dynamodb.describe_table(TableName="blog-blog")["Table"]["LatestStreamArn"]
    streams = moto_streams(moto_dynamodb)

    # When the trigger is done with every record of the stream (the welcome marker too)
    def caught_up() -> tuple[str, int] | None:
        sequences = stream_sequences(streams, arn)
        saved = saved_checkpoint(cloud)
        if saved is None or saved.sequence != sequences[-1]:
            return None
        return saved.stream, saved.sequence

    done = _wait_for(caught_up)

    # Then its checkpoint is, digit for digit, the SequenceNumber of the last record it
    # consumed (beyond 64 bits), kept with the stream's ARN; the subscriber's is before it
    assert done, (saved_checkpoint(cloud), stream_sequences(streams, arn)[-3:])
    stream, checkpoint = done
    assert stream == arn
    assert checkpoint > 2**63
    key = f"SUBSCRIBER#{email}"
    mine = [sequence for sequence, pk in stream_records(streams, arn) if pk == key]
    assert mine
    assert mine[0] <= checkpoint


def moto_streams(client: Any) -> Any:
    return moto_client("dynamodbstreams", str(client.meta.endpoint_url))


def stream_records(streams: Any, arn: str) -> list[tuple[int, str]]:
    """Every record of the stream's (single) shard: its exact SequenceNumber and pk."""
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    found: list[tuple[int, str]] = []
    while True:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = page["Records"]
        found += [
            (int(r["dynamodb"]["SequenceNumber"]), r["dynamodb"]["Keys"]["pk"]["S"])
            for r in records
        ]
        if not records:
            return found
        iterator = page["NextShardIterator"]


def stream_sequences(streams: Any, arn: str) -> list[int]:
    return [sequence for sequence, _ in stream_records(streams, arn)]


def saved_checkpoint(cloud: CloudProcess) -> Checkpoint | None:
    store = StreamStore(store_path(cloud.data_dir, "blog"))
    try:
        return store.saved_checkpoint("blog->welcome")
    finally:
        store.close()
