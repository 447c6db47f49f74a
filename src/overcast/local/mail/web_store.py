"""Deleting one message from the mailbox's Maildir, for the web mailbox.

The standard library's :class:`mailbox.Maildir` finds a key in ``new/`` or ``cur/``
by its table of contents, never by joining the key to a path, so an id such as
``../x`` names no file. Another process may delete the message meanwhile: that is
"not found", as it would be a moment later.
"""

from __future__ import annotations

import mailbox as maildir

from overcast.local.mail.mailbox import Mailbox


def delete(mailbox: Mailbox, message_id: str) -> bool:
    """Delete the message with this id; ``False`` if there was none."""
    box = maildir.Maildir(mailbox.directory, factory=None, create=False)
    try:
        box.remove(message_id)
    except (KeyError, FileNotFoundError):
        return False
    return True
