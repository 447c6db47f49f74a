"""Confirmation codes: six digits sent by email, stored hashed, short-lived, few tries.

Cognito's rules mirrored here:

- The message is the pool's verification subject and message with ``{####}``
  replaced by the code, for sign-up and forgot-password codes alike.
- A sign-up code is valid for 24 hours, a forgot-password code for 1 hour; a new
  code replaces the previous one. An expired or never-requested code is
  ``ExpiredCodeException: Invalid code provided, please request a code again.``
- A wrong code is ``CodeMismatchException``; after five wrong codes the code is
  spent and further attempts get ``LimitExceededException: Attempt limit
  exceeded, please try after some time.`` until a new code is requested.
- A code is used once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from overcast.local.identity.errors import (
    CodeDeliveryFailure,
    CodeMismatch,
    ExpiredCode,
    LimitExceeded,
)
from overcast.local.identity.passwords import SecretHasher, confirmation_code
from overcast.local.identity.pools import ActivePool
from overcast.local.identity.records import CodePurpose, StoredCode, User
from overcast.local.identity.store import UserPoolStore
from overcast.local.identity.users import mask_destination
from overcast.ports.mail import Email, Mailer, MailError

CODE_VALIDITY = {
    CodePurpose.SIGN_UP: timedelta(hours=24),
    CodePurpose.FORGOT_PASSWORD: timedelta(hours=1),
}
MAX_FAILED_ATTEMPTS = 5


@dataclass(frozen=True)
class CodeDelivery:
    """Where a code went (``CodeDeliveryDetails``), the address masked."""

    destination: str
    medium: str = "EMAIL"
    attribute: str = "email"

    @classmethod
    def to(cls, email: str) -> CodeDelivery:
        return cls(mask_destination(email))


class ConfirmationCodes:
    """Sends codes by email and checks the codes users type back."""

    def __init__(
        self,
        store: UserPoolStore,
        hasher: SecretHasher,
        mailer: Mailer,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._mailer = mailer
        self._clock = clock

    def send(self, pool: ActivePool, user: User, purpose: CodePurpose) -> CodeDelivery:
        """Email a new code to ``user``; on a mail failure the previous code stays."""
        code = confirmation_code()
        previous = self._store.code(pool.pool_id, user.sub, purpose)
        stored = StoredCode(
            pool_id=pool.pool_id,
            sub=user.sub,
            purpose=purpose,
            code_hash=self._hasher.hash(code),
            expires_at=self._clock() + CODE_VALIDITY[purpose],
        )
        self._store.put_code(stored)
        declaration = pool.declaration
        email = Email(
            sender=declaration.from_address,
            to=(user.email,),
            subject=declaration.verification_subject,
            text=declaration.verification_message.replace("{####}", code),
        )
        try:
            self._mailer.send(email)
        except MailError as error:
            if previous is None:
                self._store.delete_code(pool.pool_id, user.sub, purpose)
            else:
                self._store.put_code(previous)
            raise CodeDeliveryFailure(f"Unable to deliver the code: {error}") from error
        return CodeDelivery.to(user.email)

    def check(self, pool: ActivePool, user: User, purpose: CodePurpose, code: str) -> None:
        """Accept ``code`` once, or raise Cognito's error for it."""
        stored = self._store.code(pool.pool_id, user.sub, purpose)
        if stored is None or stored.expires_at <= self._clock():
            raise ExpiredCode()
        if stored.failed_attempts >= MAX_FAILED_ATTEMPTS:
            raise LimitExceeded()
        if not self._hasher.verify(code, stored.code_hash):
            self._store.count_code_failure(pool.pool_id, user.sub, purpose)
            raise CodeMismatch()

    def spend(self, pool: ActivePool, user: User, purpose: CodePurpose) -> None:
        """Forget the code once it has done its work."""
        self._store.delete_code(pool.pool_id, user.sub, purpose)
