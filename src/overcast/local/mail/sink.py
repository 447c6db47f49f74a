"""The embedded SMTP sink: every message the local cloud sends lands in the mailbox.

It speaks SMTP through aiosmtpd's :class:`~aiosmtpd.smtp.SMTP` protocol, served by
``loop.create_server`` on the caller's running event loop (aiosmtpd's
``Controller`` would start a thread and a loop of its own). It accepts every
sender and recipient, as a catch-all test server does, and never relays.

- A message is acknowledged (``250``) only after the mailbox has stored and
  fsynced it; if storing fails the client gets ``451`` (try again later), so an
  acknowledged message is never lost.
- The envelope is kept as a mail delivery agent keeps it: a ``Return-Path``
  header (the ``MAIL FROM``) and one ``Delivered-To`` header per ``RCPT TO`` are
  prepended, so a Bcc recipient is visible in the mailbox.
- Messages over 10 MiB are refused with ``552`` (RFC 5321 4.2.3: "exceeded
  storage allocation"), up front when the client declares ``SIZE`` (RFC 1870),
  else at the end of ``DATA``. 10 MiB is SES v1's message limit; SES v2 and SES
  SMTP take 40 MB, so whatever the sink accepts, SES accepts too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from overcast.local.mail.mailbox import Mailbox

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
_STOP_GRACE_SECONDS = 5.0

log = logging.getLogger(__name__)


class _DeliverToMailbox:
    """aiosmtpd handler: store the message, then answer."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = _envelope_headers(envelope) + (envelope.original_content or b"")
        try:
            await asyncio.to_thread(self.mailbox.deliver, raw)
        except Exception:
            log.exception("The mailbox at %s could not store a message", self.mailbox.directory)
            return "451 4.3.0 Requested action aborted: the mailbox could not store the message"
        return "250 2.0.0 OK: message stored"


def _envelope_headers(envelope: Envelope) -> bytes:
    lines = [f"Return-Path: <{envelope.mail_from or ''}>"]
    lines += [f"Delivered-To: {recipient}" for recipient in envelope.rcpt_tos]
    return "".join(line + "\r\n" for line in lines).encode("utf-8")


class _SinkConnection(SMTP):
    """aiosmtpd's protocol, remembering its live connections so ``stop`` can close them."""

    def __init__(self, handler: _DeliverToMailbox, live: set[_SinkConnection], **kwargs: Any):
        super().__init__(handler, **kwargs)
        self._live = live

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._live.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        self._live.discard(self)
        super().connection_lost(error)

    @property
    def session_task(self) -> asyncio.Task[None] | None:
        """The task serving this connection (aiosmtpd starts one per connection)."""
        return self._handler_coroutine

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class SmtpSink:
    """The embedded SMTP server, delivering into ``mailbox``; ``port=0`` picks a free port."""

    def __init__(
        self,
        mailbox: Mailbox,
        host: str = "127.0.0.1",
        port: int = 1025,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        hostname: str = "overcast.local",
    ) -> None:
        self.mailbox = mailbox
        self.host = host
        self.max_message_bytes = max_message_bytes
        self.hostname = hostname
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._live: set[_SinkConnection] = set()

    @property
    def port(self) -> int:
        """The port the sink listens on (known once started)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("The SMTP sink is not started; await start() first.")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Listen on ``host:port`` on the running event loop."""
        if self._server is not None:
            raise RuntimeError("The SMTP sink is already started.")
        loop = asyncio.get_running_loop()
        handler = _DeliverToMailbox(self.mailbox)
        try:
            self._server = await loop.create_server(
                lambda: self._connection(handler, loop), self.host, self._requested_port
            )
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"The SMTP sink cannot listen on {self.host}:{self._requested_port} ({exc}). "
                "Is another program using that port? Choose another SMTP port.",
            ) from exc

    async def stop(self) -> None:
        """Stop listening and close every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        connections = list(self._live)
        for connection in connections:
            connection.close()
        tasks = [c.session_task for c in connections if c.session_task is not None]
        await server.wait_closed()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_GRACE_SECONDS)

    def _connection(
        self, handler: _DeliverToMailbox, loop: asyncio.AbstractEventLoop
    ) -> _SinkConnection:
        return _SinkConnection(
            handler,
            self._live,
            hostname=self.hostname,
            ident="Overcast SMTP sink",
            data_size_limit=self.max_message_bytes,
            enable_SMTPUTF8=True,
            loop=loop,
        )
