"""Commands the local cloud starts end with it, even when it is killed (Linux)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from overcast.local.parent_guard import guarded

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")

_PARENT = """
import subprocess, sys, time
from overcast.local.parent_guard import guarded
command = ["sleep", "60"]
child = subprocess.Popen(guarded(command) if sys.argv[1] == "guarded" else command)
print(child.pid, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for init to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _child_of_a_killed_parent(mode: str) -> int:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, mode], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    with parent.stdout:
        child = int(parent.stdout.readline())
    deadline = time.monotonic() + 5
    while "sleep" not in Path(f"/proc/{child}/cmdline").read_text() and time.monotonic() < deadline:
        time.sleep(0.02)  # the guard has exec'd the command
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    return child


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_guarded_command_ends_when_its_parent_is_killed() -> None:
    child = _child_of_a_killed_parent("guarded")
    try:
        assert _gone_within(child, 3.0)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_an_unguarded_command_outlives_its_killed_parent() -> None:
    # The control: what the guard is for.
    child = _child_of_a_killed_parent("plain")
    try:
        assert not _gone_within(child, 0.5)
    finally:
        os.kill(child, signal.SIGKILL)


def test_the_command_never_runs_if_the_parent_is_already_gone(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = guarded(["touch", str(marker)])
    command[3] = str(2**22 + 1)  # not our pid: the parent the guard expects is not its own

    result = subprocess.run(command, check=False)

    assert result.returncode == 1
    assert not marker.exists()


def test_a_malformed_guard_call_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "overcast.local.parent_guard", "x", "touch", "y"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "usage" in result.stderr
