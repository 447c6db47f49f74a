"""Sign-up and password recovery: SignUp, ConfirmSignUp, ResendConfirmationCode,
ForgotPassword, ConfirmForgotPassword (public, found through the app client).

"Prevent user existence errors" is on, so these operations never reveal whether
an address is registered, as Cognito documents for that setting:

- ResendConfirmationCode and ForgotPassword for an unknown user (or, for
  ForgotPassword, one without a verified email) answer ``CodeDeliveryDetails`` of
  a simulated delivery and send nothing.
- ConfirmSignUp and ConfirmForgotPassword for an unknown user answer
  ``CodeMismatchException``.
- SignUp alone still says ``UsernameExistsException`` for a taken address.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from overcast.local.identity.codes import CodeDelivery
from overcast.local.identity.context import IdentityContext
from overcast.local.identity.errors import (
    CodeDeliveryFailure,
    CodeMismatch,
    InvalidParameter,
    NotAuthorized,
    UsernameExists,
)
from overcast.local.identity.passwords import check_password
from overcast.local.identity.records import CodePurpose, User, UserStatus
from overcast.local.identity.store import DuplicateUser
from overcast.local.identity.users import email_for_username, find_user, parse_attributes


@dataclass(frozen=True)
class SignUpResult:
    """``SignUp``'s answer: the new user's sub and where their code went."""

    user_sub: str
    confirmed: bool
    delivery: CodeDelivery


class Registration:
    """The sign-up and password-recovery operations of every registered pool."""

    def __init__(self, context: IdentityContext) -> None:
        self._context = context

    def sign_up(
        self,
        client_id: str,
        username: str,
        password: str,
        attributes: Iterable[tuple[str, str]] = (),
    ) -> SignUpResult:
        """Create an UNCONFIRMED user and email them a confirmation code."""
        context = self._context
        pool = context.pools.pool_of_client(client_id)
        given = parse_attributes(attributes, operator=False)
        email = email_for_username(username, given)
        check_password(pool.declaration.password_policy, password)
        if context.store.user_by_email(pool.pool_id, email) is not None:
            raise UsernameExists()
        now = context.clock()
        user = User(
            pool_id=pool.pool_id,
            sub=str(uuid.uuid4()),
            email=email,
            status=UserStatus.UNCONFIRMED,
            email_verified=False,
            password_hash=context.hasher.hash(password),
            created_at=now,
            modified_at=now,
            attributes=given.others,
        )
        try:
            context.store.add_user(user)
        except DuplicateUser:
            raise UsernameExists() from None
        try:
            delivery = context.codes.send(pool, user, CodePurpose.SIGN_UP)
        except CodeDeliveryFailure:
            context.store.delete_user(pool.pool_id, user.sub)
            raise
        return SignUpResult(user.sub, False, delivery)

    def confirm_sign_up(self, client_id: str, username: str, code: str) -> None:
        """Confirm a sign-up with the emailed code; this also verifies the email."""
        context = self._context
        pool = context.pools.pool_of_client(client_id)
        user = find_user(context.store, pool.pool_id, username)
        if user is None:
            raise CodeMismatch()
        if user.status is not UserStatus.UNCONFIRMED:
            raise NotAuthorized(f"User cannot be confirmed. Current status is {user.status}")
        context.codes.check(pool, user, CodePurpose.SIGN_UP, code)
        confirmed = replace(
            user,
            status=UserStatus.CONFIRMED,
            email_verified=True,
            modified_at=context.clock(),
        )
        context.store.save_user(confirmed)
        context.codes.spend(pool, user, CodePurpose.SIGN_UP)

    def resend_confirmation_code(self, client_id: str, username: str) -> CodeDelivery:
        """Email a new sign-up code (the previous one stops working)."""
        context = self._context
        pool = context.pools.pool_of_client(client_id)
        user = find_user(context.store, pool.pool_id, username)
        if user is None:
            return CodeDelivery.to(username)
        if user.status is not UserStatus.UNCONFIRMED:
            raise InvalidParameter("User is already confirmed.")
        return context.codes.send(pool, user, CodePurpose.SIGN_UP)

    def forgot_password(self, client_id: str, username: str) -> CodeDelivery:
        """Email a code that lets the user choose a new password."""
        context = self._context
        pool = context.pools.pool_of_client(client_id)
        user = find_user(context.store, pool.pool_id, username)
        if user is not None and user.status is UserStatus.FORCE_CHANGE_PASSWORD:
            raise NotAuthorized("User password cannot be reset in the current state.")
        if user is None or not user.email_verified:
            return CodeDelivery.to(user.email if user else username)
        return context.codes.send(pool, user, CodePurpose.FORGOT_PASSWORD)

    def confirm_forgot_password(
        self, client_id: str, username: str, code: str, password: str
    ) -> None:
        """Set a new password with a forgot-password code; lockouts are cleared."""
        context = self._context
        pool = context.pools.pool_of_client(client_id)
        user = find_user(context.store, pool.pool_id, username)
        if user is None:
            raise CodeMismatch()
        check_password(pool.declaration.password_policy, password)
        context.codes.check(pool, user, CodePurpose.FORGOT_PASSWORD, code)
        updated = replace(
            user,
            status=UserStatus.CONFIRMED,
            password_hash=context.hasher.hash(password),
            password_expires_at=None,
            failed_sign_ins=0,
            last_failed_at=None,
            locked_until=None,
            modified_at=context.clock(),
        )
        context.store.save_user(updated)
        context.codes.spend(pool, user, CodePurpose.FORGOT_PASSWORD)
