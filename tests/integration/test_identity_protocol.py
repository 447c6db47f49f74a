"""The user pools over real HTTP, driven by unmodified boto3 and AWS CLI clients.

A real uvicorn server on a free 127.0.0.1 port serves ``IdentityProvider.asgi_app``
backed by a real SQLite file; the only fake is the mailer, which hands us codes.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import KeySet

from overcast import spec
from overcast.local.auth import Credentials
from overcast.local.identity import IdentityProvider, RegisteredPool
from overcast.ports.mail.memory import MemoryMailer
from tests.fixtures.server_thread import ServerThread

ROOT = Credentials("AKIAOVERCASTROOT0001", "root/secret+key")
PASSWORD = "Corr3ct-horse"
POOL = spec.UserPool(
    "users",
    clients=(
        spec.UserPoolClient(
            "web",
            auth_flows=("USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH", "ADMIN_USER_PASSWORD_AUTH"),
        ),
    ),
)


@dataclass
class Cloud:
    url: str
    pool: RegisteredPool
    mailer: MemoryMailer

    @property
    def client_id(self) -> str:
        return self.pool.client_ids["web"]

    def cognito(self, credentials: Credentials = ROOT) -> Any:
        return boto3.session.Session().client(
            "cognito-idp",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            config=Config(retries={"max_attempts": 1}),
        )

    def code_for(self, email: str) -> str:
        mail = next(m for m in reversed(self.mailer.sent) if m.to == (email,))
        match = re.search(r"\d{6}", mail.text)
        assert match is not None
        return match.group()

    def confirmed_user(self) -> str:
        email = f"user-{uuid.uuid4().hex[:8]}@example.com"
        cognito = self.cognito()
        cognito.sign_up(ClientId=self.client_id, Username=email, Password=PASSWORD)
        cognito.confirm_sign_up(
            ClientId=self.client_id, Username=email, ConfirmationCode=self.code_for(email)
        )
        return email

    def sign_in(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.cognito().initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        result: dict[str, Any] = response["AuthenticationResult"]
        return result


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    path: Path = tmp_path_factory.mktemp("identity") / "userpools.sqlite3"
    mailer = MemoryMailer()
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{bound.getsockname()[1]}"
    provider = IdentityProvider(
        path, mailer, public_base_url=url, region="us-east-1", root_credentials=ROOT
    )
    pool = provider.register("todo", POOL)
    with ServerThread(provider.asgi_app, bound):
        yield Cloud(url, pool, mailer)
    provider.close()


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_user_signs_up_signs_in_refreshes_and_signs_out_with_boto3(cloud: Cloud) -> None:
    cognito = cloud.cognito()
    email = f"alice-{uuid.uuid4().hex[:8]}@example.com"

    signed_up = cognito.sign_up(ClientId=cloud.client_id, Username=email, Password=PASSWORD)
    assert signed_up["UserConfirmed"] is False
    assert signed_up["CodeDeliveryDetails"] == {
        "Destination": "a***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    cognito.confirm_sign_up(
        ClientId=cloud.client_id, Username=email, ConfirmationCode=cloud.code_for(email)
    )
    tokens = cloud.sign_in(email.upper())
    assert (tokens["TokenType"], tokens["ExpiresIn"]) == ("Bearer", 3600)

    jwks = httpx.get(f"{cloud.pool.issuer}/.well-known/jwks.json").json()
    claims = jwt.decode(tokens["IdToken"], KeySet.import_key_set(jwks), algorithms=["RS256"]).claims
    assert claims["iss"] == cloud.pool.issuer == f"{cloud.url}/{cloud.pool.pool_id}"
    assert (claims["aud"], claims["token_use"], claims["email"]) == (cloud.client_id, "id", email)
    assert claims["sub"] == claims["cognito:username"] == signed_up["UserSub"]

    user = cognito.get_user(AccessToken=tokens["AccessToken"])
    assert user["Username"] == signed_up["UserSub"]
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]

    refreshed = cognito.initiate_auth(
        ClientId=cloud.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]
    assert "RefreshToken" not in refreshed

    cognito.global_sign_out(AccessToken=refreshed["AccessToken"])
    with pytest.raises(ClientError) as revoked_refresh:
        cognito.initiate_auth(
            ClientId=cloud.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
    assert error_of(revoked_refresh) == ("NotAuthorizedException", "Refresh Token has been revoked")
    with pytest.raises(ClientError) as revoked_access:
        cognito.get_user(AccessToken=tokens["AccessToken"])
    assert error_of(revoked_access) == ("NotAuthorizedException", "Access Token has been revoked")


def test_the_discovery_document_points_at_the_pools_keys(cloud: Cloud) -> None:
    document = httpx.get(f"{cloud.pool.issuer}/.well-known/openid-configuration").json()

    assert document["issuer"] == cloud.pool.issuer
    assert document["jwks_uri"] == f"{cloud.pool.issuer}/.well-known/jwks.json"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert httpx.get(document["jwks_uri"]).json() == cloud.pool.jwks
    assert httpx.get(f"{cloud.url}/us-east-1_nothere00/.well-known/jwks.json").status_code == 404


def test_a_forgotten_password_is_reset_with_the_emailed_code(cloud: Cloud) -> None:
    email = cloud.confirmed_user()
    cognito = cloud.cognito()

    sent = cognito.forgot_password(ClientId=cloud.client_id, Username=email)
    cognito.confirm_forgot_password(
        ClientId=cloud.client_id,
        Username=email,
        ConfirmationCode=cloud.code_for(email),
        Password="N3w-password",
    )

    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert cloud.sign_in(email, "N3w-password")["AccessToken"]


def test_the_operator_manages_users_with_signed_requests(cloud: Cloud) -> None:
    cognito = cloud.cognito()
    pool_id = cloud.pool.pool_id
    email = f"bob-{uuid.uuid4().hex[:8]}@example.com"

    created = cognito.admin_create_user(
        UserPoolId=pool_id, Username=email, TemporaryPassword="Temp0rary!", MessageAction="SUPPRESS"
    )["User"]
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    challenge = cognito.initiate_auth(
        ClientId=cloud.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Temp0rary!"},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    answered = cognito.respond_to_auth_challenge(
        ClientId=cloud.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": "Ch0sen-password"},
    )
    assert answered["AuthenticationResult"]["IdToken"]

    fetched = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    assert (fetched["Username"], fetched["UserStatus"]) == (created["Username"], "CONFIRMED")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=email, Password="Adm1n-chosen", Permanent=True
    )
    admin_tokens = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=cloud.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Adm1n-chosen"},
    )
    assert admin_tokens["AuthenticationResult"]["AccessToken"]

    cognito.admin_delete_user(UserPoolId=pool_id, Username=email)
    with pytest.raises(ClientError) as gone:
        cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    assert error_of(gone) == ("UserNotFoundException", "User does not exist.")


def test_the_operator_confirms_a_sign_up(cloud: Cloud) -> None:
    cognito = cloud.cognito()
    email = f"carol-{uuid.uuid4().hex[:8]}@example.com"
    cognito.sign_up(ClientId=cloud.client_id, Username=email, Password=PASSWORD)

    cognito.admin_confirm_sign_up(UserPoolId=cloud.pool.pool_id, Username=email)

    assert cloud.sign_in(email)["IdToken"]


def test_wrong_passwords_and_unknown_users_are_indistinguishable(cloud: Cloud) -> None:
    email = cloud.confirmed_user()

    with pytest.raises(ClientError) as wrong:
        cloud.sign_in(email, "Wr0ng-password")
    with pytest.raises(ClientError) as unknown:
        cloud.sign_in("nobody@example.com")

    assert error_of(wrong) == error_of(unknown)
    assert error_of(wrong) == ("NotAuthorizedException", "Incorrect username or password.")
    assert wrong.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_sign_up_mistakes_are_answered_with_cognitos_errors(cloud: Cloud) -> None:
    cognito = cloud.cognito()
    email = f"dave-{uuid.uuid4().hex[:8]}@example.com"

    with pytest.raises(ClientError) as weak:
        cognito.sign_up(ClientId=cloud.client_id, Username=email, Password="password")
    assert error_of(weak) == (
        "InvalidPasswordException",
        "Password did not conform with policy: Password must have uppercase characters",
    )
    cognito.sign_up(ClientId=cloud.client_id, Username=email, Password=PASSWORD)
    with pytest.raises(ClientError) as unconfirmed:
        cloud.sign_in(email)
    assert error_of(unconfirmed)[0] == "UserNotConfirmedException"
    with pytest.raises(ClientError) as wrong_code:
        cognito.confirm_sign_up(ClientId=cloud.client_id, Username=email, ConfirmationCode="x1")
    assert error_of(wrong_code)[0] == "CodeMismatchException"
    with pytest.raises(ClientError) as duplicate:
        cognito.sign_up(ClientId=cloud.client_id, Username=email.upper(), Password=PASSWORD)
    assert error_of(duplicate)[0] == "UsernameExistsException"
    with pytest.raises(ClientError) as unknown_client:
        cognito.sign_up(ClientId="nosuchclient", Username=email, Password=PASSWORD)
    assert error_of(unknown_client) == (
        "ResourceNotFoundException",
        "User pool client nosuchclient does not exist.",
    )


def post(cloud: Cloud, target: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        cloud.url + "/",
        content=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{target}",
            **headers,
        },
    )


def test_malformed_json_is_a_serialization_error_with_aws_headers(cloud: Cloud) -> None:
    response = post(cloud, "SignUp", b'{"ClientId": ')

    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"
    assert response.headers["x-amzn-ErrorType"] == "SerializationException:"
    assert response.headers["x-amzn-RequestId"]
    assert response.headers["content-type"] == "application/x-amz-json-1.1"


def test_wrong_types_and_missing_members_are_refused_before_anything_runs(cloud: Cloud) -> None:
    wrong_type = post(cloud, "SignUp", json.dumps({"ClientId": 7, "Username": "a@b.co"}).encode())
    missing = post(cloud, "SignUp", json.dumps({"ClientId": cloud.client_id}).encode())

    assert wrong_type.json()["__type"] == "SerializationException"
    assert missing.json() == {
        "__type": "InvalidParameterException",
        "message": "2 validation errors detected: "
        "Value null at 'username' failed to satisfy constraint: Member must not be null; "
        "Value null at 'password' failed to satisfy constraint: Member must not be null",
    }


def test_an_unknown_operation_and_an_oversized_body_are_refused(cloud: Cloud) -> None:
    unknown = post(cloud, "ListUsers", b"{}")
    oversized = post(cloud, "SignUp", b" " * (1024 * 1024 + 1))

    assert unknown.json()["__type"] == "UnknownOperationException"
    assert oversized.status_code == 413


def test_operator_operations_need_a_valid_signature(cloud: Cloud) -> None:
    pool_id = cloud.pool.pool_id
    forged = cloud.cognito(Credentials(ROOT.access_key_id, "not-the-secret"))
    stranger = cloud.cognito(Credentials("AKIAUNKNOWN000000000", "whatever"))

    with pytest.raises(ClientError) as bad_signature:
        forged.admin_get_user(UserPoolId=pool_id, Username="alice@example.com")
    with pytest.raises(ClientError) as unknown_key:
        stranger.admin_delete_user(UserPoolId=pool_id, Username="alice@example.com")
    unsigned = post(cloud, "AdminGetUser", json.dumps({"UserPoolId": pool_id}).encode())

    assert error_of(bad_signature)[0] == "InvalidSignatureException"
    assert error_of(unknown_key) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
    assert unsigned.json() == {
        "__type": "MissingAuthenticationTokenException",
        "message": "Missing Authentication Token",
    }


def test_browsers_may_call_the_public_operations(cloud: Cloud) -> None:
    preflight = httpx.options(
        cloud.url + "/",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
        },
    )

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "x-amz-target" in preflight.headers["access-control-allow-headers"]


def test_the_aws_cli_works_against_the_endpoint(cloud: Cloud, tmp_path: Path) -> None:
    email = cloud.confirmed_user()
    environment = {
        "AWS_ACCESS_KEY_ID": ROOT.access_key_id,
        "AWS_SECRET_ACCESS_KEY": ROOT.secret_access_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "HOME": str(tmp_path),
    }
    command = [sys.executable, "-m", "awscli", "cognito-idp", "--endpoint-url", cloud.url]

    result = subprocess.run(
        [*command, "admin-get-user", "--user-pool-id", cloud.pool.pool_id, "--username", email],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["UserStatus"] == "CONFIRMED"


def test_a_challenge_the_pools_never_issue_is_refused(cloud: Cloud) -> None:
    with pytest.raises(ClientError) as caught:
        cloud.cognito().respond_to_auth_challenge(
            ClientId=cloud.client_id,
            ChallengeName="SMS_MFA",
            Session="s" * 40,
            ChallengeResponses={"USERNAME": "alice@example.com", "SMS_MFA_CODE": "123456"},
        )

    assert error_of(caught)[0] == "InvalidParameterException"
