"""Cognito's Secure Remote Password (SRP-6a) arithmetic, server side: pure functions.

Cognito's variant of SRP-6a (RFC 5054), as its clients (Amplify's
``AuthenticationHelper``, pycognito's ``aws_srp``) compute the other side:

- The group is RFC 5054's 3072-bit prime ``N`` with generator ``g = 2``; ``H`` is
  SHA-256. Numbers are hashed as *padded hex*: the hex digits made even in length,
  with a ``00`` byte in front when the top bit is set (a positive two's-complement
  number, as Java's ``BigInteger.toByteArray`` writes it), not padded to ``N``'s length.
- ``k = H(pad(N) | pad(g))``; ``u = H(pad(A) | pad(B))``.
- ``x = H(pad(salt) | H(poolname | userId | ":" | password))`` where *poolname* is
  the part of the pool id after ``_`` and *userId* is ``USER_ID_FOR_SRP`` (for a
  pool whose users sign in with their email, the user's internal username, the sub);
  the verifier is ``v = g^x mod N``.
- The server answers ``B = (k·v + g^b) mod N``; both sides reach
  ``S = (A·v^u)^b mod N`` and derive a 16-byte key with HKDF-SHA256 (salt
  ``pad(u)``, input ``pad(S)``, info ``"Caldera Derived Key"``).
- The client proves the password with ``base64(HMAC-SHA256(key, poolname | userId |
  secret block | TIMESTAMP))``, TIMESTAMP written ``EEE MMM d HH:mm:ss UTC yyyy`` in
  English, day of month not zero-padded (e.g. ``Tue Mar 3 09:05:07 UTC 2026``).

Nothing here does I/O or reads a clock; randomness can be injected for tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from overcast.local.formats import MONTHS

# RFC 5054, appendix A: the 3072-bit group; Cognito's N and g.
N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G = 2
INFO = b"Caldera Derived Key"
KEY_BYTES = 16
SALT_BITS = 128
# RFC 5054 asks for an ephemeral secret of at least 256 bits.
EPHEMERAL_BITS = 256
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIMESTAMP = re.compile(
    r"(?P<weekday>[A-Z][a-z]{2}) (?P<month>[A-Z][a-z]{2}) (?P<day>[1-9]|[12][0-9]|3[01]) "
    r"(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9]):(?P<second>[0-5][0-9]) UTC "
    r"(?P<year>[0-9]{4})"
)


class InvalidPublicValue(ValueError):
    """A client's ``SRP_A`` the server must refuse (RFC 5054: abort if ``A % N == 0``)."""


def pad_hex(value: int) -> str:
    """A non-negative number as Cognito hashes it: even-length hex, ``00`` if the top bit is set."""
    digits = f"{value:x}"
    if len(digits) % 2:
        return "0" + digits
    return "00" + digits if digits[0] in "89abcdef" else digits


def _hash_hex(hex_digits: str) -> int:
    return int.from_bytes(hashlib.sha256(bytes.fromhex(hex_digits)).digest(), "big")


K = _hash_hex(pad_hex(N) + pad_hex(G))


def pool_name(pool_id: str) -> str:
    """The part of a pool id after ``_`` (``us-east-1_AbC123xyz`` → ``AbC123xyz``)."""
    return pool_id.partition("_")[2]


def password_exponent(pool: str, user_id: str, password: str, salt: int) -> int:
    """``x = H(pad(salt) | H(poolname | userId | ":" | password))``."""
    inner = hashlib.sha256(f"{pool}{user_id}:{password}".encode()).hexdigest()
    return _hash_hex(pad_hex(salt) + inner)


@dataclass(frozen=True)
class Verifier:
    """A user's salt and verifier ``v = g^x mod N``: password-equivalent, never shown."""

    salt: int
    value: int = field(repr=False)

    def encode(self) -> str:
        """``srp$<salt hex>$<verifier hex>``, as the user's row stores it."""
        return f"srp${self.salt:x}${self.value:x}"

    @classmethod
    def decode(cls, encoded: str | None) -> Verifier | None:
        """The verifier ``encode`` wrote, or ``None`` for nothing or anything else."""
        scheme, _, rest = (encoded or "").partition("$")
        salt, _, value = rest.partition("$")
        try:
            verifier = cls(int(salt, 16), int(value, 16))
        except ValueError:
            return None
        return verifier if scheme == "srp" and 0 < verifier.value < N else None


