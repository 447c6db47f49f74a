"""End-to-end fixtures: one real local cloud per test session (per xdist worker)."""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import boto3
import httpx
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from overcast.apps.blog.service import blog_table
from overcast.local.credentials import load_or_create_root_credentials
from overcast.local.endpoints import Endpoints
from overcast.local.mail import Mailbox
from overcast.ports.tables.sqlite import SqliteTable
from tests.cloud_process import CloudProcess

SAMPLE_PROJECT = Path(__file__).parent / "sample_project"
PASSWORD = "Correct-Horse-9-battery"


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    process = CloudProcess(tmp_path_factory.mktemp("cloud") / "data", SAMPLE_PROJECT, ["--quiet"])
    process.start()
    yield process
    assert process.stop() == 0, process.output()


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's server, in this process (its backends are readable here), for one module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Inbox(Protocol):
    """Where the mail the functions sent is read: the local mailbox, or moto's SES."""

    def find(self, to: str | None = None, subject_contains: str | None = None) -> list[Any]: ...


ItemReader = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


@pytest.fixture
def inbox(endpoints: Endpoints) -> Inbox:
    """The functions' mail: the local cloud's mailbox (its SMTP sink's)."""
    return Mailbox(Path(endpoints.mailbox))


@pytest.fixture
def blog_item(cloud: CloudProcess) -> ItemReader:
    """Reads one item of the blog's table, strongly consistent: its SQLite file."""

    def read(key: Mapping[str, Any]) -> dict[str, Any] | None:
        table = SqliteTable(blog_table, str(cloud.data_dir / "tables" / "blog" / "blog.sqlite3"))
        try:
            return table.get(dict(key), consistent=True)
        finally:
            table.close()

    return read


@pytest.fixture
def own_cloud(tmp_path: Path) -> Iterator[Callable[..., CloudProcess]]:
    """Makes clouds of a test's own; whatever the test's outcome, none outlives it."""
    made: list[CloudProcess] = []

    def make(project_dir: Path = SAMPLE_PROJECT, *args: str) -> CloudProcess:
        made.append(CloudProcess(tmp_path / f"data{len(made)}", project_dir, args))
        return made[-1]

    yield make
    for cloud in made:
        if cloud.process is not None and cloud.process.poll() is None:
            cloud.process.kill()
            cloud.process.wait()


@pytest.fixture(scope="session")
def endpoints(cloud: CloudProcess) -> Endpoints:
    assert cloud.endpoints is not None
    return cloud.endpoints


@dataclass
class Session:
    """A signed-in user of a user pool: their tokens and an HTTPS client."""

    email: str
    id_token: str
    access_token: str
    refresh_token: str
    sub: str


class Users:
    """Signs users up and in with a real boto3 cognito-idp client, reading codes from mail."""

    def __init__(self, endpoints: Endpoints, data_dir: Path) -> None:
        self.endpoints = endpoints
        self.mailbox = Mailbox(Path(endpoints.mailbox))
        credentials = load_or_create_root_credentials(data_dir)
        self.idp: Any = boto3.client(
            "cognito-idp",
            endpoint_url=endpoints.aws["cognito-idp"],
            region_name=endpoints.region,
            verify=endpoints.ca_bundle,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            config=Config(retries={"max_attempts": 1}),
        )

    def client_id(self, service: str = "todo", pool: str = "users") -> str:
        return self.endpoints.services[service].user_pools[pool].clients["web"]

    def confirmation_code(self, email: str) -> str:
        messages = self.mailbox.find(to=email)
        assert messages, f"no mail was sent to {email}"
        return "".join(ch for ch in messages[-1].text if ch.isdigit())[-6:]

    def sign_up_and_in(self, service: str = "todo", pool: str = "users") -> Session:
        email = f"user-{secrets.token_hex(4)}@example.com"
        client_id = self.client_id(service, pool)
        self.idp.sign_up(ClientId=client_id, Username=email, Password=PASSWORD)
        code = self.confirmation_code(email)
        self.idp.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code)
        return self.sign_in(email, client_id)

    def sign_in(self, email: str, client_id: str) -> Session:
        result = self.idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        user = self.idp.get_user(AccessToken=result["AccessToken"])
        sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
        return Session(
            email=email,
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken", ""),
            sub=sub,
        )


@pytest.fixture(scope="session")
def users(endpoints: Endpoints, cloud: CloudProcess) -> Users:
    return Users(endpoints, cloud.data_dir)


def trusting(endpoints: Endpoints) -> ssl.SSLContext:
    """TLS that trusts the local cloud's CA (and nothing else)."""
    return ssl.create_default_context(cafile=endpoints.ca_bundle)


@pytest.fixture
def https(endpoints: Endpoints) -> Iterator[httpx.Client]:
    with httpx.Client(verify=trusting(endpoints), timeout=30) as client:
        yield client


def todo_url(endpoints: Endpoints, path: str = "/todos") -> str:
    api = endpoints.services["todo"].api
    assert api is not None
    return api + path


def bearer(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.id_token}"}


@dataclass
class FilesUser:
    """A signed-in to-do user with identity-pool credentials and an S3 client on them."""

    session: Session
    identity_id: str
    credentials: dict[str, Any]
    s3: Any

    @property
    def folder(self) -> str:
        return f"{self.identity_id}/"


def s3_client(endpoints: Endpoints, **credentials: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoints.aws["s3"],
        region_name=endpoints.region,
        verify=endpoints.ca_bundle,
        config=Config(retries={"max_attempts": 1}),
        **credentials,
    )


def identity_client(endpoints: Endpoints) -> Any:
    return boto3.client(
        "cognito-identity",
        endpoint_url=endpoints.aws["cognito-identity"],
        region_name=endpoints.region,
        verify=endpoints.ca_bundle,
        config=Config(retries={"max_attempts": 1}),
    )


def files_user(endpoints: Endpoints, users: Users) -> FilesUser:
    """Sign up and in, then exchange the ID token for credentials (enhanced flow)."""
    session = users.sign_up_and_in()
    todo = endpoints.services["todo"]
    logins = {
        f"cognito-idp.{endpoints.region}.amazonaws.com/{todo.user_pools['users'].id}": (
            session.id_token
        )
    }
    identities = identity_client(endpoints)
    identity_id = identities.get_id(IdentityPoolId=todo.identity_pools["files"].id, Logins=logins)[
        "IdentityId"
    ]
    credentials = identities.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)[
        "Credentials"
    ]
    s3 = s3_client(
        endpoints,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretKey"],
        aws_session_token=credentials["SessionToken"],
    )
    return FilesUser(session, identity_id, credentials, s3)


@pytest.fixture(scope="session")
def files_bucket(endpoints: Endpoints) -> str:
    return endpoints.services["todo"].buckets["files"]


@pytest.fixture(scope="session")
def root_s3(endpoints: Endpoints, cloud: CloudProcess) -> Any:
    credentials = load_or_create_root_credentials(cloud.data_dir)
    return s3_client(
        endpoints,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
    )
