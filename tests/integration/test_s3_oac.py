"""Origin access control at the local S3 endpoint: the bucket behind a distribution is
read by CloudFront's service principal for that distribution only, and by nobody else.

The endpoint is the local cloud's (``AwsServices``), over TLS; requests are signed as
botocore signs S3 requests, with the edge's key (``cdn_credentials``) and the header in
which the edge names its distribution.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from overcast import spec
from overcast.local.auth.sigv4 import Credentials
from overcast.local.aws_services import AwsServices, ServiceResources
from overcast.local.cdn.model import SOURCE_ARN_HEADER
from overcast.local.cloudfront.ids import distribution_arn, distribution_id
from overcast.local.tls import LocalCA
from tests.fixtures.aws_services import ACCOUNT, ROOT, free_socket, local_aws
from tests.fixtures.server_thread import ServerThread

site = spec.Bucket("site")
web = spec.Distribution("web", spec.Behavior("*", spec.BucketOrigin(site)))
reader = spec.Function("reader", "m:h")
blog = spec.Service("blog", buckets=(site,), distributions=(web,), functions=(reader,))
WEB_ARN = distribution_arn(ACCOUNT, distribution_id("blog", "web"))
OTHER_ARN = distribution_arn(ACCOUNT, distribution_id("blog", "other"))


@dataclass
class Cloud:
    url: str
    ca: str
    aws: AwsServices
    resources: ServiceResources

    def send(
        self,
        method: str,
        path: str,
        *,
        credentials: Credentials | None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> httpx.Response:
        url = self.url + path
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        if credentials is not None:
            signing = ReadOnlyCredentials(
                credentials.access_key_id, credentials.secret_access_key, credentials.session_token
            )
            S3SigV4Auth(signing, "s3", "us-east-1").add_auth(request)
        context = ssl.create_default_context(cafile=self.ca)
        with httpx.Client(verify=context) as client:
            return client.request(method, url, headers=dict(request.headers.items()), content=body)

    def edge(self, method: str, path: str, source_arn: str | None = WEB_ARN) -> httpx.Response:
        headers = {SOURCE_ARN_HEADER: source_arn} if source_arn else {}
        return self.send(method, path, credentials=self.aws.cdn_credentials, headers=headers)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    data_dir: Path = tmp_path_factory.mktemp("aws")
    ca = LocalCA(data_dir / "tls")
    ca.ensure()
    bound, url = free_socket()
    aws = local_aws(data_dir, url)
    resources = aws.register(blog)
    server = ServerThread(
        aws.endpoint,
        bound,
        ssl_certfile=str(ca.server_cert_path),
        ssl_keyfile=str(ca.server_key_path),
        server_header=False,
    )
    with server:
        cloud = Cloud(url, str(ca.ca_cert_path), aws, resources)
        put = cloud.send("PUT", "/blog-site/index.html", credentials=ROOT, body=b"<h1>hi</h1>")
        assert put.status_code == 200
        yield cloud
    aws.close()


def test_the_edge_reads_an_object_for_its_own_distribution(cloud: Cloud) -> None:
    answer = cloud.edge("GET", "/blog-site/index.html")

    assert answer.status_code == 200
    assert answer.content == b"<h1>hi</h1>"


@pytest.mark.parametrize(
    "source_arn", [OTHER_ARN, None], ids=["another-distribution", "no-distribution"]
)
def test_the_edge_is_refused_for_another_or_no_distribution(
    cloud: Cloud, source_arn: str | None
) -> None:
    answer = cloud.edge("GET", "/blog-site/index.html", source_arn)

    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text


def test_an_anonymous_reader_is_refused(cloud: Cloud) -> None:
    answer = cloud.send("GET", "/blog-site/index.html", credentials=None)

    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text


def test_only_cloudfronts_key_can_name_a_distribution(cloud: Cloud) -> None:
    variables = cloud.aws.function_variables(blog, reader, cloud.resources)
    role = Credentials(
        variables["AWS_ACCESS_KEY_ID"],
        variables["AWS_SECRET_ACCESS_KEY"],
        variables["AWS_SESSION_TOKEN"],
    )
    headers = {SOURCE_ARN_HEADER: WEB_ARN}

    answer = cloud.send("GET", "/blog-site/index.html", credentials=role, headers=headers)

    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text


def test_the_edges_key_cannot_write_or_list_the_bucket(cloud: Cloud) -> None:
    headers = {SOURCE_ARN_HEADER: WEB_ARN}
    key = cloud.aws.cdn_credentials
    put = cloud.send("PUT", "/blog-site/planted.html", credentials=key, headers=headers, body=b"x")
    listing = cloud.send("GET", "/blog-site?list-type=2", credentials=key, headers=headers)

    assert put.status_code == 403
    assert listing.status_code == 403
    missing = cloud.send("GET", "/blog-site/planted.html", credentials=ROOT)
    assert missing.status_code == 404


def test_the_edges_key_survives_a_restart(cloud: Cloud) -> None:
    again = local_aws(cloud.aws.data_dir, cloud.url)
    try:
        assert again.cdn_credentials == cloud.aws.cdn_credentials
        assert again.cdn_credentials.access_key_id.startswith("AKIA")
    finally:
        again.close()
