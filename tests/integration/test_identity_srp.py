"""USER_SRP_AUTH over real HTTPS, driven by unmodified pycognito and boto3.

A real uvicorn server on a free 127.0.0.1 port serves ``IdentityProvider.asgi_app``
over TLS with a certificate from the local CA, backed by a real SQLite file. The
only fakes are the mailer (it hands us codes) and a clock that can be moved ahead.

pycognito is pointed at the local pool the supported way: ``boto3_client_kwargs``
carries ``endpoint_url`` (and ``verify``, the local CA) to the boto3 client it
builds, and pycognito then takes ``<endpoint_url>/<pool id>`` as the pool's URL.
The pool's issuer is that same URL (``public_base_url`` is the endpoint), so
pycognito fetches the JWKS from the local pool itself, at
``<issuer>/.well-known/jwks.json``, and checks ``iss`` against it, as it does
against Cognito. That fetch goes through ``requests``, which trusts the local CA
through ``REQUESTS_CA_BUNDLE`` (set with ``monkeypatch``); pycognito's other
route, a ``COGNITO_JWKS`` variable holding the keys, would skip the fetch.
"""

from __future__ import annotations

import base64
import gc
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import KeySet
from pycognito import Cognito
from pycognito.exceptions import ForceChangePasswordException

from overcast import spec
from overcast.local.auth import Credentials
from overcast.local.identity import IdentityProvider, RegisteredPool, srp
from overcast.local.tls import LocalCA
from overcast.ports.mail.memory import MemoryMailer
from tests.fixtures.server_thread import ServerThread
from tests.unit.identity.srp_client import proof, srp_client, start

ROOT = Credentials("AKIAOVERCASTROOT0001", "root/secret+key")
PASSWORD = "Corr3ct-horse"
POOL = spec.UserPool(
    "users",
    clients=(
        spec.UserPoolClient(
            "web", auth_flows=("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH")
        ),
        spec.UserPoolClient("password-only", auth_flows=("USER_PASSWORD_AUTH",)),
    ),
)


class MovableClock:
    """The wall clock, plus however far a test has moved it ahead."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@dataclass
class Cloud:
    url: str
    ca: Path
    pool: RegisteredPool
    mailer: MemoryMailer
    clock: MovableClock
    # Closed before the server stops: an open TLS connection would hold up its shutdown.
    clients: list[Any] = field(default_factory=list)
    shared: Any = None

    @property
    def client_id(self) -> str:
        return self.pool.client_ids["web"]

    def cognito(self) -> Any:
        """The tests' own boto3 client (one, made on first use)."""
        if self.shared is not None:
            return self.shared
        self.shared = client = boto3.session.Session().client(
            "cognito-idp",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=ROOT.access_key_id,
            aws_secret_access_key=ROOT.secret_access_key,
            verify=str(self.ca),
            config=Config(retries={"max_attempts": 1}),
        )
        self.clients.append(client)
        return client

    def pycognito(self, email: str, client: str = "web") -> Cognito:
        user = Cognito(
            self.pool.pool_id,
            self.pool.client_ids[client],
            username=email,
            access_key=ROOT.access_key_id,
            secret_key=ROOT.secret_access_key,
            boto3_client_kwargs={"endpoint_url": self.url, "verify": str(self.ca)},
            botocore_config=Config(retries={"max_attempts": 1}),
        )
        self.clients.append(user.client)
        return user

    def confirmed_user(self) -> str:
        email = f"user-{uuid.uuid4().hex[:8]}@example.com"
        cognito = self.cognito()
        cognito.sign_up(ClientId=self.client_id, Username=email, Password=PASSWORD)
        mail = next(m for m in reversed(self.mailer.sent) if m.to == (email,))
        code = re.search(r"\d{6}", mail.text)
        assert code is not None
        cognito.confirm_sign_up(ClientId=self.client_id, Username=email, ConfirmationCode=code[0])
        return email

    def challenge(self, email: str, password: str = PASSWORD) -> tuple[Any, dict[str, str]]:
        """pycognito's SRP client for ``email`` and the PASSWORD_VERIFIER it got over HTTPS."""
        aws = srp_client(self.pool.pool_id, email, password, self.cognito())
        answer = self.cognito().initiate_auth(
            ClientId=self.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=start(aws)
        )
        assert answer["ChallengeName"] == "PASSWORD_VERIFIER"
        assert "Session" not in answer  # as Cognito: the SECRET_BLOCK carries the state
        return aws, answer["ChallengeParameters"]

    def respond(self, responses: dict[str, str]) -> dict[str, Any]:
        answered: dict[str, Any] = self.cognito().respond_to_auth_challenge(
            ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
        )
        return answered


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    directory = tmp_path_factory.mktemp("identity-srp")
    ca = LocalCA(directory / "tls")
    ca.ensure()
    mailer = MemoryMailer()
    clock = MovableClock()
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    url = f"https://127.0.0.1:{bound.getsockname()[1]}"
    provider = IdentityProvider(
        directory / "userpools.sqlite3",
        mailer,
        public_base_url=url,
        region="us-east-1",
        root_credentials=ROOT,
        clock=clock,
    )
    pool = provider.register("todo", POOL)
    tls = {"ssl_certfile": str(ca.server_cert_path), "ssl_keyfile": str(ca.server_key_path)}
    with ServerThread(provider.asgi_app, bound, **tls):
        cloud = Cloud(url, ca.ca_cert_path, pool, mailer, clock)
        yield cloud
        for client in cloud.clients:
            client.close()
        # pytest keeps each ClientError it caught, whose traceback holds the HTTP response
        # and so its TLS connection, in a reference cycle; free them now, or the server
        # waits out each connection's TLS shutdown.
        gc.collect()
    provider.close()


