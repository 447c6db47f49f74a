"""kill -9 in the middle of sending and receiving loses nothing and duplicates nothing.

A child process sends and receives in a loop on the SQLite messaging and writes a line
after each call returns (what it was told is done). It is killed with SIGKILL at an
arbitrary moment, several times over the same file. Afterwards every acknowledged
send is in the queue exactly once (unless its delete was acknowledged), messages the
child had in flight come back once their visibility timeout ends (at-least-once), and
the file is intact.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path

from overcast.ports.queues import OutgoingMessage
from overcast.ports.queues.sqlite import SqliteMessaging
from tests.queues_contract import ORDERS, SERVICE


def _work(path: str, log: str, start: int) -> None:
    queue = SqliteMessaging(path).queue(SERVICE.queue_name(ORDERS))
    descriptor = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    for n in range(start, start + 1_000_000):
        queue.send(OutgoingMessage(f"m{n}"))
        os.write(descriptor, f"sent m{n}\n".encode())
        if n % 3 == 0:
            for message in queue.receive(2, visibility_timeout=3):
                if int(message.body[1:]) % 2 == 0:  # even ones are handled; odd stay in flight
                    queue.delete(message.receipt_handle)
                    os.write(descriptor, f"deleted {message.body}\n".encode())


def _kill_mid_way(path: Path, log: Path, start: int) -> None:
    child = multiprocessing.get_context("spawn").Process(
        target=_work, args=(str(path), str(log), start)
    )
    child.start()
    deadline = time.monotonic() + 30
    while (not log.exists() or log.read_text().count("\n") < start // 1000 * 40 + 40) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    assert child.exitcode == -signal.SIGKILL


def test_a_killed_process_loses_no_acknowledged_message_and_duplicates_none(
    tmp_path: Path,
) -> None:
    path, log = tmp_path / "messaging.sqlite3", tmp_path / "acknowledged.log"
    SqliteMessaging(path).declare(SERVICE)
    for round_number in range(3):
        _kill_mid_way(path, log, start=round_number * 1000)

    lines = log.read_text().splitlines()
    sent = {line.split()[1] for line in lines if line.startswith("sent ")}
    deleted = {line.split()[1] for line in lines if line.startswith("deleted ")}
    assert len(sent) >= 90
    # Read later than any visibility timeout the child set: in-flight messages are back.
    later = SqliteMessaging(path, clock=lambda: time.time() + 10)
    queue = later.queue(SERVICE.queue_name(ORDERS))
    bodies: list[str] = []
    while batch := queue.receive(10, visibility_timeout=600):
        bodies += [message.body for message in batch]

    assert len(bodies) == len(set(bodies)), "a message is stored twice"
    assert sent - deleted <= set(bodies), "an acknowledged send was lost"
    assert not deleted & set(bodies), "an acknowledged delete came back"
    unacknowledged = set(bodies) - sent
    assert len(unacknowledged) <= 3, "only a send the kill interrupted may be unacknowledged"
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
