"""A SQLite table's stream → the dispatcher → a real worker process running the welcome
handler → the SMTP sink: exactly one welcome per subscriber, despite a batch whose result
was lost (so it is retried) and a dispatcher that lost its checkpoint (so everything is
delivered again)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.apps.blog.service import blog_table, service, welcome_function
from overcast.local.functions.invoker import FunctionError, FunctionInvoker
from overcast.local.mail import Mailbox, SmtpSink
from overcast.local.streams.change_log import LocalChangeLog
from overcast.local.streams.dispatcher import StreamDispatcher
from overcast.local.streams.store import StreamStore
from overcast.ports.tables.sqlite import SqliteTable
from overcast.runtime.adapters import table_path
from overcast.runtime.config import RuntimeConfig

pytestmark = pytest.mark.anyio
API = "https://127.0.0.1:4443/v1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class LosesFirstResult:
    """The real invoker, except that the first batch's result is lost after it ran."""

    def __init__(self, invoker: FunctionInvoker) -> None:
        self.invoker = invoker
        self.calls = 0

    def __contains__(self, function: object) -> bool:
        return function in self.invoker

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any:
        self.calls += 1
        result = await self.invoker.invoke(function, event)
        if self.calls == 1:
            raise FunctionError("Sandbox.Timedout", "the result was lost")
        return result


def dispatcher(table: SqliteTable, invoker: Any, store: StreamStore) -> StreamDispatcher:
    (trigger,) = [t for t in service.stream_triggers if t.function.name == "welcome"]
    log = LocalChangeLog(
        table, region="us-east-1", account_id="123456789012", table_name="blog-blog"
    )
    return StreamDispatcher(
        trigger,
        log,
        invoker,
        store,
        region="us-east-1",
        trigger_id="blog->welcome",
        retry_seconds=0.01,
    )


async def drain(running: StreamDispatcher) -> None:
    while await running.run_once():
        pass


async def test_every_subscriber_gets_exactly_one_welcome_despite_redeliveries(
    tmp_path: Path,
) -> None:
    mailbox = Mailbox(tmp_path / "mail")
    sink = SmtpSink(mailbox, port=0)
    await sink.start()
    config = RuntimeConfig(service="blog", data_dir=tmp_path, smtp_port=sink.port)
    variables = {"OVERCAST_RESOURCE_API_BLOG": API, "OVERCAST_RESOURCE_TABLE_BLOG": "blog-blog"}
    invoker = FunctionInvoker(
        "blog",
        [welcome_function],
        config.to_environ(),
        region="us-east-1",
        account_id="123456789012",
        concurrency=1,
        variables={"welcome": variables},
    )
    table = SqliteTable(blog_table, table_path(config, blog_table))
    emails = [f"reader{n}@example.com" for n in range(12)]
    try:
        for email in emails:
            table.put(
                {
                    "pk": f"SUBSCRIBER#{email}",
                    "sk": "SUBSCRIBER",
                    "email": email,
                    "source": "newsletter",
                    "unsubscribe_token": "t0k3n",
                    "subscribed_at": "2026-01-01T00:00:00Z",
                    "status": "subscribed",
                }
            )
        table.put({"pk": "PHOTO#1", "sk": "PHOTO", "status": "pending"})

        first_store = StreamStore(tmp_path / "streams-1.sqlite3")
        await drain(dispatcher(table, LosesFirstResult(invoker), first_store))
        # A dispatcher without the checkpoint delivers every record again.
        second_store = StreamStore(tmp_path / "streams-2.sqlite3")
        await drain(dispatcher(table, invoker, second_store))

        received = [mail.to for mail in mailbox.list()]
        assert sorted(received) == sorted((email,) for email in emails)
        assert first_store.failures() == []
        some = mailbox.get(mailbox.list()[0].id)
        assert "/api/subscriptions/unsubscribe?email=" in str(some.text)
        first_store.close()
        second_store.close()
    finally:
        table.close()
        await invoker.close()
        await sink.stop()
        await asyncio.sleep(0)
