"""The local cloud's messaging: every queue and topic in ONE SQLite file
(``<data dir>/messaging/messaging.sqlite3``), shared by threads and processes — the
function execution environments that send and publish, the dispatchers that receive.

Durability and concurrency:

- Journal mode WAL and ``synchronous=FULL``: a commit is on disk (the WAL fsynced)
  before ``send``/``publish``/``delete`` return, so a kill -9 — or a power cut — never
  loses an acknowledged message, and never leaves half a transaction.
- Every request is one short ``BEGIN IMMEDIATE`` transaction, which takes the write
  lock before reading: a receive's read-then-mark-in-flight cannot race another
  process's receive (no message is handed out twice within its visibility timeout),
  and a publish's fan-out to every matching queue commits entirely or not at all.
  A busy file makes the caller wait up to ``busy_timeout`` seconds.
- Each thread has its own connection; a child process (after ``fork``) opens its own.

Layout: ``queues``/``topics``/``subscriptions`` hold the declared topology as JSON;
``messages`` holds every queue's messages ordered by ``sequence``;
``deduplication`` the FIFO deduplication ids of the last 5 minutes.

Errors: every ``sqlite3.Error`` (and an unusable path) becomes
:class:`~overcast.ports.queues.exceptions.QueueUnavailable`.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from overcast.ports.queues.base import Clock, MessageAttribute
from overcast.ports.queues.exceptions import QueueUnavailable
from overcast.ports.queues.messaging import StoredMessaging
from overcast.ports.queues.store import (
    QueueConfig,
    StoredMessage,
    SubscriptionConfig,
    TopicConfig,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    topic TEXT NOT NULL, queue TEXT NOT NULL, config TEXT NOT NULL, PRIMARY KEY (topic, queue)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    sender_id TEXT NOT NULL,
    group_id TEXT,
    deduplication_id TEXT,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_received_at REAL,
    received_at REAL,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, sequence);
CREATE TABLE IF NOT EXISTS deduplication (
    scope TEXT NOT NULL, id TEXT NOT NULL, message_id TEXT NOT NULL, until REAL NOT NULL,
    PRIMARY KEY (scope, id)
) WITHOUT ROWID;
"""
_COLUMNS = (
    "sequence, message_id, queue, body, attributes, sent_at, visible_at, expires_at, "
    "sender_id, group_id, deduplication_id, receive_count, first_received_at, received_at, "
    "receipt"
)
_INSERT = (
    "INSERT INTO messages (message_id, queue, body, attributes, sent_at, visible_at, "
    "expires_at, sender_id, group_id, deduplication_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE = (
    "UPDATE messages SET queue = ?, visible_at = ?, expires_at = ?, receive_count = ?, "
    "first_received_at = ?, received_at = ?, receipt = ? WHERE message_id = ?"
)


def encode_attributes(attributes: dict[str, MessageAttribute]) -> str:
    return json.dumps(
        {
            name: [
                value.data_type,
                value.string_value,
                None
                if value.binary_value is None
                else base64.b64encode(value.binary_value).decode(),
            ]
            for name, value in attributes.items()
        }
    )


def decode_attributes(text: str) -> dict[str, MessageAttribute]:
    return {
        name: MessageAttribute(kind, string, None if binary is None else base64.b64decode(binary))
        for name, (kind, string, binary) in json.loads(text).items()
    }


def _message(row: tuple[Any, ...]) -> StoredMessage:
    return StoredMessage(
        sequence=row[0],
        message_id=row[1],
        queue=row[2],
        body=row[3],
        attributes=decode_attributes(row[4]),
        sent_at=row[5],
        visible_at=row[6],
        expires_at=row[7],
        sender_id=row[8],
        group_id=row[9],
        deduplication_id=row[10],
        receive_count=row[11],
        first_received_at=row[12],
        received_at=row[13],
        receipt=row[14],
    )


