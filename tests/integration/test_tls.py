"""LocalCA: a real HTTPS server on 127.0.0.1 that clients trust through the local CA."""

from __future__ import annotations

import http.server
import ipaddress
import ssl
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from overcast.local.tls import LocalCA

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def https_server(ca: LocalCA) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    server.socket = ca.server_ssl_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def extension(certificate: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension[Any]:
    return certificate.extensions.get_extension_for_class(kind)


def test_a_client_trusting_the_local_ca_gets_https_on_localhost_and_127_0_0_1(
    tmp_path: Path,
) -> None:
    ca = LocalCA(tmp_path / "tls")
    ca.ensure()
    trusting = ssl.create_default_context(cafile=str(ca.ca_cert_path))
    # What Python 3.13 enables by default: strict RFC 5280 checks (AKI, critical CA flags...).
    trusting.verify_flags |= ssl.VERIFY_X509_STRICT

    with https_server(ca) as port:
        by_name = httpx.get(f"https://localhost:{port}/", verify=trusting)
        by_ip = httpx.get(f"https://127.0.0.1:{port}/", verify=trusting)

    assert (by_name.status_code, by_name.text) == (200, "hello")
    assert (by_ip.status_code, by_ip.text) == (200, "hello")


def test_a_client_with_default_trust_refuses_the_local_certificate(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "tls")

    with https_server(ca) as port, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY"):
        httpx.get(f"https://localhost:{port}/")


def test_the_server_context_refuses_tls_below_1_2(tmp_path: Path) -> None:
    context = LocalCA(tmp_path).server_ssl_context()

    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_the_ca_certificate_is_a_ten_year_signing_only_ca(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path, clock=lambda: NOW)
    ca.ensure()

    root = cert(ca.ca_cert_path)

    assert root.subject.rfc4514_string() == "CN=Overcast Local CA,O=Overcast"
    constraints = extension(root, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    usage = extension(root, x509.KeyUsage)
    assert usage.critical
    assert (usage.value.key_cert_sign, usage.value.crl_sign) == (True, True)
    assert not usage.value.digital_signature
    lifetime = root.not_valid_after_utc - root.not_valid_before_utc
    assert lifetime == timedelta(days=3650)
    assert root.not_valid_before_utc <= NOW


def test_the_server_certificate_names_localhost_and_meets_apple_limits(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path, clock=lambda: NOW)
    ca.ensure()

    root, leaf = cert(ca.ca_cert_path), cert(ca.server_cert_path)

    names = extension(leaf, x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert extension(leaf, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH]
    )
    assert not extension(leaf, x509.BasicConstraints).value.ca
    authority = extension(leaf, x509.AuthorityKeyIdentifier).value.key_identifier
    assert authority == extension(root, x509.SubjectKeyIdentifier).value.digest
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= timedelta(days=825)
    leaf.verify_directly_issued_by(root)


def test_keys_are_private_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "tls")
    ca.ensure()

    for key in (ca.ca_key_path, ca.server_key_path):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert sorted(path.name for path in (tmp_path / "tls").iterdir()) == [
        "ca-key.pem",
        "ca.pem",
        "localhost-key.pem",
        "localhost.pem",
    ]


def snapshot(ca: LocalCA) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in ca.directory.iterdir()}


def test_a_later_start_reuses_the_ca_and_the_server_certificate(tmp_path: Path) -> None:
    first = LocalCA(tmp_path, clock=lambda: NOW)
    first.ensure()
    before = snapshot(first)

    LocalCA(tmp_path, clock=lambda: NOW + timedelta(days=700)).ensure()

    assert snapshot(first) == before


def test_a_server_certificate_expiring_within_30_days_is_reissued(tmp_path: Path) -> None:
    LocalCA(tmp_path, clock=lambda: NOW).ensure()
    later = LocalCA(tmp_path, clock=lambda: NOW + timedelta(days=825 - 30))
    old_root, old_leaf = cert(later.ca_cert_path), cert(later.server_cert_path)

    later.ensure()

    new_leaf = cert(later.server_cert_path)
    assert new_leaf.serial_number != old_leaf.serial_number
    assert new_leaf.not_valid_after_utc > old_leaf.not_valid_after_utc
    assert cert(later.ca_cert_path) == old_root
    new_leaf.verify_directly_issued_by(old_root)


@pytest.mark.parametrize(
    "damage",
    [
        lambda ca: ca.server_cert_path.unlink(),
        lambda ca: ca.server_key_path.unlink(),
        lambda ca: ca.server_cert_path.write_bytes(b"-----BEGIN CERTIFICATE-----\ngarbage"),
        lambda ca: ca.server_key_path.write_bytes(ca.ca_key_path.read_bytes()),  # not its key
    ],
    ids=["cert missing", "key missing", "cert unreadable", "key not the cert's"],
)
def test_a_missing_or_unusable_server_certificate_is_reissued(
    tmp_path: Path, damage: Callable[[LocalCA], object]
) -> None:
    ca = LocalCA(tmp_path, clock=lambda: NOW)
    ca.ensure()
    root = ca.ca_cert_path.read_bytes()

    damage(ca)
    ca.ensure()

    leaf = cert(ca.server_cert_path)
    leaf.verify_directly_issued_by(cert(ca.ca_cert_path))
    assert ca.ca_cert_path.read_bytes() == root
    assert stat.S_IMODE(ca.server_key_path.stat().st_mode) == 0o600


def test_a_server_certificate_from_another_ca_is_reissued(tmp_path: Path) -> None:
    ours, theirs = LocalCA(tmp_path / "ours"), LocalCA(tmp_path / "theirs")
    ours.ensure()
    theirs.ensure()
    ours.server_cert_path.write_bytes(theirs.server_cert_path.read_bytes())
    ours.server_key_path.write_bytes(theirs.server_key_path.read_bytes())

    ours.ensure()

    cert(ours.server_cert_path).verify_directly_issued_by(cert(ours.ca_cert_path))


def test_a_lost_ca_is_recreated_and_the_server_certificate_follows_it(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path)
    ca.ensure()
    old_root = cert(ca.ca_cert_path)
    ca.ca_key_path.unlink()

    ca.ensure()

    new_root = cert(ca.ca_cert_path)
    assert new_root != old_root
    cert(ca.server_cert_path).verify_directly_issued_by(new_root)


def test_a_clock_without_a_timezone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        LocalCA(tmp_path, clock=lambda: datetime(2030, 1, 1)).ensure()
