"""``overcast streams failures`` and ``overcast streams redrive ID``: the stream triggers'
on-failure destination.

Records of batches that failed for good (retries or record age exhausted) are kept in
``<data dir>/streams/<service>.sqlite3`` (see :mod:`overcast.local.streams.store`).
``failures`` lists them; ``redrive`` flags one for redelivery, which the running local
cloud's dispatcher does within a second (or the next ``overcast up``), removing it when
the function succeeds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table as RichTable

from overcast.cli_common import console, data_dir_option, fail, project_option, resolved_data_dir


def register_stream_commands(main: click.Group) -> None:
    """Add ``overcast streams`` to the CLI."""
    main.add_command(streams)


@click.group()
def streams() -> None:
    """Stream triggers: records of batches that failed for good."""


@streams.command("failures")
@project_option
@data_dir_option
def failures(project_dir: Path, data_dir: Path | None) -> None:
    """List the records of batches that failed for good, oldest first."""
    from overcast.local.streams.store import StreamStore

    table = RichTable(title="Stream failures", title_justify="left", show_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("trigger", overflow="fold")
    for column in ("sequences", "records", "when (UTC)"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason", overflow="fold", min_width=24)
    found = 0
    for service, path in _stores(project_dir, data_dir):
        store = StreamStore(path)
        try:
            for failure in store.failures():
                found += 1
                when = datetime.fromtimestamp(failure.created_at, UTC).strftime("%H:%M:%S")
                table.add_row(
                    failure.id + (" (redrive asked)" if failure.redrive_requested else ""),
                    f"{service}: {failure.trigger}",
                    f"{failure.first_sequence}-{failure.last_sequence}",
                    str(len(failure.records)),
                    when,
                    f"{failure.reason} after {failure.attempts} attempts",
                )
        finally:
            store.close()
    if not found:
        console.print("No failed stream records.")
        return
    console.print(table)


@streams.command("redrive")
@click.argument("failure_id")
@project_option
@data_dir_option
def redrive(failure_id: str, project_dir: Path, data_dir: Path | None) -> None:
    """Deliver a failure's records again (the running local cloud does it)."""
    from overcast.local.streams.store import StreamStore

    for service, path in _stores(project_dir, data_dir):
        store = StreamStore(path)
        try:
            if store.request_redrive(failure_id):
                console.print(
                    f"Redrive of {failure_id} ({service}) requested: the running local cloud "
                    "delivers it within a second (or at the next `overcast up`)."
                )
                return
        finally:
            store.close()
    fail(f"No stream failure {failure_id!r}. List them with `overcast streams failures`.")


def _stores(project_dir: Path, data_dir: Path | None) -> list[tuple[str, Path]]:
    directory = resolved_data_dir(project_dir, data_dir)
    return [(path.stem, path) for path in sorted((directory / "streams").glob("*.sqlite3"))]
