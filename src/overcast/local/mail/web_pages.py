"""What the web mailbox shows: its HTML pages (Jinja2 templates) and its JSON shapes.

Mail is untrusted input. Every header and body reaches a page through Jinja2's
autoescaping; only ``http(s)`` URLs in a text part become links. A message's HTML
part is never put into a page: the page frames it from its own URL (see ``web.py``).
"""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from overcast.local.mail.mailbox import MailSummary, StoredMail

ASSETS = Path(__file__).with_name("web")
_LINK = re.compile(r"https?://[^\s<>\"']+")


def environment(assets: Path = ASSETS) -> Environment:
    """The templates, autoescaping everything they are given."""
    env = Environment(loader=FileSystemLoader(assets), autoescape=True, undefined=StrictUndefined)
    env.filters["linkify"] = linkify
    env.filters["when"] = when
    env.filters["path"] = message_path
    return env


def message_path(message_id: str) -> str:
    """The page of one message (Maildir keys may hold ``\\``, ``:`` and ``,``)."""
    return "/messages/" + quote(message_id, safe="")


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def linkify(text: str) -> Markup:
    """``text`` escaped, with each http(s) URL a link (no other scheme: no ``javascript:``)."""
    pieces: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        pieces.append(str(escape(text[position : match.start()])))
        pieces.append(f'<a href="{escape(url)}" rel="noreferrer noopener">{escape(url)}</a>')
        position = match.start() + len(url)
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))


def headers(raw: bytes) -> list[tuple[str, str]]:
    """Every header of a stored message, in order, decoded (RFC 2047) where possible."""
    message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    return [(name, _decoded(name, value)) for name, value in message.raw_items()]


def _decoded(name: str, value: str) -> str:
    try:
        text = str(policy.default.header_fetch_parse(name, value))
    except Exception:  # a malformed header: show it as it came
        text = str(value)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def summary_json(mail: MailSummary) -> dict[str, Any]:
    return {
        "id": mail.id,
        "from": mail.sender,
        "to": list(mail.to),
        "subject": mail.subject,
        "date": mail.received_at.isoformat(),
    }


def message_json(mail: StoredMail) -> dict[str, Any]:
    return {
        **summary_json(mail),
        "text": mail.text,
        "html": mail.html,
        "headers": [[name, value] for name, value in headers(mail.raw)],
        "size": len(mail.raw),
    }
