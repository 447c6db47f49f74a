"""The operator's user management: AdminCreateUser, AdminSetUserPassword,
AdminConfirmSignUp, AdminGetUser, AdminDeleteUser.

These operations are authorized by IAM (a SigV4 signature, checked by the
protocol), name the pool, and, unlike the public ones, do reveal whether a user
exists (``UserNotFoundException: User does not exist.``).

Cognito behaviours mirrored here:

- AdminCreateUser makes a ``FORCE_CHANGE_PASSWORD`` user with the given or a
  generated temporary password, valid 7 days, and emails the invitation
  (Cognito's default: subject ``Your temporary password``, message ``Your
  username is {username} and temporary password is {####}.``) unless
  ``MessageAction=SUPPRESS``; ``RESEND`` sends a new temporary password to a user
  still in ``FORCE_CHANGE_PASSWORD``. A taken address is ``UsernameExistsException:
  User account already exists``.
- AdminSetUserPassword with ``Permanent`` confirms the user; without, it sets a
  new temporary password (``FORCE_CHANGE_PASSWORD``).
- AdminConfirmSignUp confirms an ``UNCONFIRMED`` user without verifying the email.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import timedelta

from overcast.local.identity.context import IdentityContext
from overcast.local.identity.errors import (
    CodeDeliveryFailure,
    InvalidParameter,
    NotAuthorized,
    UnsupportedUserState,
    UserNotFound,
)
from overcast.local.identity.passwords import check_password, temporary_password
from overcast.local.identity.pools import ActivePool
from overcast.local.identity.records import CodePurpose, User, UserStatus
from overcast.local.identity.users import (
    NewAttributes,
    email_for_username,
    enroll,
    find_user,
    parse_attributes,
)
from overcast.ports.mail import Email, MailError

TEMPORARY_PASSWORD_VALIDITY = timedelta(days=7)
INVITATION_SUBJECT = "Your temporary password"
INVITATION_MESSAGE = "Your username is {username} and temporary password is {####}."


class Administration:
    """The operator operations on the users of every registered pool."""

    def __init__(self, context: IdentityContext) -> None:
        self._context = context

    def create_user(
        self,
        pool_id: str,
        username: str,
        attributes: Iterable[tuple[str, str]] = (),
        temporary: str | None = None,
        message_action: str | None = None,
        delivery_mediums: Sequence[str] = (),
    ) -> User:
        """AdminCreateUser: a user who must choose a password at first sign-in."""
        context = self._context
        pool = context.pools.pool(pool_id)
        given = parse_attributes(attributes, operator=True)
        if message_action == "RESEND":
            return self._resend_invitation(pool, username, temporary, delivery_mediums)
        email = email_for_username(username, given)
        password = self._temporary_password(pool, temporary)
        suppress = message_action == "SUPPRESS"
        if not suppress:
            _check_delivery(delivery_mediums)
        user = self._invited_user(pool, email, given, password)
        welcome = (lambda: None) if suppress else (lambda: self._invite(pool, user, password))
        enroll(context.store, user, welcome, taken="User account already exists")
        return user

    def _invited_user(
        self, pool: ActivePool, email: str, given: NewAttributes, password: str
    ) -> User:
        context = self._context
        now = context.clock()
        sub = str(uuid.uuid4())
        stored = context.stored_password(pool.pool_id, sub, password)
        return User(
            pool_id=pool.pool_id,
            sub=sub,
            email=email,
            status=UserStatus.FORCE_CHANGE_PASSWORD,
            email_verified=bool(given.email_verified),
            password_hash=stored.hash,
            created_at=now,
            modified_at=now,
            attributes=given.others,
            password_expires_at=now + TEMPORARY_PASSWORD_VALIDITY,
            srp_verifier=stored.srp_verifier,
        )

    def set_user_password(
        self, pool_id: str, username: str, password: str, permanent: bool
    ) -> None:
        """AdminSetUserPassword: a permanent password confirms; a temporary one forces a change."""
        context = self._context
        pool, user = self._user(pool_id, username)
        check_password(pool.declaration.password_policy, password, operator=True)
        stored = context.stored_password(pool.pool_id, user.sub, password)
        now = context.clock()

        def set_password(current: User) -> User:
            return replace(
                current,
                status=UserStatus.CONFIRMED if permanent else UserStatus.FORCE_CHANGE_PASSWORD,
                password_hash=stored.hash,
                srp_verifier=stored.srp_verifier,
                password_expires_at=None if permanent else now + TEMPORARY_PASSWORD_VALIDITY,
                failed_sign_ins=0,
                last_failed_at=None,
                locked_until=None,
                modified_at=now,
            )

        self._update(pool, user, set_password)

    def confirm_sign_up(self, pool_id: str, username: str) -> None:
        """AdminConfirmSignUp: confirm an UNCONFIRMED user (their email stays unverified)."""
        context = self._context
        pool, user = self._user(pool_id, username)
        now = context.clock()

        def confirm(current: User) -> User:
            if current.status is not UserStatus.UNCONFIRMED:
                raise NotAuthorized(f"User cannot be confirmed. Current status is {current.status}")
            return replace(current, status=UserStatus.CONFIRMED, modified_at=now)

        self._update(pool, user, confirm)
        context.codes.discard(pool, user, CodePurpose.SIGN_UP)

    def get_user(self, pool_id: str, username: str) -> User:
        """AdminGetUser."""
        return self._user(pool_id, username)[1]

    def delete_user(self, pool_id: str, username: str) -> None:
        """AdminDeleteUser: the user, their codes and sessions go; their tokens stop working."""
        pool, user = self._user(pool_id, username)
        self._context.store.delete_user(pool.pool_id, user.sub)

    def _user(self, pool_id: str, username: str) -> tuple[ActivePool, User]:
        pool = self._context.pools.pool(pool_id)
        user = find_user(self._context.store, pool.pool_id, username)
        if user is None:
            raise UserNotFound()
        return pool, user

    def _temporary_password(self, pool: ActivePool, given: str | None) -> str:
        policy = pool.declaration.password_policy
        if given is None:
            return temporary_password(policy)
        check_password(policy, given, operator=True)
        return given

    def _resend_invitation(
        self, pool: ActivePool, username: str, temporary: str | None, mediums: Sequence[str]
    ) -> User:
        context = self._context
        pool, user = self._user(pool.pool_id, username)
        _check_awaiting_password(user)
        _check_delivery(mediums)
        password = self._temporary_password(pool, temporary)
        stored = context.stored_password(pool.pool_id, user.sub, password)
        self._invite(pool, user, password)  # first: a failed invitation changes nothing
        now = context.clock()

        def renew(current: User) -> User:
            # Not over a password the user chose while the invitation was going out.
            _check_awaiting_password(current)
            return replace(
                current,
                password_hash=stored.hash,
                srp_verifier=stored.srp_verifier,
                password_expires_at=now + TEMPORARY_PASSWORD_VALIDITY,
                modified_at=now,
            )

        return self._update(pool, user, renew)

    def _update(self, pool: ActivePool, user: User, change: Callable[[User], User]) -> User:
        updated = self._context.store.update_user(pool.pool_id, user.sub, change)
        if updated is None:
            raise UserNotFound()
        return updated

    def _invite(self, pool: ActivePool, user: User, password: str) -> None:
        text = INVITATION_MESSAGE.replace("{username}", user.email).replace("{####}", password)
        email = Email(pool.declaration.from_address, (user.email,), INVITATION_SUBJECT, text)
        try:
            self._context.mailer.send(email)
        except MailError as error:
            raise CodeDeliveryFailure(f"Unable to deliver the invitation: {error}") from error


def _check_awaiting_password(user: User) -> None:
    if user.status is not UserStatus.FORCE_CHANGE_PASSWORD:
        raise UnsupportedUserState(
            f"Resend not possible. {user.sub} status is not FORCE_CHANGE_PASSWORD"
        )


def _check_delivery(mediums: Sequence[str]) -> None:
    # The local cloud has no SMS; refuse rather than pretend a message went out.
    if mediums and "EMAIL" not in mediums:
        raise InvalidParameter(
            "The local cloud sends invitations by email only: include EMAIL in "
            "DesiredDeliveryMediums, or use MessageAction SUPPRESS."
        )
