"""Identity pools and STS over real HTTP, driven by unmodified boto3 clients.

One uvicorn server on a free 127.0.0.1 port serves the AWS endpoint (user pools,
identity pools and STS behind one URL, as the local cloud does), backed by real
SQLite files. Two services each have a user pool and an identity pool whose role
may use a bucket's per-user folders. The fakes: the mailer hands us confirmation
codes, and the clocks run at real time plus an offset the tests move.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from overcast import spec
from overcast.local.auth import Credentials
from overcast.local.aws_endpoint import AwsEndpoint
from overcast.local.federation.provider import Federation, RegisteredIdentityPool
from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.roles import Roles
from overcast.local.iam.sessions import SessionStore
from overcast.local.identity import IdentityProvider, RegisteredPool
from overcast.local.identity.passwords import ScryptCost
from overcast.policies import user_folder_policy
from overcast.ports.mail.memory import MemoryMailer
from tests.fixtures.server_thread import ServerThread

REGION = "us-east-1"
ACCOUNT = "000000000000"
ROOT = Credentials("AKIAOVERCASTROOT0001", "root/secret+key")
PASSWORD = "Corr3ct-horse"
CREDENTIAL_SECONDS = 5
TODO_USERS = spec.UserPool("users")
TODO_FILES = spec.IdentityPool("files", TODO_USERS)
BLOG_AUTHORS = spec.UserPool("authors")
BLOG_PHOTOS = spec.IdentityPool("photos", BLOG_AUTHORS)
NO_RETRIES = Config(retries={"max_attempts": 1})


class OffsetClock:
    """Real time plus an offset that tests move (SigV4 needs clocks near real time)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Paths:
    user_pools: Path
    identity_pools: Path
    sessions: Path


@dataclass
class Cloud:
    url: str
    paths: Paths
    mailer: MemoryMailer
    user_pool_clock: OffsetClock
    clock: OffsetClock
    sessions: SessionStore
    todo_users: RegisteredPool
    blog_authors: RegisteredPool
    files: RegisteredIdentityPool
    photos: RegisteredIdentityPool

    def client(self, service: str, credentials: Credentials | None = None) -> Any:
        """A boto3 client; without credentials it signs nothing, as in a browser."""
        if credentials is None:
            session = boto3.session.Session()
            config = NO_RETRIES.merge(Config(signature_version=UNSIGNED))
        else:
            session = boto3.session.Session(
                aws_access_key_id=credentials.access_key_id,
                aws_secret_access_key=credentials.secret_access_key,
                aws_session_token=credentials.session_token,
            )
            config = NO_RETRIES
        make: Any = session.client  # boto3's stubs want a literal service name
        return make(service, endpoint_url=self.url, region_name=REGION, config=config)

    def identity(self) -> Any:
        return self.client("cognito-identity")

    def sts(self, credentials: Credentials | None = None) -> Any:
        return self.client("sts", credentials)

    def id_token(self, pool: RegisteredPool, email: str | None = None) -> tuple[str, str]:
        """Sign up, confirm and sign in a user (or sign ``email`` in again): (email, ID token)."""
        idp = self.client("cognito-idp")
        client_id = next(iter(pool.client_ids.values()))
        if email is None:
            email = f"user-{uuid.uuid4().hex[:8]}@example.com"
            idp.sign_up(ClientId=client_id, Username=email, Password=PASSWORD)
            mail = next(m for m in reversed(self.mailer.sent) if m.to == (email,))
            code = re.search(r"\d{6}", mail.text)
            assert code is not None
            idp.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code.group())
        result = idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        return email, str(result["IdToken"])


