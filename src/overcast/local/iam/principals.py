"""Who makes a request: a principal, its policies, and the session that carries it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from overcast.local.auth.sigv4 import Credentials

if TYPE_CHECKING:
    from overcast.local.iam.policy import Policy


@dataclass(frozen=True)
class Principal:
    """An authenticated caller as IAM sees it.

    ``arn`` is what ``aws:PrincipalArn`` and ``GetCallerIdentity`` tell (the role's
    ARN for an assumed-role session, whose caller ARN is ``session_arn``).
    ``context`` holds the request-independent condition keys and policy variables
    of the caller, e.g. ``{"aws:username": "...", "cognito-identity.amazonaws.com:sub":
    "us-east-1:..."}``. The account's root user is allowed everything its
    account's resource policies do not explicitly deny.
    """

    arn: str
    account_id: str
    user_id: str
    policies: tuple[Policy, ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    session_arn: str | None = None
    is_root: bool = False


@dataclass(frozen=True)
class Session:
    """Credentials and the principal they stand for; ``expires_at`` None: long-term keys."""

    credentials: Credentials
    principal: Principal
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at