@pytest.fixture(autouse=True)
def trust_the_local_ca(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    """pycognito fetches the JWKS with ``requests``, which reads its CA bundle from here."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cloud.ca))


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_pycognito_signs_in_with_srp_and_its_tokens_verify_with_the_pools_keys(
    cloud: Cloud,
) -> None:
    email = cloud.confirmed_user()
    sub = cloud.cognito().admin_get_user(UserPoolId=cloud.pool.pool_id, Username=email)["Username"]
    user = cloud.pycognito(email)

    user.authenticate(password=PASSWORD)

    keys = KeySet.import_key_set(dict(cloud.pool.jwks))
    claims = jwt.decode(user.id_token, keys, algorithms=["RS256"]).claims
    assert (claims["sub"], claims["email"], claims["aud"]) == (sub, email, cloud.client_id)
    assert claims["iss"] == f"{cloud.url}/{cloud.pool.pool_id}"
    assert user.access_claims["sub"] == sub
    assert user.refresh_token
    assert user.get_user().email == email  # the access token works against the pool


def test_a_wrong_password_or_an_unknown_user_is_not_authorized_as_by_cognito(
    cloud: Cloud,
) -> None:
    email = cloud.confirmed_user()

    for name, password in ((email, "Wr0ng-password"), ("nobody@example.com", PASSWORD)):
        user = cloud.pycognito(name)
        with pytest.raises(user.client.exceptions.NotAuthorizedException) as caught:
            user.authenticate(password=password)
        assert error_of(caught) == ("NotAuthorizedException", "Incorrect username or password.")


def test_an_invited_user_sets_their_password_through_srp(cloud: Cloud) -> None:
    email = f"invited-{uuid.uuid4().hex[:8]}@example.com"
    cloud.cognito().admin_create_user(
        UserPoolId=cloud.pool.pool_id,
        Username=email,
        TemporaryPassword="Temp0rary!",
        MessageAction="SUPPRESS",
    )

    with pytest.raises(ForceChangePasswordException):
        cloud.pycognito(email).authenticate(password="Temp0rary!")
    cloud.pycognito(email).new_password_challenge("Temp0rary!", "Ch0sen-password")

    user = cloud.pycognito(email)
    user.authenticate(password="Ch0sen-password")
    assert user.id_claims["email"] == email


def test_a_client_without_srp_gets_cognitos_flow_error(cloud: Cloud) -> None:
    email = cloud.confirmed_user()
    user = cloud.pycognito(email, client="password-only")

    with pytest.raises(ClientError) as caught:
        user.authenticate(password=PASSWORD)

    assert error_of(caught) == (
        "InvalidParameterException",
        "USER_SRP_AUTH flow not enabled for this client",
    )


def test_a_forged_signature_or_tampered_secret_block_is_refused(cloud: Cloud) -> None:
    email = cloud.confirmed_user()
    aws, challenge = cloud.challenge(email)
    honest = aws.process_challenge(challenge, start(aws))
    signature = base64.b64decode(honest["PASSWORD_CLAIM_SIGNATURE"])
    forged = base64.b64encode(bytes([signature[0] ^ 1]) + signature[1:]).decode()
    block = base64.b64decode(challenge["SECRET_BLOCK"])
    tampered = base64.b64encode(block[:-1] + bytes([block[-1] ^ 1])).decode()

    for changed in (
        {"PASSWORD_CLAIM_SIGNATURE": forged},
        {"PASSWORD_CLAIM_SECRET_BLOCK": tampered},
    ):
        aws, challenge = cloud.challenge(email)
        responses = {**aws.process_challenge(challenge, start(aws)), **changed}
        with pytest.raises(ClientError) as caught:
            cloud.respond(responses)
        assert error_of(caught) == ("NotAuthorizedException", "Incorrect username or password.")


def test_a_secret_block_answers_once_and_goes_stale(cloud: Cloud) -> None:
    email = cloud.confirmed_user()
    aws, challenge = cloud.challenge(email)
    responses = aws.process_challenge(challenge, start(aws))
    assert "AccessToken" in cloud.respond(responses)["AuthenticationResult"]
    late_aws, late = cloud.challenge(email)

    with pytest.raises(ClientError) as replayed:
        cloud.respond(responses)
    cloud.clock.ahead = timedelta(minutes=3, seconds=5)
    try:
        with pytest.raises(ClientError) as stale_block:
            cloud.respond(proof(late_aws, late, srp.format_timestamp(cloud.clock())))
    finally:
        cloud.clock.ahead = timedelta()

    assert (
        error_of(replayed)
        == error_of(stale_block)
        == (
            "NotAuthorizedException",
            "Incorrect username or password.",
        )
    )


def test_a_stale_timestamp_is_refused_even_with_a_right_signature(cloud: Cloud) -> None:
    email = cloud.confirmed_user()
    aws, challenge = cloud.challenge(email)
    ten_minutes_ago = srp.format_timestamp(datetime.now(UTC) - timedelta(minutes=10))

    with pytest.raises(ClientError) as caught:
        cloud.respond(proof(aws, challenge, ten_minutes_ago))

    assert error_of(caught) == ("NotAuthorizedException", "Incorrect username or password.")


def test_an_srp_a_of_zero_modulo_n_is_refused(cloud: Cloud) -> None:
    email = cloud.confirmed_user()

    with pytest.raises(ClientError) as caught:
        cloud.cognito().initiate_auth(
            ClientId=cloud.client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": email, "SRP_A": f"{srp.N:x}"},
        )

    assert error_of(caught)[0] == "InvalidParameterException"
