"""An in-memory mailer: the fake that unit tests and handlers' tests use.

It keeps every message it accepts in :attr:`MemoryMailer.sent`, in order, and
returns a fresh id per message, as SES returns a ``MessageId``. Validation is the
port's own (see :class:`~overcast.ports.mail.base.Mailer`), so a message the
fake refuses is one every adapter refuses.
"""

from __future__ import annotations

import threading
import uuid

from overcast.ports.mail.base import Email, Mailer
from overcast.ports.mail.exceptions import MailError


class MemoryMailer(Mailer):
    """Records sent messages in :attr:`sent`; safe to share between threads.

    Pass ``fail_with`` to make every send raise that error (e.g. a
    :class:`~overcast.ports.mail.exceptions.MailUnavailable`) and record nothing.
    """

    def __init__(self, fail_with: MailError | None = None) -> None:
        self.sent: list[Email] = []
        self.ids: list[str] = []
        self.fail_with = fail_with
        self._lock = threading.Lock()

    def _send(self, email: Email) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        message_id = uuid.uuid4().hex
        with self._lock:
            self.sent.append(email)
            self.ids.append(message_id)
        return message_id
