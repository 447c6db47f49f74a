"""The local cloud's mailbox: every message the embedded SMTP sink receives.

The mailbox is a Maildir (``tmp/``, ``new/``, ``cur/``), through the standard
library's :class:`mailbox.Maildir`. Delivery writes the message to ``tmp/``,
fsyncs it, then links it into ``new/`` — the Maildir protocol, under which a
reader never sees a half-written message, so the CLI and the mailbox viewer can
read while the local cloud delivers, from another process. :meth:`Mailbox.deliver`
also fsyncs ``new/`` before it returns, so a delivered message survives a crash.

As a mail delivery agent does, messages are stored with the host's line endings
(LF), not SMTP's CRLF. A message's id is its Maildir key, which begins with its
delivery time (``<seconds>.M<microseconds>P<pid>...``); the list is ordered by it.
"""

from __future__ import annotations

import builtins
import email.policy
import mailbox
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

# The standard library's Maildir keys: "<seconds>.M<microseconds>P<pid>Q<count>.<host>".
_KEY_TIME = re.compile(r"^(\d+)(?:\.M(\d{1,6})P)?")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MailNotFound(KeyError):
    """No message with this id (or number) is in the mailbox."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "No such message."


@dataclass(frozen=True)
class MailSummary:
    """What a list of messages shows: who, to whom, what, when."""

    id: str
    received_at: datetime
    sender: str
    to: tuple[str, ...]
    subject: str


@dataclass(frozen=True)
class StoredMail(MailSummary):
    """A whole stored message: its summary, its bodies, and its bytes as stored."""

    text: str = ""
    html: str | None = None
    raw: bytes = b""


class Mailbox:
    """A Maildir of received messages at ``directory``; safe to share between threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for sub in ("tmp", "new", "cur"):
            (directory / sub).mkdir(mode=0o700, exist_ok=True)
        self._maildir = mailbox.Maildir(directory, factory=None, create=False)
        self._lock = threading.RLock()  # deliver() reads the mailbox under it
        self._by_message_id: dict[str, str] | None = None  # built on first delivery

    def deliver(self, raw: bytes) -> str:
        """Store one message (RFC 5322 bytes); return its id once it is on disk.

        A message whose ``Message-ID`` the mailbox already holds is the same message
        sent again (a sender retrying after a lost acknowledgement): it is kept once,
        as mail providers such as Gmail do, and the stored copy's id is returned.
        """
        message_id = _message_id(raw)
        with self._lock:
            known = self._known_message_ids()
            if message_id is not None and message_id in known:
                return known[message_id]
            key: str = self._maildir.add(raw.replace(b"\r\n", b"\n"))
            if message_id is not None:
                known[message_id] = key
        _fsync_directory(self.directory / "new")
        return key

    def _known_message_ids(self) -> dict[str, str]:
        if self._by_message_id is None:
            self._by_message_id = {}
            for key, raw in self._raws():
                message_id = _message_id(raw)
                if message_id is not None:
                    self._by_message_id.setdefault(message_id, key)
        return self._by_message_id

    def list(self) -> list[MailSummary]:
        """Every message's summary, oldest first."""
        return [_summary(key, message) for key, message in self._messages()]

    def get(self, message_id: str) -> StoredMail:
        """The message with this id; :class:`MailNotFound` if there is none."""
        raw = self._raw(message_id)
        if raw is None:
            raise MailNotFound(
                f"No message {message_id!r} in the mailbox at {self.directory}. "
                "List the mailbox (`overcast mail`) to see the messages it holds."
            )
        return _stored(message_id, raw)

    def find(
        self, to: str | None = None, subject_contains: str | None = None
    ) -> builtins.list[StoredMail]:
        """Messages sent to ``to`` whose subject contains ``subject_contains``, oldest first.

        Both match case-insensitively; a criterion left ``None`` matches every message.
        """
        found = []
        for key, raw in self._raws():
            mail = _stored(key, raw)
            if to is not None and to.casefold() not in {a.casefold() for a in mail.to}:
                continue
            if subject_contains is not None and (
                subject_contains.casefold() not in mail.subject.casefold()
            ):
                continue
            found.append(mail)
        return found

    def clear(self) -> None:
        """Delete every message."""
        with self._lock:
            keys = self._maildir.keys()  # a list, taken before deleting
            for key in keys:
                self._maildir.discard(key)

    # --- reading -------------------------------------------------------------

    def _raw(self, key: str) -> bytes | None:
        with self._lock:
            try:
                raw: bytes = self._maildir.get_bytes(key)
            except (KeyError, FileNotFoundError):  # unknown, or deleted meanwhile
                return None
        return raw

    def _raws(self) -> Iterator[tuple[str, bytes]]:
        with self._lock:
            keys = sorted(self._maildir.keys(), key=_order)
        for key in keys:
            raw = self._raw(key)
            if raw is not None:
                yield key, raw

    def _messages(self) -> Iterator[tuple[str, EmailMessage]]:
        for key, raw in self._raws():
            yield key, _parse(raw)


def _fsync_directory(path: Path) -> None:
    """Make a rename into ``path`` durable (POSIX: fsync the directory)."""
    if os.name != "posix":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _order(key: str) -> tuple[int, int, str]:
    match = _KEY_TIME.match(key)
    if match is None:
        return (0, 0, key)
    return (int(match[1]), int(match[2] or "0"), key)  # M<n>: n microseconds, not padded


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _summary(key: str, message: EmailMessage) -> MailSummary:
    return MailSummary(
        id=key,
        received_at=_received_at(key, message),
        sender=_header(message, "From"),
        to=_recipients(message),
        subject=_header(message, "Subject"),
    )


def _stored(key: str, raw: bytes) -> StoredMail:
    message = _parse(raw)
    summary = _summary(key, message)
    return StoredMail(
        **vars(summary),
        text=_body(message, "plain") or "",
        html=_body(message, "html"),
        raw=raw,
    )


def _received_at(key: str, message: EmailMessage) -> datetime:
    match = _KEY_TIME.match(key)
    if match is not None:
        seconds, micros = int(match[1]), int(match[2] or "0")
        return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
    try:  # a message dropped into the Maildir by something else: trust its Date
        date = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        return _EPOCH
    return date if date.tzinfo else date.replace(tzinfo=UTC)


def _unescaped(value: str) -> str:
    """Undo the byte parser's surrogate escapes: raw UTF-8 headers are allowed (RFC 6532)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _header(message: EmailMessage, name: str) -> str:
    return _unescaped(str(message.get(name, "")))


def _recipients(message: EmailMessage) -> tuple[str, ...]:
    """To and Cc addresses, then envelope recipients (``Delivered-To``) not among them."""
    found: list[str] = []
    for name in ("To", "Cc"):
        for header in message.get_all(name, []):
            found.extend(_addresses(header))
    for header in message.get_all("Delivered-To", []):
        delivered = _unescaped(str(header))
        if delivered.casefold() not in {address.casefold() for address in found}:
            found.append(delivered)
    return tuple(found)


def _addresses(header: Any) -> list[str]:
    addresses = getattr(header, "addresses", None)
    if addresses is None:
        return [_unescaped(str(header))]
    return [_unescaped(address.addr_spec) for address in addresses if address.addr_spec]


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content: Any = part.get_content()
    except (LookupError, ValueError):  # unknown charset, bad encoding: best effort
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else None


def _message_id(raw: bytes) -> str | None:
    """The Message-ID header of an RFC 5322 message, if it has one."""
    headers = BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    value = headers.get("Message-ID")
    return str(value).strip() or None if value else None
