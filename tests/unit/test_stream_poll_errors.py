"""A dispatcher whose stream cannot be read backs off and says so once; the local cloud
starts even when the DynamoDB endpoint holding its tables is down."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.local.streams import ServiceStreams
from overcast.local.streams.change_log import RemoteStreams
from overcast.local.streams.dispatcher import StreamDispatcher
from overcast.local.streams.poll_errors import PollErrors
from overcast.local.streams.store import StreamStore
from overcast.ports.tables.exceptions import TableUnavailable
from overcast.ports.tables.stream import ChangeRecord

TABLE = spec.Table("notes", spec.Key("pk"), stream="KEYS_ONLY")
FUNCTION = spec.Function("react", "tests.fixtures.handlers:echo")
TRIGGER = spec.StreamTrigger(TABLE, FUNCTION)
SERVICE = spec.Service(
    name="notes", tables=(TABLE,), functions=(FUNCTION,), stream_triggers=(TRIGGER,)
)
LOGGER = "overcast.local.streams.dispatcher"


class FlakyLog:
    """A change log that fails ``failures`` times (with ``error``), then has no records."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error

    def stream_arn(self) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return "arn:aws:dynamodb:us-east-1:1:table/notes/stream/x"

    def stream_records(self, after: int = 0, limit: int = 1000) -> list[ChangeRecord]:
        return []

    def trim_stream(self, before: float) -> int:
        return 0


class NoInvoker:
    def __contains__(self, function: object) -> bool:
        return True

    async def invoke(self, function: spec.Function, event: Any, **options: Any) -> Any:
        raise AssertionError("nothing to deliver")


def run_polls(log: FlakyLog, store: StreamStore, polls: int) -> list[float]:
    """Run the dispatcher's loop until it slept ``polls`` times; the sleeps."""
    sleeps: list[float] = []

    async def main() -> None:
        done = asyncio.Event()

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) == polls:
                done.set()
            await asyncio.sleep(0)

        dispatcher = StreamDispatcher(
            TRIGGER,
            log,
            NoInvoker(),  # type: ignore[arg-type]
            store,
            region="us-east-1",
            trigger_id="notes->react",
            sleep=sleep,
            poll_seconds=0.05,
        )
        dispatcher.start()
        await done.wait()
        await dispatcher.stop()

    asyncio.run(main())
    return sleeps[:polls]


def test_an_unreachable_stream_is_polled_with_growing_delays_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a stream whose endpoint is down for 9 polls
    store = StreamStore(tmp_path / "streams.sqlite3")
    log = FlakyLog(9, TableUnavailable("Could not connect to the endpoint URL"))

    # When the dispatcher runs
    with caplog.at_level(logging.INFO, logger=LOGGER):
        sleeps = run_polls(log, store, 11)
    store.close()

    # Then it waits longer after each failure (capped at 30 s), then polls as usual
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 0.05, 0.05]
    # And it logged one warning without a traceback, and one line when it recovered
    lines = [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records]
    assert [(level, info) for level, _, info in lines] == [("WARNING", None), ("INFO", None)]
    assert "Could not connect" in lines[0][1]
    assert "after 9 failed attempts" in lines[1][1]


def test_an_unexpected_error_is_logged_with_its_traceback_once_per_run_of_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = PollErrors("notes->react")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        errors.failed(TableUnavailable("down"))
        for _ in range(3):
            errors.failed(KeyError("boom"))
        errors.succeeded()
        errors.failed(KeyError("again"))

    traced = [r for r in caplog.records if r.exc_info]
    assert len(traced) == 2
    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING", "INFO", "WARNING"]


def test_the_backoff_never_overflows_after_a_very_long_outage() -> None:
    errors = PollErrors("notes->react", first_delay=0.25, max_delay=30)
    delays = [errors.failed(TableUnavailable("down")) for _ in range(2000)]
    assert delays[-1] == 30.0


class DownEndpoint:
    """A boto3 client whose endpoint cannot be reached."""

    def __getattr__(self, operation: str) -> Any:
        def call(**request: Any) -> Any:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

        return call


def test_the_triggers_of_tables_in_an_endpoint_that_is_down_are_wired_without_asking_it(
    tmp_path: Path,
) -> None:
    # When the stream triggers are wired with an endpoint that is down
    remote = RemoteStreams(dynamodb=DownEndpoint(), streams=DownEndpoint())
    wired = ServiceStreams(
        SERVICE,
        NoInvoker(),  # type: ignore[arg-type]
        data_dir=tmp_path,
        region="us-east-1",
        account_id="1",
        remote=remote,
    )

    # Then nothing failed yet; a poll reports the table unavailable (to back off)
    async def poll() -> None:
        try:
            with pytest.raises(TableUnavailable):
                await wired.dispatchers[0].run_once()
        finally:
            await wired.stop()

    asyncio.run(poll())