class _Transaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def _one(self, sql: str, *parameters: Any) -> Any:
        row = self.connection.execute(sql, parameters).fetchone()
        return None if row is None else row[0]

    def queue(self, name: str) -> QueueConfig | None:
        text = self._one("SELECT config FROM queues WHERE name = ?", name)
        return None if text is None else QueueConfig(**json.loads(text))

    def topic(self, name: str) -> TopicConfig | None:
        text = self._one("SELECT config FROM topics WHERE name = ?", name)
        return None if text is None else TopicConfig(**json.loads(text))

    def subscriptions(self, topic: str) -> list[SubscriptionConfig]:
        rows = self.connection.execute(
            "SELECT config FROM subscriptions WHERE topic = ? ORDER BY queue", (topic,)
        )
        return [SubscriptionConfig(**json.loads(text)) for (text,) in rows]

    def put_queue(self, config: QueueConfig) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO queues VALUES (?, ?)",
            (config.name, json.dumps(dataclasses.asdict(config))),
        )

    def put_topic(self, config: TopicConfig, subscriptions: list[SubscriptionConfig]) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO topics VALUES (?, ?)",
            (config.name, json.dumps(dataclasses.asdict(config))),
        )
        self.connection.execute("DELETE FROM subscriptions WHERE topic = ?", (config.name,))
        self.connection.executemany(
            "INSERT INTO subscriptions VALUES (?, ?, ?)",
            [(s.topic, s.queue, json.dumps(dataclasses.asdict(s))) for s in subscriptions],
        )

    def deduplicated(self, scope: str, deduplication_id: str, now: float) -> str | None:
        found: str | None = self._one(
            "SELECT message_id FROM deduplication WHERE scope = ? AND id = ? AND until > ?",
            scope,
            deduplication_id,
            now,
        )
        return found

    def remember(self, scope: str, deduplication_id: str, message_id: str, until: float) -> None:
        self.connection.execute(
            "DELETE FROM deduplication WHERE scope = ? AND until <= ?", (scope, until - 300)
        )
        self.connection.execute(
            "INSERT OR REPLACE INTO deduplication VALUES (?, ?, ?, ?)",
            (scope, deduplication_id, message_id, until),
        )

    def insert(self, message: StoredMessage) -> int:
        cursor = self.connection.execute(
            _INSERT,
            (
                message.message_id,
                message.queue,
                message.body,
                encode_attributes(dict(message.attributes)),
                message.sent_at,
                message.visible_at,
                message.expires_at,
                message.sender_id,
                message.group_id,
                message.deduplication_id,
            ),
        )
        return int(cursor.lastrowid or 0)

    def visible(self, queue: str, now: float, after: int, limit: int) -> list[StoredMessage]:
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE queue = ? AND sequence > ? "
            "AND visible_at <= ? AND expires_at > ? ORDER BY sequence LIMIT ?",
            (queue, after, now, now, limit),
        ).fetchall()
        return [_message(row) for row in rows]

    def in_flight_groups(self, queue: str, now: float) -> set[str]:
        rows = self.connection.execute(
            "SELECT DISTINCT group_id FROM messages WHERE queue = ? AND group_id IS NOT NULL "
            "AND receive_count > 0 AND visible_at > ?",
            (queue, now),
        )
        return {group for (group,) in rows}

    def get(self, message_id: str) -> StoredMessage | None:
        row = self.connection.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE message_id = ?", (message_id,)
        ).fetchone()
        return None if row is None else _message(row)

    def update(self, message: StoredMessage) -> None:
        self.connection.execute(
            _UPDATE,
            (
                message.queue,
                message.visible_at,
                message.expires_at,
                message.receive_count,
                message.first_received_at,
                message.received_at,
                message.receipt,
                message.message_id,
            ),
        )

    def delete(self, message_id: str) -> None:
        self.connection.execute("DELETE FROM messages WHERE message_id = ?", (message_id,))

    def expire(self, queue: str, now: float) -> None:
        self.connection.execute(
            "DELETE FROM messages WHERE queue = ? AND expires_at <= ?", (queue, now)
        )


class SqliteStore:
    """A :class:`~overcast.ports.queues.store.MessagingStore` in the SQLite file ``path``."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._sleep = sleep
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        try:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")  # the write lock now: nothing changes under us
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"The local messaging store {self.path} failed: {exc}.") from exc
        try:
            yield _Transaction(connection)
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(connection)
            raise QueueUnavailable(f"The local messaging store {self.path} failed: {exc}.") from exc
        except BaseException:
            _rollback(connection)
            raise

    def wait(self, seconds: float) -> None:
        self._sleep(seconds)  # other processes write the file: look again after a short sleep

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            del self._local.connection

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            connection = self._connect()
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QueueUnavailable(f"Cannot create the folder of {self.path}: {exc}.") from exc
        connection = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,  # we issue BEGIN / COMMIT ourselves
            check_same_thread=False,
        )
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
            connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
            connection.executescript(f"BEGIN IMMEDIATE; {SCHEMA} COMMIT;")
        except BaseException:
            connection.close()
            raise
        return connection


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")


class SqliteMessaging(StoredMessaging):
    """The local cloud's queues and topics in the SQLite file at ``path``.

    ``clock`` (epoch seconds) times delays, visibility timeouts, retention and
    deduplication windows; ``busy_timeout`` is how long a request waits for another
    writer's lock.
    """

    def __init__(
        self,
        path: str | Path,
        clock: Clock = time.time,
        *,
        busy_timeout: float = 30.0,
        region: str = "us-east-1",
        account_id: str = "000000000000",
    ) -> None:
        self.sqlite = SqliteStore(path, busy_timeout=busy_timeout)
        super().__init__(self.sqlite, clock, region=region, account_id=account_id)
        self.path = self.sqlite.path
