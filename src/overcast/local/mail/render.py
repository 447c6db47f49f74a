"""The mailbox on the terminal: ``overcast mail`` and ``overcast mail show``.

Mail is untrusted text, so every header and body is printed as plain text — a
subject such as ``[red]x[/]`` is shown as written, never read as Rich markup.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from overcast.local.mail.mailbox import Mailbox, MailNotFound, StoredMail


def lookup(mailbox: Mailbox, reference: str) -> StoredMail:
    """The message ``reference`` names: its number in the list (1 = oldest) or its id."""
    if not reference.isdecimal():
        return mailbox.get(reference)
    summaries = mailbox.list()
    number = int(reference)
    if not 1 <= number <= len(summaries):
        raise MailNotFound(
            f"There is no message number {number}: the mailbox holds {len(summaries)} "
            "message(s). List them with `overcast mail`."
        )
    return mailbox.get(summaries[number - 1].id)


def print_mail_list(mailbox: Mailbox, console: Console) -> None:
    """A table of every message, oldest first, numbered for ``overcast mail show``."""
    summaries = mailbox.list()
    if not summaries:
        console.print(
            Text(f"No mail yet. Messages the local cloud sends land in {mailbox.directory}.")
        )
        return
    table = Table(title=f"Mailbox ({len(summaries)} messages)", title_justify="left")
    for column in ("#", "Received", "From", "To", "Subject"):
        table.add_column(column, justify="right" if column == "#" else "left")
    for number, mail in enumerate(summaries, start=1):
        table.add_row(
            str(number),
            _when(mail.received_at),
            Text(mail.sender),
            Text(", ".join(mail.to)),
            Text(mail.subject),
        )
    console.print(table)
    console.print(Text("Read one with: overcast mail show <#>", style="dim"))


def print_mail(mailbox: Mailbox, message_id: str, console: Console) -> None:
    """One message: its headers, then its text body (or its HTML when it has no text)."""
    mail = lookup(mailbox, message_id)
    headers = Table.grid(padding=(0, 2))
    headers.add_column(style="bold")
    headers.add_column()
    for name, value in (
        ("From", mail.sender),
        ("To", ", ".join(mail.to)),
        ("Subject", mail.subject),
        ("Received", _when(mail.received_at)),
        ("Id", mail.id),
    ):
        headers.add_row(name, Text(value))
    console.print(headers)
    console.rule()
    if mail.text or mail.html is None:
        console.print(Text(mail.text))
    else:
        console.print(Text("(no plain-text body; the HTML body follows)", style="dim"))
        console.print(Text(mail.html))


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