def logins(pool: RegisteredPool, token: str) -> dict[str, str]:
    """The ``Logins`` map as clients build it, with AWS's provider name."""
    return {f"cognito-idp.{REGION}.amazonaws.com/{pool.pool_id}": token}


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def build_federation(
    paths: Paths, clock: OffsetClock, pools: tuple[RegisteredPool, RegisteredPool]
) -> tuple[Federation, SessionStore, list[RegisteredIdentityPool]]:
    roles = Roles()
    sessions = SessionStore(paths.sessions, roles, root=ROOT, account_id=ACCOUNT, clock=clock)
    federation = Federation(
        paths.identity_pools,
        sessions,
        roles,
        PolicyEvaluator(clock),
        region=REGION,
        account_id=ACCOUNT,
        clock=clock,
        credential_seconds=CREDENTIAL_SECONDS,
    )
    registered = [
        federation.register(
            service, identity_pool, user_pool, [Policy.parse(user_folder_policy(bucket))]
        )
        for service, identity_pool, user_pool, bucket in (
            ("todo", TODO_FILES, pools[0], "todo-files"),
            ("blog", BLOG_PHOTOS, pools[1], "blog-photos"),
        )
    ]
    return federation, sessions, registered


def serve(app: Any) -> tuple[ServerThread, str]:
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    return ServerThread(app, bound), f"http://127.0.0.1:{bound.getsockname()[1]}"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    data = tmp_path_factory.mktemp("federation")
    paths = Paths(
        data / "userpools.sqlite3", data / "identitypools.sqlite3", data / "sessions.sqlite3"
    )
    mailer, user_pool_clock, clock = MemoryMailer(), OffsetClock(), OffsetClock()
    endpoint = AwsEndpoint()
    server, url = serve(endpoint)
    provider = IdentityProvider(
        paths.user_pools,
        mailer,
        public_base_url=url,
        region=REGION,
        root_credentials=ROOT,
        clock=user_pool_clock,
        password_cost=ScryptCost(n=2**4, r=1, p=1),
    )
    pools = (provider.register("todo", TODO_USERS), provider.register("blog", BLOG_AUTHORS))
    federation, sessions, (files, photos) = build_federation(paths, clock, pools)
    endpoint.cognito_idp = provider.asgi_app
    endpoint.cognito_identity = federation.cognito_identity_app
    endpoint.sts = federation.sts_app
    with server:
        yield Cloud(url, paths, mailer, user_pool_clock, clock, sessions, *pools, files, photos)
    federation.close()
    sessions.close()
    provider.close()


@pytest.fixture(autouse=True)
def real_time(cloud: Cloud) -> Iterator[None]:
    yield
    cloud.clock.offset = cloud.user_pool_clock.offset = timedelta()


def credentials_of(response: dict[str, Any]) -> Credentials:
    given = response["Credentials"]
    secret = given.get("SecretKey") or given["SecretAccessKey"]
    return Credentials(given["AccessKeyId"], secret, given["SessionToken"])


def test_a_signed_in_user_gets_credentials_that_sts_knows_as_the_pools_role(cloud: Cloud) -> None:
    _, token = cloud.id_token(cloud.todo_users)
    identity = cloud.identity()

    identity_id = identity.get_id(
        IdentityPoolId=cloud.files.id, Logins=logins(cloud.todo_users, token)
    )["IdentityId"]
    response = identity.get_credentials_for_identity(
        IdentityId=identity_id, Logins=logins(cloud.todo_users, token)
    )

    assert re.fullmatch(r"us-east-1:[0-9a-f-]{36}", identity_id)
    assert response["IdentityId"] == identity_id
    credentials = credentials_of(response)
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials.access_key_id)
    expiration = response["Credentials"]["Expiration"]
    assert abs((expiration - datetime.now(UTC)).total_seconds() - CREDENTIAL_SECONDS) < 2
    caller = cloud.sts(credentials).get_caller_identity()
    assert caller["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/todo-files-authenticated/CognitoIdentityCredentials"
    )
    assert caller["Account"] == ACCOUNT
    assert re.fullmatch(r"AROA[A-Z2-7]{16}:CognitoIdentityCredentials", caller["UserId"])
    assert cloud.files.role_arn == f"arn:aws:iam::{ACCOUNT}:role/todo-files-authenticated"


