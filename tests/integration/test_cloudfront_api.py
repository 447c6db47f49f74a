"""CloudFront's invalidation API at the local AWS endpoint, driven by boto3 over TLS.

The endpoint is the local cloud's (``AwsServices``) with one distribution whose edge is
a recorder of the paths it is told to invalidate. Callers: the root user, a function
allowed to invalidate it (its role's ``policies.function_policy``), a function that is not.
"""

from __future__ import annotations

import gc
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from overcast import spec
from overcast.local.auth.sigv4 import Credentials
from overcast.local.aws_services import AwsServices, ServiceResources
from overcast.local.cloudfront.directory import DistributionRecord
from overcast.local.cloudfront.ids import distribution_arn, distribution_id
from overcast.local.tls import LocalCA
from overcast.ports.cdn.cloudfront import CloudFrontInvalidator
from overcast.ports.cdn.exceptions import InvalidationDenied, InvalidPaths
from tests.fixtures.aws_services import ACCOUNT, ROOT, free_socket, local_aws
from tests.fixtures.server_thread import ServerThread

site = spec.Bucket("site")
web = spec.Distribution("web", spec.Behavior("*", spec.BucketOrigin(site)))
publisher = spec.Function("publisher", "m:h", distributions=(web,))
reader = spec.Function("reader", "m:h")
blog = spec.Service("blog", buckets=(site,), distributions=(web,), functions=(publisher, reader))
WEB_ID = distribution_id("blog", "web")


@dataclass
class Edge:
    """Stands for the distribution's edge: remembers each batch it is told to drop."""

    batches: list[list[str]] = field(default_factory=list)

    def invalidate(self, paths: Sequence[str]) -> int:
        self.batches.append(list(paths))
        return len(paths)


@dataclass
class Cloud:
    url: str
    ca: str
    aws: AwsServices
    resources: ServiceResources
    edge: Edge
    clients: list[Any] = field(default_factory=list)

    def client(self, credentials: Credentials = ROOT, region: str = "us-east-1") -> Any:
        client = boto3.session.Session(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            region_name=region,
        ).client(
            "cloudfront",
            endpoint_url=self.url,
            verify=self.ca,
            config=Config(retries={"total_max_attempts": 1}),
        )
        self.clients.append(client)
        return client

    def function(self, function: spec.Function) -> Credentials:
        variables = self.aws.function_variables(blog, function, self.resources)
        return Credentials(
            variables["AWS_ACCESS_KEY_ID"],
            variables["AWS_SECRET_ACCESS_KEY"],
            variables["AWS_SESSION_TOKEN"],
        )


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    data_dir: Path = tmp_path_factory.mktemp("aws")
    ca = LocalCA(data_dir / "tls")
    ca.ensure()
    bound, url = free_socket()
    aws = local_aws(data_dir, url, region="eu-west-1")
    resources = aws.register(blog)
    edge = Edge()
    aws.distributions.add(
        DistributionRecord(
            WEB_ID,
            distribution_arn(ACCOUNT, WEB_ID),
            "127.0.0.1:8443",
            "blog",
            "web",
            edge.invalidate,
        )
    )
    server = ServerThread(
        aws.endpoint,
        bound,
        ssl_certfile=str(ca.server_cert_path),
        ssl_keyfile=str(ca.server_key_path),
    )
    with server:
        cloud = Cloud(url, str(ca.ca_cert_path), aws, resources, edge)
        yield cloud
        # Idle TLS connections would hold the server's shutdown until it gives up.
        for client in cloud.clients:
            client.close()
        cloud.clients.clear()
        gc.collect()  # and connections that only a caught error's traceback holds
    aws.close()


def _batch(*paths: str, reference: str, quantity: int | None = None) -> dict[str, Any]:
    count = len(paths) if quantity is None else quantity
    return {"Paths": {"Quantity": count, "Items": list(paths)}, "CallerReference": reference}


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_an_invalidation_drops_its_paths_at_the_edge_and_is_completed(cloud: Cloud) -> None:
    client = cloud.client()

    created = client.create_invalidation(
        DistributionId=WEB_ID, InvalidationBatch=_batch("/index.html", "/posts/*", reference="a")
    )

    invalidation = created["Invalidation"]
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["Location"] == (
        f"{cloud.url}/2020-05-31/distribution/{WEB_ID}/invalidation/{invalidation['Id']}"
    )
    assert invalidation["Status"] == "Completed"
    assert invalidation["InvalidationBatch"]["Paths"]["Items"] == ["/index.html", "/posts/*"]
    assert cloud.edge.batches[-1] == ["/index.html", "/posts/*"]
    found = client.get_invalidation(DistributionId=WEB_ID, Id=invalidation["Id"])
    assert found["Invalidation"]["InvalidationBatch"]["CallerReference"] == "a"
    listed = client.list_invalidations(DistributionId=WEB_ID)["InvalidationList"]
    assert listed["Items"][0]["Id"] == invalidation["Id"]
    assert listed["Items"][0]["Status"] == "Completed"


def test_invalidations_are_listed_most_recent_first_page_by_page(cloud: Cloud) -> None:
    client = cloud.client()
    made = [
        client.create_invalidation(
            DistributionId=WEB_ID, InvalidationBatch=_batch(f"/{n}", reference=f"page-{n}")
        )["Invalidation"]["Id"]
        for n in range(3)
    ]

    first = client.list_invalidations(DistributionId=WEB_ID, MaxItems="2")["InvalidationList"]
    second = client.list_invalidations(
        DistributionId=WEB_ID, MaxItems="2", Marker=first["NextMarker"]
    )["InvalidationList"]

    assert [item["Id"] for item in first["Items"]] == made[::-1][:2]
    assert first["IsTruncated"] is True
    assert second["Items"][0]["Id"] == made[0]


