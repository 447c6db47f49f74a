"""Request validation in AWS's words, and how passwords and codes are kept."""

from __future__ import annotations

import pytest

from overcast import spec
from overcast.local.identity import shapes
from overcast.local.identity.errors import InvalidParameter, SerializationError
from overcast.local.identity.passwords import (
    ScryptCost,
    SecretHasher,
    policy_violation,
    temporary_password,
)
from tests.unit.identity.conftest import CHEAP


def test_missing_members_are_listed_in_one_validation_message() -> None:
    with pytest.raises(InvalidParameter) as caught:
        shapes.parse(shapes.SignUpRequest, {"ClientId": "abc"})

    assert caught.value.message == (
        "2 validation errors detected: "
        "Value null at 'username' failed to satisfy constraint: Member must not be null; "
        "Value null at 'password' failed to satisfy constraint: Member must not be null"
    )


def test_constraint_errors_name_the_member_and_hide_sensitive_values() -> None:
    with pytest.raises(InvalidParameter) as caught:
        shapes.parse(
            shapes.AdminUserRequest,
            {"UserPoolId": "not a pool", "Username": "has space"},
        )

    message = caught.value.message
    assert message.startswith("2 validation errors detected: ")
    assert (
        "Value 'not a pool' at 'userPoolId' failed to satisfy constraint: Member must " in message
    )
    assert (
        "Value at 'username' failed to satisfy constraint: Member must satisfy regular" in message
    )
    assert "has space" not in message


def test_list_members_are_located_as_aws_does() -> None:
    body = {
        "ClientId": "abc",
        "Username": "a@example.com",
        "Password": "x",
        "UserAttributes": [{"Name": "name", "Value": "A"}, {"Name": ""}],
    }

    with pytest.raises(InvalidParameter, match=r"at 'userAttributes\.2\.member\.name'"):
        shapes.parse(shapes.SignUpRequest, body)


def test_enum_members_list_their_values() -> None:
    with pytest.raises(
        InvalidParameter, match=r"enum value set: \[USER_SRP_AUTH, REFRESH_TOKEN_AUTH"
    ):
        shapes.parse(shapes.InitiateAuthRequest, {"ClientId": "abc", "AuthFlow": "MAGIC"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ClientId": 42, "Username": "a@b.co"}, "NUMBER_VALUE can not be converted to a String"),
        ({"ClientId": ["a"], "Username": "a@b.co"}, "START_ARRAY can not be converted to a String"),
        ({"ClientId": "abc", "Username": True}, "TRUE_VALUE can not be converted to a String"),
    ],
)
def test_wrong_json_types_are_serialization_errors(body: dict[str, object], message: str) -> None:
    with pytest.raises(SerializationError, match=message):
        shapes.parse(shapes.ClientUserRequest, body)


def test_a_body_that_is_not_an_object_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError):
        shapes.parse(shapes.ClientUserRequest, ["ClientId"])


def test_unused_members_are_ignored() -> None:
    request = shapes.parse(
        shapes.ClientUserRequest,
        {"ClientId": "abc", "Username": "a@b.co", "ClientMetadata": {"k": "v"}},
    )

    assert (request.ClientId, request.Username) == ("abc", "a@b.co")


def test_a_hash_verifies_only_its_secret_and_each_is_salted() -> None:
    hasher = SecretHasher(CHEAP)

    first, second = hasher.hash("Corr3ct-horse"), hasher.hash("Corr3ct-horse")

    assert first != second
    assert first.startswith("scrypt$16$1$1$")
    assert hasher.verify("Corr3ct-horse", first)
    assert not hasher.verify("corr3ct-horse", first)
    assert not hasher.verify("Corr3ct-horse", "scrypt$garbage")


def test_a_hash_carries_its_cost_so_a_cost_change_keeps_old_hashes_valid() -> None:
    stored = SecretHasher(CHEAP).hash("Corr3ct-horse")

    assert SecretHasher(ScryptCost(n=2**5, r=2, p=1)).verify("Corr3ct-horse", stored)


def test_production_cost_is_scrypt_n_16384_r_8_p_1() -> None:
    assert ScryptCost() == ScryptCost(n=2**14, r=8, p=1)


@pytest.mark.parametrize(
    "policy",
    [spec.PasswordPolicy(), spec.PasswordPolicy(minimum_length=30), spec.PasswordPolicy(6)],
)
def test_generated_temporary_passwords_satisfy_the_policy(policy: spec.PasswordPolicy) -> None:
    for _ in range(20):
        assert policy_violation(policy, temporary_password(policy)) is None


def test_a_relaxed_policy_accepts_what_it_does_not_require() -> None:
    relaxed = spec.PasswordPolicy(
        minimum_length=6,
        require_lowercase=False,
        require_uppercase=False,
        require_digits=False,
        require_symbols=False,
    )

    assert policy_violation(relaxed, "abcdef") is None
    assert policy_violation(relaxed, "abcde") == "Password not long enough"
