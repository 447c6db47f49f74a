"""Attachments live in the caller's own folder of the files bucket; nowhere else.

A user's folder is ``<identity id>/``, where the identity id is what the ``files``
identity pool calls them — the same ``${cognito-identity.amazonaws.com:sub}`` that
confines their temporary credentials to the folder. The API asks the identity pool
(``GetId`` with the caller's ID token, once per user per warm function) and refuses
any key outside the folder, so a to-do can never point at another user's file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from overcast.apps.todo.domain import TodoError
from overcast.ports.identities import IdentityDirectory


class AttachmentOutsideFolder(TodoError):
    """An attachment key is not inside the caller's folder."""

    def __init__(self, position: int, key: str, folder: str) -> None:
        super().__init__(f"Attachment {key!r} is not in your folder {folder!r}.")
        self.position = position
        self.key = key
        self.folder = folder


class AttachmentFolders:
    """Checks attachment keys against the caller's folder.

    ``directory`` builds the identity directory on first use: a function whose
    callers never attach a file never asks the identity pool anything.
    """

    def __init__(self, directory: Callable[[], IdentityDirectory]) -> None:
        self._build = directory
        self._directory: IdentityDirectory | None = None
        self._lock = threading.Lock()

    def folder_of(self, subject: str, id_token: str) -> str:
        """The folder, ``<identity id>/``, of the user pool user ``subject``."""
        return f"{self._identities().identity_id(subject, id_token)}/"

    def check(self, subject: str, id_token: str, keys: Sequence[str]) -> None:
        """Raise :class:`AttachmentOutsideFolder` for the first key outside the folder."""
        if not keys:
            return
        folder = self.folder_of(subject, id_token)
        for position, key in enumerate(keys):
            # The folder itself ("<id>/") names no file of the user's.
            if not key.startswith(folder) or key == folder:
                raise AttachmentOutsideFolder(position, key, folder)

    def _identities(self) -> IdentityDirectory:
        with self._lock:
            if self._directory is None:
                self._directory = self._build()
            return self._directory
