"""Cognito's lockout after failed sign-in attempts, shared by every way to prove a password.

Cognito developer guide, "Lockout behavior for failed sign-in attempts": after
five failed password attempts the user is locked out for 2^(n-5) seconds (n =
cumulative failures), at most about 15 minutes; attempts during a lockout give
``Password attempts exceeded`` and do not count; a successful sign-in, or 15
minutes without failures, resets the count.

Each attempt is counted as a failure *before* the password (or SRP proof) is
checked and forgiven if it was right, so parallel guesses cannot outrun the lockout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from overcast.local.identity.errors import NotAuthorized
from overcast.local.identity.records import User
from overcast.local.identity.store import UserPoolStore

FREE_FAILURES = 5
MAX_LOCKOUT = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(minutes=15)


def count_failure(user: User, now: datetime) -> User:
    """``user`` with one more failed attempt; ``Password attempts exceeded`` if locked out."""
    if user.last_failed_at is not None and now - user.last_failed_at >= FAILURE_MEMORY:
        user = forgive_failures(user)
    if user.locked_until is not None and now < user.locked_until:
        raise NotAuthorized("Password attempts exceeded")
    failures = user.failed_sign_ins + 1
    locked_until = None
    if failures >= FREE_FAILURES:
        # The exponent is capped only to keep timedelta in range; MAX_LOCKOUT bounds it.
        doubling = timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20))
        locked_until = now + min(doubling, MAX_LOCKOUT)
    return replace(user, failed_sign_ins=failures, last_failed_at=now, locked_until=locked_until)


def forgive_failures(user: User) -> User:
    return replace(user, failed_sign_ins=0, last_failed_at=None, locked_until=None)


def update_signing_in(store: UserPoolStore, user: User, change: Callable[[User], User]) -> User:
    """Apply ``change`` to the stored user; ``Incorrect username or password`` if deleted."""
    updated = store.update_user(user.pool_id, user.sub, change)
    if updated is None:  # deleted meanwhile
        raise NotAuthorized()
    return updated


def reserve_attempt(store: UserPoolStore, user: User, now: datetime) -> User:
    """Count an attempt as failed until it is proven right (see :func:`forgive_failures`)."""
    return update_signing_in(store, user, lambda current: count_failure(current, now))