def test_the_same_caller_reference_returns_the_same_invalidation(cloud: Cloud) -> None:
    client = cloud.client()
    batch = _batch("/about.html", reference="same")
    first = client.create_invalidation(DistributionId=WEB_ID, InvalidationBatch=batch)
    told = len(cloud.edge.batches)

    again = client.create_invalidation(DistributionId=WEB_ID, InvalidationBatch=batch)

    assert again["Invalidation"]["Id"] == first["Invalidation"]["Id"]
    assert len(cloud.edge.batches) == told
    with pytest.raises(ClientError) as caught:
        client.create_invalidation(
            DistributionId=WEB_ID, InvalidationBatch=_batch("/other.html", reference="same")
        )
    assert _error(caught) == (409, "InvalidationBatchAlreadyExists")


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        (_batch("/a", "/b", reference="q", quantity=3), (400, "InconsistentQuantities")),
        (_batch("no-slash", reference="p"), (400, "InvalidArgument")),
        (_batch("/a*b", reference="w"), (400, "InvalidArgument")),
        (_batch(*[f"/{n}*" for n in range(16)], reference="many"),
         (400, "TooManyInvalidationsInProgress")),
    ],
    ids=["quantity", "path", "inner-wildcard", "wildcards"],
)  # fmt: skip
def test_a_bad_batch_is_refused_and_invalidates_nothing(
    cloud: Cloud, batch: dict[str, Any], expected: tuple[int, str]
) -> None:
    told = len(cloud.edge.batches)
    with pytest.raises(ClientError) as caught:
        cloud.client().create_invalidation(DistributionId=WEB_ID, InvalidationBatch=batch)

    assert _error(caught) == expected
    assert len(cloud.edge.batches) == told


def test_an_unknown_distribution_or_invalidation_is_not_found(cloud: Cloud) -> None:
    client = cloud.client()
    with pytest.raises(ClientError) as unknown:
        client.create_invalidation(
            DistributionId="E0000000000000", InvalidationBatch=_batch("/x", reference="u")
        )
    with pytest.raises(ClientError) as missing:
        client.get_invalidation(DistributionId=WEB_ID, Id="I0000000000000")

    assert _error(unknown) == (404, "NoSuchDistribution")
    assert _error(missing) == (404, "NoSuchInvalidation")


def test_an_unsigned_request_gets_cloudfronts_error(cloud: Cloud) -> None:
    with httpx.Client(verify=ssl.create_default_context(cafile=cloud.ca)) as http:
        answer = http.get(f"{cloud.url}/2020-05-31/distribution/{WEB_ID}/invalidation")

    assert answer.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in answer.text
    assert answer.text.count("http://cloudfront.amazonaws.com/doc/2020-05-31/") == 1


def test_a_wrong_secret_is_refused(cloud: Cloud) -> None:
    forged = cloud.client(Credentials(ROOT.access_key_id, "not-the-secret"))
    with pytest.raises(ClientError) as caught:
        forged.list_invalidations(DistributionId=WEB_ID)

    assert _error(caught) == (403, "SignatureDoesNotMatch")


def test_a_function_without_the_permission_is_denied_and_nothing_is_recorded(
    cloud: Cloud,
) -> None:
    client = cloud.client(cloud.function(reader))
    told = len(cloud.edge.batches)

    with pytest.raises(ClientError) as caught:
        client.create_invalidation(
            DistributionId=WEB_ID, InvalidationBatch=_batch("/index.html", reference="denied")
        )

    assert _error(caught) == (403, "AccessDenied")
    assert len(cloud.edge.batches) == told
    root = cloud.client()
    listed = root.list_invalidations(DistributionId=WEB_ID)["InvalidationList"]
    references = [
        root.get_invalidation(DistributionId=WEB_ID, Id=item["Id"])["Invalidation"][
            "InvalidationBatch"
        ]["CallerReference"]
        for item in listed.get("Items", [])
    ]
    assert "denied" not in references


def test_a_function_that_declares_the_distribution_invalidates_through_the_port(
    cloud: Cloud,
) -> None:
    # The function signs in the cloud's own region, as an SDK given a custom endpoint does.
    client = cloud.client(cloud.function(publisher), region="eu-west-1")
    invalidator = CloudFrontInvalidator(WEB_ID, client)

    invalidation_id = invalidator.invalidate(["/posts/hello.html"])

    assert cloud.edge.batches[-1] == ["/posts/hello.html"]
    assert invalidation_id.startswith("I")
    with pytest.raises(InvalidPaths):
        invalidator.invalidate(["/a*b"])
    with pytest.raises(InvalidationDenied):
        CloudFrontInvalidator(WEB_ID, cloud.client(cloud.function(reader))).invalidate(["/x"])


def test_distributions_are_described_and_listed(cloud: Cloud) -> None:
    client = cloud.client()

    found = client.get_distribution(Id=WEB_ID)
    listed = client.list_distributions()["DistributionList"]

    distribution = found["Distribution"]
    assert found["ETag"]
    assert distribution["ARN"] == f"arn:aws:cloudfront::{ACCOUNT}:distribution/{WEB_ID}"
    assert distribution["Status"] == "Deployed"
    assert distribution["DomainName"] == "127.0.0.1:8443"
    config = distribution["DistributionConfig"]
    assert config["Origins"]["Items"][0]["Id"] == "blog-site"
    assert config["DefaultCacheBehavior"]["CachePolicyId"] == (
        "658327ea-f89d-4fab-a63d-7e88639e58f6"  # CachingOptimized
    )
    assert [item["Id"] for item in listed["Items"]] == [WEB_ID]