def test_the_credentials_reach_the_users_own_folder_and_no_other(cloud: Cloud) -> None:
    _, token = cloud.id_token(cloud.todo_users)
    identity = cloud.identity()
    identity_id = identity.get_id(
        IdentityPoolId=cloud.files.id, Logins=logins(cloud.todo_users, token)
    )["IdentityId"]
    credentials = credentials_of(
        identity.get_credentials_for_identity(
            IdentityId=identity_id, Logins=logins(cloud.todo_users, token)
        )
    )

    session = cloud.sessions.lookup(credentials.access_key_id)

    assert session is not None
    principal = session.principal
    assert principal.context["cognito-identity.amazonaws.com:sub"] == identity_id
    assert principal.context["cognito-identity.amazonaws.com:aud"] == cloud.files.id
    assert principal.context["cognito-identity.amazonaws.com:amr"] == "authenticated"
    evaluator = PolicyEvaluator(cloud.clock)

    def may_read(key: str) -> bool:
        resource = f"arn:aws:s3:::todo-files/{key}"
        return evaluator.allowed(AuthorizationRequest(principal, "s3:GetObject", resource))

    assert may_read(f"{identity_id}/notes.txt")
    assert not may_read(f"{REGION}:{uuid.uuid4()}/notes.txt")
    assert not may_read("notes.txt")


def test_the_same_user_keeps_one_identity_and_another_user_gets_another(cloud: Cloud) -> None:
    email, first_token = cloud.id_token(cloud.todo_users)
    _, second_token = cloud.id_token(cloud.todo_users, email)
    _, other_token = cloud.id_token(cloud.todo_users)
    identity = cloud.identity()

    def identity_of(token: str) -> str:
        response = identity.get_id(
            IdentityPoolId=cloud.files.id, Logins=logins(cloud.todo_users, token)
        )
        return str(response["IdentityId"])

    assert identity_of(first_token) == identity_of(second_token)
    assert identity_of(other_token) != identity_of(first_token)


def test_the_root_user_is_the_accounts_root_to_sts(cloud: Cloud) -> None:
    caller = cloud.sts(ROOT).get_caller_identity()

    assert (caller["UserId"], caller["Account"], caller["Arn"]) == (
        ACCOUNT,
        ACCOUNT,
        f"arn:aws:iam::{ACCOUNT}:root",
    )


