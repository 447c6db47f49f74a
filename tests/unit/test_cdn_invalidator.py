"""The CDN port: what every invalidator checks, the in-memory fake, and the adapter a
function's configuration picks (CloudFront's CreateInvalidation, local and on AWS)."""

from __future__ import annotations

import pytest

from overcast import spec
from overcast.ports.cdn import CdnUnavailable, InvalidPaths
from overcast.ports.cdn.cloudfront import CloudFrontInvalidator
from overcast.ports.cdn.memory import MemoryInvalidator
from overcast.runtime import RuntimeConfig
from overcast.runtime.adapters import open_invalidator
from overcast.runtime.config import resource_variable

site = spec.Bucket("site")
web = spec.Distribution("web", spec.Behavior("*", spec.BucketOrigin(site)))


def test_the_fake_records_each_batch_and_returns_a_fresh_id() -> None:
    invalidator = MemoryInvalidator()

    first = invalidator.invalidate(["/index.html"])
    second = invalidator.invalidate(("/posts/*", "/feed.xml"))

    assert first != second
    assert invalidator.batches == [["/index.html"], ["/posts/*", "/feed.xml"]]
    assert invalidator.paths == ["/index.html", "/posts/*", "/feed.xml"]


@pytest.mark.parametrize(
    "paths", [[], ["index.html"], "/index.html"], ids=["none", "relative", "str"]
)
def test_a_batch_every_cdn_refuses_is_refused_before_it_is_sent(paths: list[str]) -> None:
    invalidator = MemoryInvalidator()

    with pytest.raises(InvalidPaths):
        invalidator.invalidate(paths)
    assert invalidator.batches == []


def test_the_fake_can_fail_as_the_cdn_does() -> None:
    invalidator = MemoryInvalidator(fail_with=CdnUnavailable("throttled"))

    with pytest.raises(CdnUnavailable):
        invalidator.invalidate(["/x"])
    assert invalidator.batches == []


@pytest.mark.parametrize("backend", ["local", "aws"])
def test_a_function_invalidates_its_distribution_through_cloudfront_in_both_worlds(
    backend: str,
) -> None:
    config = RuntimeConfig(
        service="blog",
        backend="local" if backend == "local" else "aws",
        aws_endpoint="https://127.0.0.1:4566" if backend == "local" else None,
        resources={resource_variable("DISTRIBUTION", "web"): "E1ABCDEFGHIJKL"},
    )

    invalidator = open_invalidator(web, config)

    assert isinstance(invalidator, CloudFrontInvalidator)
    assert invalidator.distribution_id == "E1ABCDEFGHIJKL"


def test_a_function_that_does_not_declare_the_distribution_cannot_open_it() -> None:
    with pytest.raises(ValueError, match="OVERCAST_RESOURCE_DISTRIBUTION_WEB"):
        open_invalidator(web, RuntimeConfig(service="blog"))
