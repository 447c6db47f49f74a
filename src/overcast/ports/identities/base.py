"""The identity directory port: which identity-pool identity a signed-in user is.

A Cognito identity pool gives each user of a user pool one identity id
(``<region>:<uuid>``), created on first use and stable afterwards; IAM policies name
it as ``${cognito-identity.amazonaws.com:sub}``, e.g. to confine a user to the
folder ``<identity id>/`` of a bucket. A function that must check such a folder
asks this port for the caller's identity id.

The base caches answers per user (an identity id never changes for a user), so
a warm function asks the identity service once per user.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict

_CACHED_USERS = 10_000


class IdentityDirectory(ABC):
    """Identity ids of one identity pool's users."""

    def __init__(self) -> None:
        self._known: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def identity_id(self, subject: str, id_token: str) -> str:
        """The identity id of the user pool user ``subject``, who presents ``id_token``.

        ``subject`` must be the ``sub`` claim of ``id_token`` as already verified (by
        the API's authorizer): it only keys the cache.
        """
        with self._lock:
            if subject in self._known:
                self._known.move_to_end(subject)
                return self._known[subject]
        identity_id = self._get_id(id_token)
        with self._lock:
            self._known[subject] = identity_id
            while len(self._known) > _CACHED_USERS:
                self._known.popitem(last=False)
        return identity_id

    @abstractmethod
    def _get_id(self, id_token: str) -> str:
        """Ask the identity service (GetId) for the token's identity id."""
