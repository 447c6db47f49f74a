"""STS's query protocol: what botocore reads from our XML, and how parameters are checked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.parsers import QueryParser

from overcast.local.auth.sigv4 import (
    Credentials,
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    SignatureError,
    SignatureExpired,
    UnrecognizedClient,
)
from overcast.local.federation.openid import OpenIdTokens
from overcast.local.federation.trust import WebIdentityTrust
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.roles import Roles
from overcast.local.iam.sessions import SessionStore
from overcast.local.identity.keys import SigningKey, new_private_jwk
from overcast.local.sts import errors
from overcast.local.sts.operations import SecurityTokenService
from overcast.local.sts.query import error_document, parameters, result_document, timestamp

MODEL = botocore.session.get_session().get_service_model("sts")


def parsed(body: bytes, operation: str, status: int = 200) -> dict[str, Any]:
    shape = MODEL.operation_model(operation).output_shape
    assert shape is not None
    response = {"body": body, "headers": {}, "status_code": status}
    result: dict[str, Any] = QueryParser().parse(response, shape)
    return result


def test_botocore_reads_a_result_document_as_the_operations_output() -> None:
    expiration = datetime(2025, 3, 1, 13, 0, 5, tzinfo=UTC)
    body = result_document(
        "AssumeRoleWithWebIdentity",
        {
            "SubjectFromWebIdentityToken": "us-east-1:abc",
            "AssumedRoleUser": {
                "AssumedRoleId": "AROAX:app",
                "Arn": "arn:aws:sts::1:assumed-role/r/app",
            },
            "Credentials": {
                "AccessKeyId": "ASIAEXAMPLEEXAMPLE01",
                "SecretAccessKey": "secret/+",
                "SessionToken": "token<&>",
                "Expiration": timestamp(expiration),
            },
        },
        "request-1",
    )

    result = parsed(body, "AssumeRoleWithWebIdentity")

    assert result["Credentials"]["Expiration"] == expiration
    assert result["Credentials"]["SessionToken"] == "token<&>"
    assert result["AssumedRoleUser"]["Arn"] == "arn:aws:sts::1:assumed-role/r/app"
    assert result["ResponseMetadata"]["RequestId"] == "request-1"
    assert body.startswith(
        b'<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        b"<AssumeRoleWithWebIdentityResult>"
    )


def test_botocore_reads_an_error_document_and_characters_xml_cannot_carry_are_dropped() -> None:
    body = error_document("Sender", "ValidationError", "bad\x00 value <x>", "request-2")

    result = parsed(body, "GetCallerIdentity", status=400)

    assert result["Error"] == {
        "Type": "Sender",
        "Code": "ValidationError",
        "Message": "bad value <x>",
    }
    assert result["ResponseMetadata"]["RequestId"] == "request-2"


def test_parameters_come_from_the_query_string_and_the_form_body() -> None:
    found = parameters(
        b"Action=GetCallerIdentity", b"Version=2011-06-15&RoleSessionName=a%2Bb&Empty="
    )

    assert found == {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "RoleSessionName": "a+b",
        "Empty": "",
    }


@pytest.mark.parametrize(
    ("raised", "code", "status"),
    [
        (
            MissingAuthenticationToken("Missing Authentication Token"),
            "MissingAuthenticationToken",
            403,
        ),
        (IncompleteSignature("Credential must have exactly 5 ..."), "IncompleteSignature", 400),
        (
            UnrecognizedClient("The security token included in the request is invalid."),
            "InvalidClientTokenId",
            403,
        ),
        (
            InvalidSignature("The request signature we calculated does not match"),
            "SignatureDoesNotMatch",
            403,
        ),
        (SignatureExpired("Signature expired: ..."), "SignatureDoesNotMatch", 403),
    ],
    ids=["unsigned", "malformed", "unknown-key", "wrong-signature", "stale-signature"],
)
def test_signature_errors_become_stss_own(raised: SignatureError, code: str, status: int) -> None:
    error = errors.from_signature_error(raised)

    assert (error.code, error.status) == (code, status)


def utc_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[SecurityTokenService]:
    roles = Roles()
    sessions = SessionStore(
        tmp_path / "sessions.sqlite3",
        roles,
        root=Credentials("AKIAROOTROOTROOT0001", "secret"),
        account_id="000000000000",
        clock=utc_now,
    )
    tokens = OpenIdTokens(SigningKey(new_private_jwk()), utc_now)
    trust = WebIdentityTrust(PolicyEvaluator(utc_now), sessions, "000000000000")
    yield SecurityTokenService(roles, tokens, trust)
    sessions.close()


VALID = {
    "RoleArn": "arn:aws:iam::000000000000:role/todo-files-authenticated",
    "RoleSessionName": "app",
    "WebIdentityToken": "a.b.c",
}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {},
            "3 validation errors detected: "
            + "; ".join(
                f"Value null at '{member}' failed to satisfy constraint: Member must not be null"
                for member in ("roleArn", "roleSessionName", "webIdentityToken")
            ),
            id="nothing",
        ),
        pytest.param(
            {**VALID, "RoleSessionName": "my app"},
            "1 validation error detected: Value 'my app' at 'roleSessionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
            id="session-name-pattern",
        ),
        pytest.param(
            {**VALID, "WebIdentityToken": "abc"},
            "1 validation error detected: Value at 'webIdentityToken' failed to satisfy "
            "constraint: Member must have length greater than or equal to 4",
            id="short-token-not-echoed",
        ),
        pytest.param(
            {**VALID, "DurationSeconds": "50000"},
            "1 validation error detected: Value '50000' at 'durationSeconds' failed to satisfy "
            "constraint: Member must have value less than or equal to 43200",
            id="duration-over-12-hours",
        ),
        pytest.param(
            {**VALID, "DurationSeconds": "soon"},
            "1 validation error detected: Value 'soon' at 'durationSeconds' failed to satisfy "
            "constraint: Member must be a number",
            id="duration-not-a-number",
        ),
    ],
)
def test_invalid_parameters_are_a_validation_error(
    service: SecurityTokenService, params: dict[str, str], message: str
) -> None:
    with pytest.raises(errors.ValidationError) as refused:
        service.assume_role_with_web_identity(params)

    assert refused.value.message == message
    assert refused.value.status == 400


def test_session_policies_are_refused_loudly(service: SecurityTokenService) -> None:
    with pytest.raises(errors.ValidationError) as refused:
        service.assume_role_with_web_identity({**VALID, "Policy": '{"Version": "2012-10-17"}'})

    assert "not supported by the local cloud" in refused.value.message


def test_a_token_that_is_not_an_identity_pools_is_an_invalid_identity_token(
    service: SecurityTokenService,
) -> None:
    with pytest.raises(errors.InvalidIdentityToken):
        service.assume_role_with_web_identity(VALID)
