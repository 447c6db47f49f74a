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
    CodeMismatch,
    InvalidParameter,
    NotAuthorized,
)
from overcast.local.identity.passwords import check_password
from overcast.local.identity.records import CodePurpose, User, UserStatus
from overcast.local.identity.users import email_for_username, enroll, find_user, parse_attributes


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
        now = context.clock()
        sub = str(uuid.uuid4())
        stored = context.stored_password(pool.pool_id, sub, password)
        user = User(
            pool_id=pool.pool_id,
            sub=sub,
            email=email,
            status=UserStatus.UNCONFIRMED,
            email_verified=False,
            password_hash=stored.hash,
            created_at=now,
            modified_at=now,
            attributes=given.others,
            srp_verifier=stored.srp_verifier,
        )
        delivery = enroll(
            context.store, user, lambda: context.codes.send(pool, user, CodePurpose.SIGN_UP)
        )
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
        context.codes.redeem(pool, user, CodePurpose.SIGN_UP, code)
        now = context.clock()

        def confirm(current: User) -> User:
            # The code proves the address; an operator may have moved the status on meanwhile.
            unconfirmed = current.status is UserStatus.UNCONFIRMED
            status = UserStatus.CONFIRMED if unconfirmed else current.status
            return replace(current, status=status, email_verified=True, modified_at=now)

        context.store.update_user(pool.pool_id, user.sub, confirm)

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
        context.codes.redeem(pool, user, CodePurpose.FORGOT_PASSWORD, code)
        stored = context.stored_password(pool.pool_id, user.sub, password)
        now = context.clock()

        def reset(current: User) -> User:
            return replace(
                current,
                status=UserStatus.CONFIRMED,
                password_hash=stored.hash,
                srp_verifier=stored.srp_verifier,
                password_expires_at=None,
                failed_sign_ins=0,
                last_failed_at=None,
                locked_until=None,
                modified_at=now,
            )

        context.store.update_user(pool.pool_id, user.sub, reset)
