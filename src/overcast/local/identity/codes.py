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
        """Email a new code to ``user``; it replaces the previous one once the mail is out.

        Mailing first means a failed mail changes nothing, with no earlier code to
        put back over one a concurrent request may have sent meanwhile.
        """
        code = confirmation_code()
        code_hash = self._hasher.hash(code)
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
            raise CodeDeliveryFailure(f"Unable to deliver the code: {error}") from error
        stored = StoredCode(
            pool_id=pool.pool_id,
            sub=user.sub,
            purpose=purpose,
            code_hash=code_hash,
            expires_at=self._clock() + CODE_VALIDITY[purpose],
        )
        self._store.put_code(stored)
        return CodeDelivery.to(user.email)

    def redeem(self, pool: ActivePool, user: User, purpose: CodePurpose, code: str) -> None:
        """Accept ``code`` and use it up, or raise Cognito's error for it.

        The attempt is counted before the (slow) check, so parallel guesses cannot
        try more codes than the limit, and the code is spent by a conditional
        delete, so only one request can use it.
        """
        store = self._store
        now = self._clock()
        code_hash = store.reserve_code_attempt(
            pool.pool_id, user.sub, purpose, now, MAX_FAILED_ATTEMPTS
        )
        if code_hash is None:
            stored = store.code(pool.pool_id, user.sub, purpose)
            if stored is None or stored.expires_at <= now:
                raise ExpiredCode()
            raise LimitExceeded()
        if not self._hasher.verify(code, code_hash):
            raise CodeMismatch()
        if not store.spend_code(pool.pool_id, user.sub, purpose, code_hash):
            raise ExpiredCode()

    def discard(self, pool: ActivePool, user: User, purpose: CodePurpose) -> None:
        """Forget the user's code: what it would confirm was done another way."""
        self._store.delete_code(pool.pool_id, user.sub, purpose)