def forged(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(uuid.uuid4())
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{encoded}.{signature}"


def get_id_error(cloud: Cloud, pool_id: str, given: dict[str, str] | None) -> tuple[str, str]:
    arguments: dict[str, Any] = {"IdentityPoolId": pool_id}
    if given is not None:
        arguments["Logins"] = given
    with pytest.raises(ClientError) as caught:
        cloud.identity().get_id(**arguments)
    return error_of(caught)


def test_a_forged_id_token_is_refused(cloud: Cloud) -> None:
    _, token = cloud.id_token(cloud.todo_users)

    error = get_id_error(cloud, cloud.files.id, logins(cloud.todo_users, forged(token)))

    assert error == ("NotAuthorizedException", "Invalid login token. Couldn't verify signed token.")


def test_an_expired_id_token_is_refused(cloud: Cloud) -> None:
    email, _ = cloud.id_token(cloud.todo_users)
    cloud.user_pool_clock.offset = -timedelta(hours=2)
    _, stale = cloud.id_token(cloud.todo_users, email)

    code, message = get_id_error(cloud, cloud.files.id, logins(cloud.todo_users, stale))

    assert code == "NotAuthorizedException"
    assert re.fullmatch(r"Invalid login token\. Token expired: \d+ >= \d+", message)


def test_an_id_token_of_another_user_pool_is_refused(cloud: Cloud) -> None:
    _, author_token = cloud.id_token(cloud.blog_authors)

    under_our_name = get_id_error(cloud, cloud.files.id, logins(cloud.todo_users, author_token))
    under_its_name = get_id_error(cloud, cloud.files.id, logins(cloud.blog_authors, author_token))

    assert under_our_name == (
        "NotAuthorizedException",
        "Invalid login token. Issuer doesn't match providerName",
    )
    assert under_its_name == (
        "NotAuthorizedException",
        "Token is not from a supported provider of this identity pool.",
    )


def test_guests_and_unknown_pools_are_refused(cloud: Cloud) -> None:
    assert get_id_error(cloud, cloud.files.id, None) == (
        "NotAuthorizedException",
        "Unauthenticated access is not supported for this identity pool.",
    )
    unknown = f"{REGION}:{uuid.uuid4()}"
    assert get_id_error(cloud, unknown, {}) == (
        "ResourceNotFoundException",
        f"IdentityPool '{unknown}' not found.",
    )


def test_credentials_need_the_identitys_own_login(cloud: Cloud) -> None:
    _, mine = cloud.id_token(cloud.todo_users)
    _, theirs = cloud.id_token(cloud.todo_users)
    identity = cloud.identity()
    identity_id = identity.get_id(
        IdentityPoolId=cloud.files.id, Logins=logins(cloud.todo_users, mine)
    )["IdentityId"]

    with pytest.raises(ClientError) as with_theirs:
        identity.get_credentials_for_identity(
            IdentityId=identity_id, Logins=logins(cloud.todo_users, theirs)
        )
    with pytest.raises(ClientError) as with_none:
        identity.get_credentials_for_identity(IdentityId=identity_id)
    with pytest.raises(ClientError) as unknown:
        identity.get_credentials_for_identity(
            IdentityId=f"{REGION}:{uuid.uuid4()}", Logins=logins(cloud.todo_users, mine)
        )

    assert error_of(with_theirs)[1].startswith("Logins don't match.")
    assert error_of(with_none) == (
        "NotAuthorizedException",
        f"Access to Identity '{identity_id}' is forbidden.",
    )
    assert error_of(unknown)[0] == "ResourceNotFoundException"


def open_id_token(
    cloud: Cloud, pool: RegisteredPool, identity_pool: RegisteredIdentityPool
) -> tuple[str, str]:
    _, token = cloud.id_token(pool)
    identity = cloud.identity()
    identity_id = identity.get_id(IdentityPoolId=identity_pool.id, Logins=logins(pool, token))[
        "IdentityId"
    ]
    response = identity.get_open_id_token(IdentityId=identity_id, Logins=logins(pool, token))
    assert response["IdentityId"] == identity_id
    return identity_id, str(response["Token"])


def test_the_basic_flow_assumes_the_pools_role_with_its_open_id_token(cloud: Cloud) -> None:
    identity_id, token = open_id_token(cloud, cloud.todo_users, cloud.files)

    response = cloud.sts().assume_role_with_web_identity(
        RoleArn=cloud.files.role_arn, RoleSessionName="my-app", WebIdentityToken=token
    )

    assert response["SubjectFromWebIdentityToken"] == identity_id
    assert response["Audience"] == cloud.files.id
    assert response["Provider"] == "cognito-identity.amazonaws.com"
    assert response["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/todo-files-authenticated/my-app"
    )
    assert response["AssumedRoleUser"]["AssumedRoleId"].endswith(":my-app")
    expires_in = (response["Credentials"]["Expiration"] - datetime.now(UTC)).total_seconds()
    assert 3590 < expires_in <= 3600
    caller = cloud.sts(credentials_of(response)).get_caller_identity()
    assert caller["Arn"] == response["AssumedRoleUser"]["Arn"]


def assume_error(cloud: Cloud, **arguments: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        cloud.sts().assume_role_with_web_identity(**arguments)
    code, message = error_of(caught)
    return code, message, caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_token_of_one_pool_cannot_assume_another_pools_role(cloud: Cloud) -> None:
    _, token = open_id_token(cloud, cloud.todo_users, cloud.files)

    error = assume_error(
        cloud, RoleArn=cloud.photos.role_arn, RoleSessionName="sneaky", WebIdentityToken=token
    )

    assert error == ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
    unknown_role = f"arn:aws:iam::{ACCOUNT}:role/nobody"
    assert (
        assume_error(cloud, RoleArn=unknown_role, RoleSessionName="sneaky", WebIdentityToken=token)[
            0
        ]
        == "AccessDenied"
    )


def test_bad_web_identity_tokens_and_durations_are_refused(cloud: Cloud) -> None:
    _, token = open_id_token(cloud, cloud.todo_users, cloud.files)
    role = {"RoleArn": cloud.files.role_arn, "RoleSessionName": "app"}

    forged_error = assume_error(cloud, **role, WebIdentityToken=forged(token))
    too_long = assume_error(cloud, **role, WebIdentityToken=token, DurationSeconds=7200)
    too_short = httpx.post(
        cloud.url,
        data={
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            **role,
            "WebIdentityToken": token,
            "DurationSeconds": "100",
        },
    )
    cloud.clock.offset = timedelta(seconds=601)
    expired = assume_error(cloud, **role, WebIdentityToken=token)

    assert forged_error[0] == "InvalidIdentityToken"
    assert too_long == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
    )
    assert too_short.status_code == 400
    assert "<Code>ValidationError</Code>" in too_short.text
    assert (
        "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 900"
    ) in too_short.text
    assert expired[0] == "ExpiredTokenException"
    assert expired[1].startswith("Token expired: current date/time")


def credentials_for_new_user(cloud: Cloud) -> Credentials:
    _, token = cloud.id_token(cloud.todo_users)
    identity = cloud.identity()
    identity_id = identity.get_id(
        IdentityPoolId=cloud.files.id, Logins=logins(cloud.todo_users, token)
    )["IdentityId"]
    return credentials_of(
        identity.get_credentials_for_identity(
            IdentityId=identity_id, Logins=logins(cloud.todo_users, token)
        )
    )


def caller_error(cloud: Cloud, credentials: Credentials) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        cloud.sts(credentials).get_caller_identity()
    code, message = error_of(caught)
    return code, message, caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_credentials_expire(cloud: Cloud) -> None:
    credentials = credentials_for_new_user(cloud)
    assert cloud.sts(credentials).get_caller_identity()["Account"] == ACCOUNT

    cloud.clock.offset = timedelta(seconds=CREDENTIAL_SECONDS + 1)

    assert caller_error(cloud, credentials) == (
        "ExpiredToken",
        "The security token included in the request is expired",
        403,
    )


def test_a_revoked_session_and_unknown_keys_are_refused(cloud: Cloud) -> None:
    credentials = credentials_for_new_user(cloud)

    assert cloud.sessions.revoke(credentials.access_key_id)

    invalid = (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
    )
    assert caller_error(cloud, credentials) == invalid
    assert caller_error(cloud, Credentials("ASIAUNKNOWNUNKNOWN00", "x" * 40, "token")) == invalid


def test_a_signature_made_with_the_wrong_secret_is_refused(cloud: Cloud) -> None:
    credentials = credentials_for_new_user(cloud)
    wrong = Credentials(credentials.access_key_id, "w" * 40, credentials.session_token)

    code, _, status = caller_error(cloud, wrong)

    assert (code, status) == ("SignatureDoesNotMatch", 403)


def test_sessions_and_identities_survive_a_restart(cloud: Cloud) -> None:
    _, token = cloud.id_token(cloud.todo_users)
    identity_id = cloud.identity().get_id(
        IdentityPoolId=cloud.files.id, Logins=logins(cloud.todo_users, token)
    )["IdentityId"]
    credentials = credentials_of(
        cloud.identity().get_credentials_for_identity(
            IdentityId=identity_id, Logins=logins(cloud.todo_users, token)
        )
    )

    federation, sessions, registered = build_federation(
        cloud.paths, cloud.clock, (cloud.todo_users, cloud.blog_authors)
    )
    server, url = serve(
        AwsEndpoint(cognito_identity=federation.cognito_identity_app, sts=federation.sts_app)
    )
    restarted = Cloud(
        url,
        cloud.paths,
        cloud.mailer,
        cloud.user_pool_clock,
        cloud.clock,
        sessions,
        cloud.todo_users,
        cloud.blog_authors,
        *registered,
    )
    try:
        with server:
            caller = restarted.sts(credentials).get_caller_identity()
            again = restarted.identity().get_id(
                IdentityPoolId=cloud.files.id, Logins=logins(cloud.todo_users, token)
            )["IdentityId"]
    finally:
        federation.close()
        sessions.close()

    assert [pool.id for pool in registered] == [cloud.files.id, cloud.photos.id]
    assert caller["Arn"].endswith(
        "assumed-role/todo-files-authenticated/CognitoIdentityCredentials"
    )
    assert again == identity_id


def test_the_operator_describes_and_lists_identity_pools_with_root_credentials(
    cloud: Cloud,
) -> None:
    admin = cloud.client("cognito-identity", ROOT)

    described = admin.describe_identity_pool(IdentityPoolId=cloud.files.id)
    pages = admin.get_paginator("list_identity_pools").paginate(
        MaxResults=1, PaginationConfig={"PageSize": 1}
    )
    listed = [pool for page in pages for pool in page["IdentityPools"]]

    assert described["IdentityPoolId"] == cloud.files.id
    assert described["IdentityPoolName"] == "files"
    assert described["AllowUnauthenticatedIdentities"] is False
    assert described["CognitoIdentityProviders"] == [
        {
            "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{cloud.todo_users.pool_id}",
            "ClientId": cloud.todo_users.client_ids["web"],
            "ServerSideTokenCheck": False,
        }
    ]
    assert sorted((p["IdentityPoolId"], p["IdentityPoolName"]) for p in listed) == sorted(
        [(cloud.files.id, "files"), (cloud.photos.id, "photos")]
    )


def test_the_admin_apis_refuse_anyone_but_root(cloud: Cloud) -> None:
    temporary = cloud.client("cognito-identity", credentials_for_new_user(cloud))
    unsigned = httpx.post(
        cloud.url,
        headers={
            "X-Amz-Target": "AWSCognitoIdentityService.ListIdentityPools",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=b'{"MaxResults": 10}',
    )

    with pytest.raises(ClientError) as caught:
        temporary.list_identity_pools(MaxResults=10)

    assert error_of(caught)[0] == "UnrecognizedClientException"
    assert unsigned.status_code == 400
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"


def test_malformed_requests_get_the_protocols_errors(cloud: Cloud) -> None:
    json_headers = {"Content-Type": "application/x-amz-json-1.1"}
    not_json = httpx.post(
        cloud.url,
        headers={**json_headers, "X-Amz-Target": "AWSCognitoIdentityService.GetId"},
        content=b"{not json",
    )
    unknown_target = httpx.post(
        cloud.url,
        headers={**json_headers, "X-Amz-Target": "AWSCognitoIdentityService.DeleteEverything"},
        content=b"{}",
    )
    bad_id = httpx.post(
        cloud.url,
        headers={**json_headers, "X-Amz-Target": "AWSCognitoIdentityService.GetId"},
        content=b'{"IdentityPoolId": "no pool"}',
    )
    unknown_action = httpx.post(cloud.url, data={"Action": "AssumeRole", "Version": "2011-06-15"})
    unsigned_caller = httpx.post(
        cloud.url, data={"Action": "GetCallerIdentity", "Version": "2011-06-15"}
    )

    assert (not_json.status_code, not_json.json()["__type"]) == (400, "SerializationException")
    assert unknown_target.json()["__type"] == "UnknownOperationException"
    assert bad_id.json()["__type"] == "InvalidParameterException"
    assert unknown_action.status_code == 400
    assert "<Code>InvalidAction</Code>" in unknown_action.text
    assert unknown_action.text.startswith(
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    )
    assert unsigned_caller.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in unsigned_caller.text
