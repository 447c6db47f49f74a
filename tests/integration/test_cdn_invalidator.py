"""The CloudFront invalidator against CloudFront as moto emulates it (in-process).

The same adapter against the local cloud's CloudFront API is exercised in
``test_cloudfront_api.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from overcast.ports.cdn import DistributionNotFound
from overcast.ports.cdn.cloudfront import CloudFrontInvalidator


@pytest.fixture
def cloudfront() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client(
            "cloudfront",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _distribution(client: Any) -> str:
    config = {
        "CallerReference": "site",
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "site",
                    "DomainName": "blog-site.s3.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
        "Comment": "",
        "Enabled": True,
    }
    return str(client.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def test_each_call_is_one_invalidation_of_its_paths(cloudfront: Any) -> None:
    distribution = _distribution(cloudfront)
    invalidator = CloudFrontInvalidator(distribution, cloudfront)

    first = invalidator.invalidate(["/index.html", "/posts/*"])
    second = invalidator.invalidate(["/index.html", "/posts/*"])

    assert first != second
    found = cloudfront.get_invalidation(DistributionId=distribution, Id=first)["Invalidation"]
    assert found["InvalidationBatch"]["Paths"]["Items"] == ["/index.html", "/posts/*"]


def test_an_unknown_distribution_is_the_ports_own_error(cloudfront: Any) -> None:
    with pytest.raises(DistributionNotFound):
        CloudFrontInvalidator("E0000000000000", cloudfront).invalidate(["/x"])
