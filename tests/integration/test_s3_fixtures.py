"""A real local S3 endpoint over HTTPS, for the S3 integration tests (no tests here).

:class:`LocalS3` serves :class:`S3Endpoint` with uvicorn on 127.0.0.1, over TLS with a
certificate of a :class:`LocalCA`, on filesystem buckets in a temporary directory. It
knows two kinds of callers: the account's root user and temporary sessions confined
by ``user_folder_policy`` to one identity's folder, as identity pool credentials are.
"""

from __future__ import annotations

import gc
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from mypy_boto3_s3 import S3Client

from overcast.local.auth.sigv4 import Credentials
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.principals import Principal, Session
from overcast.local.s3.app import S3Endpoint
from overcast.local.s3.auth import S3Authenticator
from overcast.local.tls import LocalCA
from overcast.policies import user_folder_policy
from overcast.ports.objects.filesystem import FilesystemBuckets
from tests.fixtures.server_thread import ServerThread

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROOT = Credentials("AKIAOVERCASTROOT0001", "root-secret-key-of-the-local-cloud-0001")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/Cognito_Authenticated"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class LocalS3:
    """The endpoint's state and wiring; ``serve()`` runs it on a free port."""

    root: Path
    region: str = REGION
    sessions: dict[str, Session] = field(default_factory=dict)
    policies: dict[str, list[Policy]] = field(default_factory=dict)
    url: str = ""
    clients: list[S3Client] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ca = LocalCA(self.root / "ca")
        self.ca.ensure()
        self.buckets = FilesystemBuckets(self.root / "buckets")
        root = Principal(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, ACCOUNT, is_root=True)
        self.sessions[ROOT.access_key_id] = Session(ROOT, root)

    def endpoint(self) -> S3Endpoint:
        """A new endpoint over the same directories (a restart, when served anew)."""
        endpoint = S3Endpoint(
            self.buckets,
            S3Authenticator(self.sessions.get, region=self.region, clock=now),
            PolicyEvaluator(now),
            bucket_policies=lambda name: self.policies.get(name, []),
            account_id=ACCOUNT,
            region=self.region,
            clock=now,
            uploads_root=self.root / "uploads",
        )
        endpoint.recover()
        return endpoint

    @contextmanager
    def serve(self, endpoint: S3Endpoint | None = None) -> Iterator[LocalS3]:
        bound = socket.socket()
        bound.bind(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{bound.getsockname()[1]}"
        server = ServerThread(
            endpoint or self.endpoint(),
            bound,
            ssl_certfile=str(self.ca.server_cert_path),
            ssl_keyfile=str(self.ca.server_key_path),
            server_header=False,  # the endpoint says "Server: AmazonS3" itself
        )
        with server:
            try:
                yield self
            finally:
                # Idle TLS connections would hold the server's shutdown until it gives up.
                for client in self.clients:
                    client.close()
                self.clients.clear()
                gc.collect()  # and connections that only a caught error's traceback holds

    @property
    def ca_path(self) -> str:
        return str(self.ca.ca_cert_path)

    def http(self) -> httpx.Client:
        """A plain HTTP client that trusts the local CA."""
        return httpx.Client(verify=ssl.create_default_context(cafile=self.ca_path))

    def client(self, credentials: Credentials = ROOT, **config: Any) -> S3Client:
        """A boto3 S3 client of the caller with these credentials."""
        session = boto3.session.Session(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            region_name=self.region,
        )
        options = {
            "s3": {"addressing_style": "path"},
            "retries": {"total_max_attempts": 1},
            "signature_version": "s3v4",  # botocore presigns with SigV2 in us-east-1 otherwise
        }
        client = session.client(
            "s3", endpoint_url=self.url, verify=self.ca_path, config=Config(**options, **config)
        )
        self.clients.append(client)
        return client

    def user(self, identity_id: str, bucket: str, *, expires_in: int = 3600) -> Credentials:
        """Temporary credentials confined to ``<identity_id>/`` of ``bucket``."""
        number = len(self.sessions)
        credentials = Credentials(
            f"ASIAOVERCASTUSER{number:04d}",
            f"user-secret-{number:04d}-of-the-local-cloud-000000",
            f"session-token-{number:04d}-" + "x" * 40,
        )
        principal = Principal(
            ROLE_ARN,
            ACCOUNT,
            f"AROAOVERCASTROLE0001:CognitoIdentityCredentials-{number}",
            policies=(Policy.parse(user_folder_policy(bucket)),),
            context={"cognito-identity.amazonaws.com:sub": identity_id},
            session_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Cognito_Authenticated/{number}",
        )
        expires = now() + timedelta(seconds=expires_in)
        self.sessions[credentials.access_key_id] = Session(credentials, principal, expires)
        return credentials

    def aws(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the AWS CLI (``python -m awscli``) as the root user against the endpoint."""
        environment = self.cli_environment()
        command = [sys.executable, "-m", "awscli", *arguments]
        result = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=90, check=False
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def cli_environment(self) -> Mapping[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root),
            "AWS_ACCESS_KEY_ID": ROOT.access_key_id,
            "AWS_SECRET_ACCESS_KEY": ROOT.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CA_BUNDLE": self.ca_path,
            "AWS_CONFIG_FILE": str(self.root / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.root / "no-credentials"),
        }


def error_code(raised: Any) -> str:
    """The S3 error code of a botocore ``ClientError`` caught by ``pytest.raises``."""
    return str(raised.value.response["Error"]["Code"])


def keys_of(listing: Mapping[str, Any]) -> list[str]:
    return [entry["Key"] for entry in listing.get("Contents", [])]


def prefixes_of(listing: Mapping[str, Any]) -> list[str]:
    return [entry["Prefix"] for entry in listing.get("CommonPrefixes", [])]


def put_all(client: S3Client, bucket: str, keys: Sequence[str], body: bytes = b"x") -> None:
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=body)


def send_signed(
    s3: LocalS3,
    method: str,
    path_and_query: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    credentials: Credentials | None = ROOT,
) -> httpx.Response:
    """Send a raw request, SigV4-signed as botocore signs S3 requests (``credentials``
    None: anonymous), for what boto3 would not send."""
    url = s3.url + path_and_query
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if credentials is not None:
        signing = ReadOnlyCredentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        )
        S3SigV4Auth(signing, "s3", s3.region).add_auth(request)
    with s3.http() as client:
        return client.request(method, url, headers=dict(request.headers.items()), content=body)
