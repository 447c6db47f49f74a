"""``overcast streams failures`` lists failed stream records; ``redrive`` flags one."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from overcast.cli import main
from overcast.local.streams.store import Failure, StreamStore, store_path


def a_failure(data_dir: Path) -> Failure:
    failure = Failure(
        trigger="blog->welcome",
        function="welcome",
        reason="ValueError: boom (retries exhausted)",
        attempts=6,
        created_at=1_700_000_000.0,
        first_sequence=7,
        last_sequence=9,
        records=[{"eventID": "x"}],
    )
    store = StreamStore(store_path(data_dir, "blog"))
    store.add_failure(failure)
    store.close()
    return failure


def test_failures_are_listed_with_their_trigger_range_and_reason(tmp_path: Path) -> None:
    failure = a_failure(tmp_path)

    result = CliRunner().invoke(main, ["streams", "failures", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert failure.id in result.output
    assert "blog->welcome" in result.output
    assert "7-9" in result.output
    assert "ValueError" in result.output


def test_no_failures_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["streams", "failures", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0
    assert "No failed stream records." in result.output


def test_redrive_flags_the_failure_for_the_running_dispatcher(tmp_path: Path) -> None:
    failure = a_failure(tmp_path)

    result = CliRunner().invoke(
        main, ["streams", "redrive", failure.id, "--data-dir", str(tmp_path)]
    )

    assert result.exit_code == 0, result.output
    store = StreamStore(store_path(tmp_path, "blog"))
    (flagged,) = store.failures(redrive_only=True)
    store.close()
    assert flagged.id == failure.id


def test_redriving_an_unknown_failure_is_an_error(tmp_path: Path) -> None:
    a_failure(tmp_path)

    result = CliRunner().invoke(main, ["streams", "redrive", "nope", "--data-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "No stream failure 'nope'" in result.output
