"""Passwords and codes: the pool's policy, slow salted hashes, generated secrets.

Nothing secret is stored in clear: passwords *and* confirmation codes are kept as
scrypt hashes (n=2**14, r=8, p=1, 16-byte random salt), compared in constant time.
Each hash records its own cost, so a cheaper cost injected in tests, or a dearer
one later, still verifies the hashes already stored.

Policy checks mirror Cognito's: the minimum length and each required character
class, reported one at a time as ``Password did not conform with policy: ...``
(``... with password policy: ...`` from the operator operations, as Cognito
words it there). Cognito's symbols are ``^ $ * . [ ] { } ( ) ? " ! @ # % & / \\ ,
> < ' : ; | _ ~ ` = + -`` and the space.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

from overcast import spec
from overcast.local.identity.errors import InvalidPassword

SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's work factors; the defaults are the production cost."""

    n: int = 2**14
    r: int = 8
    p: int = 1


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(secret: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=_MAX_MEMORY,
        dklen=_KEY_BYTES,
    )


class SecretHasher:
    """Hashes and verifies passwords and codes with scrypt."""

    def __init__(self, cost: ScryptCost | None = None) -> None:
        self._cost = cost or ScryptCost()
        self._decoy = self.hash(secrets.token_urlsafe(16))

    def hash(self, secret: str) -> str:
        """``scrypt$n$r$p$salt$key``, salt and key in base64."""
        salt = secrets.token_bytes(_SALT_BYTES)
        key = _derive(secret, salt, self._cost)
        cost = self._cost
        return f"scrypt${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(key)}"

    def verify(self, secret: str, encoded: str) -> bool:
        """Whether ``secret`` is the one ``encoded`` was made from (constant time)."""
        try:
            scheme, n, r, p, salt, key = encoded.split("$")
            cost = ScryptCost(int(n), int(r), int(p))
            expected = base64.b64decode(key)
            derived = _derive(secret, base64.b64decode(salt), cost)
        except ValueError:
            return False
        return scheme == "scrypt" and hmac.compare_digest(derived, expected)

    def waste_time(self, secret: str) -> None:
        """Spend what a verification costs, so an unknown user answers as slowly."""
        self.verify(secret, self._decoy)


def policy_violation(policy: spec.PasswordPolicy, password: str) -> str | None:
    """What ``password`` lacks under ``policy``, in Cognito's words; ``None`` if nothing."""
    checks = (
        (len(password) >= policy.minimum_length, "Password not long enough"),
        (
            not policy.require_lowercase or any(c in string.ascii_lowercase for c in password),
            "Password must have lowercase characters",
        ),
        (
            not policy.require_uppercase or any(c in string.ascii_uppercase for c in password),
            "Password must have uppercase characters",
        ),
        (
            not policy.require_digits or any(c in string.digits for c in password),
            "Password must have numeric characters",
        ),
        (
            not policy.require_symbols or any(c in SYMBOLS for c in password),
            "Password must have symbol characters",
        ),
    )
    return next((reason for passed, reason in checks if not passed), None)


def check_password(policy: spec.PasswordPolicy, password: str, *, operator: bool = False) -> None:
    """Raise :class:`InvalidPassword` as Cognito does when ``password`` breaks ``policy``."""
    reason = policy_violation(policy, password)
    if reason is not None:
        prefix = "password policy" if operator else "policy"
        raise InvalidPassword(f"Password did not conform with {prefix}: {reason}")


def temporary_password(policy: spec.PasswordPolicy) -> str:
    """A random password that satisfies ``policy`` (one of each class, then any)."""
    symbols = "^$*.[]{}()?!@#%&/,><:;|_~=+-"
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, symbols]
    chosen = [secrets.choice(characters) for characters in classes]
    everything = "".join(classes)
    length = max(policy.minimum_length, 12)
    chosen += [secrets.choice(everything) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


def confirmation_code() -> str:
    """Cognito's six-digit code."""
    return f"{secrets.randbelow(10**6):06d}"
