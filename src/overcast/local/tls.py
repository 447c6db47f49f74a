"""The local cloud's certificate authority: HTTPS on localhost that clients can trust.

On first start :meth:`LocalCA.ensure` creates a CA ("Overcast Local CA") and a
server certificate it signs for ``localhost``, ``127.0.0.1`` and ``::1``. Trusting
the CA's certificate (``AWS_CA_BUNDLE``, ``verify=``, or the OS trust store) makes
every local endpoint trusted. Later starts reuse both; the server certificate is
re-issued when it is missing, unreadable, not for its key, not for these names,
expiring within 30 days, or not signed by the current CA. The CA itself is
re-created (and must then be trusted anew) only when its certificate or key is
missing, unreadable or unpaired, or it expires within 30 days.

The certificates follow the rules browsers and strict TLS clients enforce:

- CA: ``basicConstraints CA:TRUE`` (critical), ``keyUsage keyCertSign, cRLSign``
  (critical), a subject key identifier; valid 10 years.
- Server: names in ``subjectAltName`` only (clients ignore the CN), EKU
  ``serverAuth``, subject and authority key identifiers (Python 3.13's
  ``VERIFY_X509_STRICT`` requires the AKI); valid at most 825 days, Apple's limit
  for TLS server certificates, even under a user-trusted root: "TLS server
  certificates must have a validity period of 825 days or fewer" and "must
  contain an ExtendedKeyUsage (EKU) extension containing the id-kp-serverAuth
  OID" (https://support.apple.com/en-us/103769).

Private keys are written with mode 0600, every file atomically (temporary file,
fsync, rename), so a crash never leaves half a key.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "Overcast Local CA"
CA_VALIDITY = timedelta(days=3650)
SERVER_VALIDITY = timedelta(days=825)
RENEW_BEFORE = timedelta(days=30)
# Backdate new certificates a little, so a client whose clock lags still accepts them.
BACKDATE = timedelta(hours=1)
SERVER_DNS_NAMES = ("localhost",)
SERVER_IPS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Issued:
    cert: x509.Certificate
    key: SigningKey


class LocalCA:
    """The CA and server certificate kept in ``directory``. See the module docstring."""

    def __init__(self, directory: Path, clock: Callable[[], datetime] = _utc_now) -> None:
        self.directory = directory
        self._clock = clock

    @property
    def ca_cert_path(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key_path(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def server_cert_path(self) -> Path:
        return self.directory / "localhost.pem"

    @property
    def server_key_path(self) -> Path:
        return self.directory / "localhost-key.pem"

    def ensure(self) -> None:
        """Create or renew what is missing or unusable; reuse everything else."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        now = self._now()
        ca = self._load_ca(now)
        if ca is None:
            ca = self._create_ca(now)
        if not self._server_usable(ca, now):
            self._issue_server(ca, now)

    def server_ssl_context(self) -> ssl.SSLContext:
        """A TLS 1.2+ server context presenting the (ensured) server certificate."""
        self.ensure()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_cert_path, self.server_key_path)
        return context

    # --- the CA ----------------------------------------------------------------

    def _load_ca(self, now: datetime) -> _Issued | None:
        ca = _load(self.ca_cert_path, self.ca_key_path)
        if ca is None or not _fresh(ca.cert, now):
            return None
        try:
            is_ca = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        except x509.ExtensionNotFound:
            return None
        return ca if is_ca else None

    def _create_ca(self, now: datetime) -> _Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Overcast"),
                x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            ]
        )
        usage = _key_usage(key_cert_sign=True, crl_sign=True)
        cert = (
            _builder(name, name, key.public_key(), now - BACKDATE, now - BACKDATE + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256())
        )
        self._write(self.ca_key_path, self.ca_cert_path, _Issued(cert, key))
        return _Issued(cert, key)

    # --- the server certificate ------------------------------------------------

    def _server_usable(self, ca: _Issued, now: datetime) -> bool:
        server = _load(self.server_cert_path, self.server_key_path)
        if server is None or not _fresh(server.cert, now):
            return False
        try:
            server.cert.verify_directly_issued_by(ca.cert)
            names = server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            return False
        return set(names.value.get_values_for_type(x509.DNSName)) == set(SERVER_DNS_NAMES) and (
            set(names.value.get_values_for_type(x509.IPAddress)) == set(SERVER_IPS)
        )

    def _issue_server(self, ca: _Issued, now: datetime) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Overcast local cloud"),
                x509.NameAttribute(NameOID.COMMON_NAME, SERVER_DNS_NAMES[0]),
            ]
        )
        not_before = now - BACKDATE
        not_after = min(not_before + SERVER_VALIDITY, ca.cert.not_valid_after_utc)
        ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            _builder(subject, ca.cert.subject, key.public_key(), not_before, not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(_server_names(), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(ca.key, hashes.SHA256())
        )
        self._write(self.server_key_path, self.server_cert_path, _Issued(cert, key))

    # --- files -------------------------------------------------------------------

    def _write(self, key_path: Path, cert_path: Path, issued: _Issued) -> None:
        key_pem = issued.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_atomically(key_path, key_pem, mode=0o600)
        _write_atomically(cert_path, issued.cert.public_bytes(serialization.Encoding.PEM), 0o644)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("LocalCA's clock must return timezone-aware datetimes.")
        return now


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _server_names() -> x509.SubjectAlternativeName:
    dns: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_DNS_NAMES]
    return x509.SubjectAlternativeName(dns + [x509.IPAddress(ip) for ip in SERVER_IPS])


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _load(cert_path: Path, key_path: Path) -> _Issued | None:
    """The certificate and its key, or ``None`` if either is missing, unreadable or unpaired."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, SigningKey):
        return None
    if _spki(key.public_key()) != _spki(cert.public_key()):
        return None
    return _Issued(cert, key)


def _spki(public_key: object) -> bytes:
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return b""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _fresh(cert: x509.Certificate, now: datetime) -> bool:
    """Valid now, and for longer than the renewal margin."""
    return cert.not_valid_before_utc <= now and now + RENEW_BEFORE < cert.not_valid_after_utc


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)