def new_salt() -> int:
    return secrets.randbits(SALT_BITS) | 1  # never zero


def new_verifier(pool: str, user_id: str, password: str, salt: int | None = None) -> Verifier:
    """The verifier of ``password`` for ``user_id`` in the pool named ``pool``."""
    salt = new_salt() if salt is None else salt
    return Verifier(salt, pow(G, password_exponent(pool, user_id, password, salt), N))


@dataclass(frozen=True)
class Handshake:
    """The server's half of one sign-in: ``B`` for the client, the key both sides derive."""

    public_b: int
    key: bytes = field(repr=False)


def _derive_key(premaster: int, scrambler: int) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=bytes.fromhex(pad_hex(scrambler)),
        info=INFO,
    )
    return hkdf.derive(bytes.fromhex(pad_hex(premaster)))


def answer(verifier: Verifier, public_a: int, secret_b: int | None = None) -> Handshake:
    """Answer the client's ``A`` for the user of ``verifier``; ``secret_b`` only in tests.

    Raises :class:`InvalidPublicValue` for an ``A`` that is zero modulo ``N`` (it
    would make the key independent of the password) or a zero ``u``.
    """
    if public_a % N == 0:
        raise InvalidPublicValue("SRP_A must not be zero modulo N.")
    b = secret_b if secret_b is not None else secrets.randbits(EPHEMERAL_BITS) | 1
    public_b = (K * verifier.value + pow(G, b, N)) % N
    scrambler = _hash_hex(pad_hex(public_a) + pad_hex(public_b))
    if public_b == 0 or scrambler == 0:
        raise InvalidPublicValue("This SRP_A cannot be answered; start again with another.")
    premaster = pow(public_a * pow(verifier.value, scrambler, N), b, N)
    return Handshake(public_b, _derive_key(premaster, scrambler))


def claim_signature(
    key: bytes, pool: str, user_id: str, secret_block: bytes, timestamp: str
) -> str:
    """``PASSWORD_CLAIM_SIGNATURE``: base64 HMAC-SHA256 over pool, user, block and time."""
    message = pool.encode() + user_id.encode() + secret_block + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of two signatures."""
    return hmac.compare_digest(expected.encode(), given.encode())


def format_timestamp(moment: datetime) -> str:
    """``moment`` (UTC) as Cognito's clients write TIMESTAMP."""
    moment = moment.astimezone(UTC)
    clock = f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    weekday, month = WEEKDAYS[moment.weekday()], MONTHS[moment.month - 1]
    return f"{weekday} {month} {moment.day} {clock} UTC {moment.year}"


def parse_timestamp(text: str) -> datetime | None:
    """The moment a TIMESTAMP names, or ``None`` unless it is exactly Cognito's format.

    A zero-padded day, an unknown month or a weekday that does not fit the date is
    not the format.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None or match["month"] not in MONTHS:
        return None
    try:
        moment = datetime(
            int(match["year"]),
            MONTHS.index(match["month"]) + 1,
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            tzinfo=UTC,
        )
    except ValueError:  # e.g. Feb 30
        return None
    return moment if WEEKDAYS[moment.weekday()] == match["weekday"] else None


def simulated_verifier(secret: bytes, label: str) -> Verifier:
    """A stable stand-in verifier for ``label`` (RFC 5054 §2.5.1.3, unknown users).

    The same ``secret`` and ``label`` always give the same salt; nobody knows a
    password for it.
    """
    salt = _keyed(secret, "salt", label) >> (256 - SALT_BITS) | 1
    return Verifier(salt, pow(G, _keyed(secret, "verifier", label), N))


def simulated_user_id(secret: bytes, label: str) -> bytes:
    """Sixteen stable bytes for ``label``, to make a stand-in user id from."""
    return _keyed(secret, "user", label).to_bytes(32, "big")[:16]


def _keyed(secret: bytes, purpose: str, label: str) -> int:
    digest = hmac.new(secret, f"{purpose}\x00{label}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest, "big")
