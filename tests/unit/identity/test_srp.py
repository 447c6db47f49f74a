"""The server's SRP arithmetic agrees with pycognito's client (Cognito's own variant)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import pytest
from pycognito import aws_srp
from pycognito.aws_srp import AWSSRP

from overcast.local.identity import srp
from tests.unit.identity.srp_client import srp_client

POOL_ID = "us-east-1_AbCdEf123"
USER_ID = "6f1c2a4e-2b7d-4c1e-9a53-0d7f3e1b9c20"
PASSWORD = "Corr3ct-horse"


def client_key(client: AWSSRP, verifier: srp.Verifier, public_b: int) -> bytes:
    key: bytes = client.get_password_authentication_key(
        USER_ID, client.password, public_b, f"{verifier.salt:x}"
    )
    return key


def test_the_group_and_multiplier_are_cognitos() -> None:
    client = srp_client(POOL_ID, "alice@example.com", PASSWORD)

    assert client.big_n == srp.N
    assert client.val_g == srp.G
    assert client.val_k == srp.K


@pytest.mark.parametrize("value", [1, 0x7F, 0x80, 0xABC, 0x8000, srp.N, srp.N - 1, srp.K])
def test_numbers_are_padded_for_hashing_as_the_client_pads_them(value: int) -> None:
    assert srp.pad_hex(value) == aws_srp.pad_hex(value)


def test_the_password_exponent_is_the_clients() -> None:
    salt = srp.new_salt()
    inner = aws_srp.hash_sha256(f"AbCdEf123{USER_ID}:{PASSWORD}".encode())
    expected = aws_srp.hex_to_long(aws_srp.hex_hash(aws_srp.pad_hex(f"{salt:x}") + inner))

    assert srp.password_exponent("AbCdEf123", USER_ID, PASSWORD, salt) == expected


def test_client_and_server_derive_the_same_key_from_the_right_password() -> None:
    verifier = srp.new_verifier(srp.pool_name(POOL_ID), USER_ID, PASSWORD)
    client = srp_client(POOL_ID, "alice@example.com", PASSWORD)

    handshake = srp.answer(verifier, client.large_a_value)

    assert len(handshake.key) == 16
    assert handshake.key == client_key(client, verifier, handshake.public_b)


def test_a_wrong_password_or_another_pool_derives_another_key() -> None:
    verifier = srp.new_verifier(srp.pool_name(POOL_ID), USER_ID, PASSWORD)
    wrong = srp_client(POOL_ID, "alice@example.com", "Wr0ng-horse")
    elsewhere = srp_client("us-east-1_Other0000", "alice@example.com", PASSWORD)

    for client in (wrong, elsewhere):
        handshake = srp.answer(verifier, client.large_a_value)
        assert handshake.key != client_key(client, verifier, handshake.public_b)


def test_each_answer_uses_a_fresh_ephemeral_secret() -> None:
    verifier = srp.new_verifier("AbCdEf123", USER_ID, PASSWORD)
    public_a = srp_client(POOL_ID, "alice@example.com", PASSWORD).large_a_value

    first, second = srp.answer(verifier, public_a), srp.answer(verifier, public_a)

    assert first.public_b != second.public_b
    assert first.key != second.key


def test_the_signature_is_the_one_pycognito_sends() -> None:
    verifier = srp.new_verifier(srp.pool_name(POOL_ID), USER_ID, PASSWORD)
    client = srp_client(POOL_ID, "alice@example.com", PASSWORD)
    handshake = srp.answer(verifier, client.large_a_value)
    block = secrets.token_bytes(64)
    challenge = {
        "SALT": f"{verifier.salt:x}",
        "SRP_B": f"{handshake.public_b:x}",
        "SECRET_BLOCK": base64.b64encode(block).decode(),
        "USER_ID_FOR_SRP": USER_ID,
        "USERNAME": USER_ID,
    }

    sent = client.process_challenge(challenge, client.get_auth_params())

    expected = srp.claim_signature(handshake.key, "AbCdEf123", USER_ID, block, sent["TIMESTAMP"])
    assert srp.signature_matches(expected, sent["PASSWORD_CLAIM_SIGNATURE"])
    assert not srp.signature_matches(expected, sent["PASSWORD_CLAIM_SIGNATURE"][:-4] + "AAA=")


@pytest.mark.parametrize("public_a", [0, srp.N, 5 * srp.N])
def test_an_srp_a_that_is_zero_modulo_n_is_refused(public_a: int) -> None:
    verifier = srp.new_verifier("AbCdEf123", USER_ID, PASSWORD)

    with pytest.raises(srp.InvalidPublicValue):
        srp.answer(verifier, public_a)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
        datetime(2026, 9, 5, 7, 8, 9, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_timestamps_are_written_and_read_as_the_client_writes_them(moment: datetime) -> None:
    written = srp.format_timestamp(moment)

    assert written == AWSSRP.get_cognito_formatted_timestamp(moment)
    assert srp.parse_timestamp(written) == moment


def test_the_day_of_month_is_not_zero_padded() -> None:
    assert srp.format_timestamp(datetime(2026, 9, 5, 7, 8, 9, tzinfo=UTC)) == (
        "Sat Sep 5 07:08:09 UTC 2026"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Sat Sep 05 07:08:09 UTC 2026",  # zero-padded day
        "Fri Sep 5 07:08:09 UTC 2026",  # wrong weekday
        "Mon Feb 30 07:08:09 UTC 2026",  # no such date
        "Sat sep 5 07:08:09 UTC 2026",
        "Sat Sep 5 7:08:09 UTC 2026",
        "Sat Sep 5 24:08:09 UTC 2026",
        "Sat Sep 5 07:08:09 GMT 2026",
        "Sat Sep  5 07:08:09 UTC 2026",
        "Sat Sep 5 07:08:09 UTC 2026 ",
        "2026-09-05T07:08:09Z",
        "",
    ],
)
def test_timestamps_in_any_other_format_are_not_read(text: str) -> None:
    assert srp.parse_timestamp(text) is None


def test_a_verifier_survives_its_encoding_and_hides_its_value() -> None:
    verifier = srp.new_verifier("AbCdEf123", USER_ID, PASSWORD)

    assert srp.Verifier.decode(verifier.encode()) == verifier
    assert f"{verifier.value:x}" not in repr(verifier)
    for garbage in (None, "", "srp$", "srp$zz$11", "scrypt$1$2", f"srp$1${srp.N:x}"):
        assert srp.Verifier.decode(garbage) is None


def test_stand_in_verifiers_are_stable_per_label_and_secret() -> None:
    secret = secrets.token_bytes(32)

    first = srp.simulated_verifier(secret, "nobody@example.com")

    assert srp.simulated_verifier(secret, "nobody@example.com") == first
    assert srp.simulated_verifier(secret, "other@example.com").salt != first.salt
    assert srp.simulated_verifier(secrets.token_bytes(32), "nobody@example.com") != first
    assert srp.simulated_user_id(secret, "nobody@example.com") == srp.simulated_user_id(
        secret, "nobody@example.com"
    )
