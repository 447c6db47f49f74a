"""IAM roles of the local cloud: what a temporary session stands for.

A role has a name and ARN (``arn:aws:iam::<account>:role/<name>``), permission
policies, a trust policy (who may assume it, evaluated by STS) and a maximum
session duration. As on AWS, the maximum is 1 hour unless set, and at most
12 hours (IAM ``MaxSessionDuration``: 3600 to 43200 seconds).

Each role also has a unique id, the ``AROA...`` that an assumed-role session's
``UserId`` starts with (``AROA<16 characters>:<session name>``). AWS draws it at
random when it creates the role; here it is derived from the ARN, so that it stays
the same across restarts without being stored.

Roles are registered in this process (they come from declarations, like user
pools); :class:`Roles` finds them by ARN.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.local.iam.policy import Policy

# IAM: "MaxSessionDuration ... can have a value from 1 hour to 12 hours."
DEFAULT_MAX_SESSION_SECONDS = 3600
MAX_SESSION_SECONDS_LIMIT = 43200
ROLE_ID_PREFIX = "AROA"


def role_arn(account_id: str, name: str) -> str:
    """The ARN of role ``name`` in ``account_id`` (roles have no region)."""
    return f"arn:aws:iam::{account_id}:role/{name}"


def _unique_id(arn: str) -> str:
    digest = hashlib.sha256(arn.encode("utf-8")).digest()
    return ROLE_ID_PREFIX + base64.b32encode(digest).decode("ascii")[:16]


@dataclass(frozen=True)
class Role:
    """An IAM role: its permission policies, trust policy and session limit."""

    name: str
    arn: str
    policies: tuple[Policy, ...]
    trust_policy: Policy
    max_session_seconds: int = DEFAULT_MAX_SESSION_SECONDS
    unique_id: str = field(init=False)

    def __post_init__(self) -> None:
        if not DEFAULT_MAX_SESSION_SECONDS <= self.max_session_seconds <= MAX_SESSION_SECONDS_LIMIT:
            raise ValueError("A role's max_session_seconds must be 3600-43200, as in IAM.")
        object.__setattr__(self, "unique_id", _unique_id(self.arn))


class Roles:
    """The roles registered in this process, by ARN."""

    def __init__(self) -> None:
        self._roles: dict[str, Role] = {}

    def add(self, role: Role) -> None:
        """Register ``role``, replacing an earlier role with the same ARN."""
        self._roles[role.arn] = role

    def get(self, arn: str) -> Role | None:
        return self._roles.get(arn)
