"""The CDN edge end to end, against a real ``overcast up``: the blog's site through its
distribution (origin access control on the site bucket), the update offloading app
behind its own, `overcast cdn invalidate` and the CloudFront API, `overcast stats`."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import boto3
import httpx

from overcast.local.endpoints import Endpoints
from tests.cloud_process import CloudProcess
from tests.e2e.conftest import trusting
from tests.e2e.test_caches_e2e import overcast


def _cdn(endpoints: Endpoints, service: str, name: str) -> str:
    return endpoints.services[service].distributions[name].url.rstrip("/")


def _origin_log(cloud: CloudProcess) -> list[str]:
    return (Path(cloud.data_dir) / "logs" / "origin-updates-app.log").read_text().splitlines()


def _cloudfront(endpoints: Endpoints, cloud: CloudProcess) -> Any:
    credentials = json.loads((Path(cloud.data_dir) / "credentials.json").read_text())
    return boto3.client(
        "cloudfront",
        endpoint_url=endpoints.aws["s3"],
        region_name=endpoints.region,
        verify=endpoints.ca_bundle,
        aws_access_key_id=credentials["access_key_id"],
        aws_secret_access_key=credentials["secret_access_key"],
    )


def test_the_site_is_served_through_the_edge_and_never_straight_from_its_bucket(
    endpoints: Endpoints, https: httpx.Client
) -> None:
    site = _cdn(endpoints, "blog", "site")

    # Given a first request for the home page (whatever an earlier test left cached)
    first = https.get(f"{site}/", params={"probe": secrets.token_hex(4)})
    second = https.get(f"{site}/")
    third = https.get(f"{site}/")

    # Then the edge answers with the site's index, and from its cache the second time
    assert first.status_code == 200
    assert "text/html" in first.headers["content-type"]
    assert third.headers["x-cache"] == "Hit from overcast"
    assert int(third.headers["age"]) >= 0
    assert third.content == second.content
    assert "cloudfront.local" in third.headers["via"]

    # And the bucket itself refuses an anonymous reader (origin access control)
    bucket = endpoints.services["blog"].buckets["site"]
    direct = https.get(f"{endpoints.aws['s3']}/{bucket}/index.html")
    assert direct.status_code == 403
    assert b"AccessDenied" in direct.content


def test_an_invalidation_makes_the_next_request_go_to_the_origin(
    endpoints: Endpoints, https: httpx.Client, cloud: CloudProcess
) -> None:
    site = _cdn(endpoints, "blog", "site")
    https.get(f"{site}/app.css")
    assert https.get(f"{site}/app.css").headers["x-cache"] == "Hit from overcast"

    # When the path is invalidated from the CLI
    done = overcast("cdn", "invalidate", "blog/site", "/app.css", "--data-dir", str(cloud.data_dir))
    assert done.returncode == 0, done.stderr
    assert "1 cached object removed" in done.stdout

    # Then the next request misses, and CloudFront's API lists the invalidation
    assert https.get(f"{site}/app.css").headers["x-cache"] == "Miss from overcast"
    distribution_id = endpoints.services["blog"].distributions["site"].id
    listed = _cloudfront(endpoints, cloud).list_invalidations(DistributionId=distribution_id)
    assert listed["InvalidationList"]["Quantity"] >= 1


def test_a_bad_invalidation_path_is_refused_and_changes_nothing(
    endpoints: Endpoints, https: httpx.Client, cloud: CloudProcess
) -> None:
    site = _cdn(endpoints, "blog", "site")
    https.get(f"{site}/app.js")
    refused = overcast(
        "cdn", "invalidate", "blog/site", "/app.js", "no-slash", "--data-dir", str(cloud.data_dir)
    )
    assert refused.returncode == 1
    assert "invalid invalidation path" in refused.stderr.lower()
    assert https.get(f"{site}/app.js").headers["x-cache"] == "Hit from overcast"


def test_update_clients_are_served_by_the_edge_and_the_origin_sees_one_request_per_file(
    endpoints: Endpoints, cloud: CloudProcess
) -> None:
    updates = _cdn(endpoints, "updates", "releases")
    with httpx.Client(verify=trusting(endpoints), timeout=30) as client:
        manifest = client.get(f"{updates}/latest.json").json()
        release = manifest["files"][0]
        url = f"{updates}{release['url']}"
        requests_before = sum(release["url"] in line for line in _origin_log(cloud))

        # When clients ask for a range first (a resumed download), then the whole file
        tail = client.get(url, headers={"Range": "bytes=-1024"})
        whole = [client.get(url) for _ in range(3)]

    # Then the range came from the one whole-object fetch, and the rest from the cache
    assert tail.status_code == 206
    assert tail.headers["content-range"].endswith(f"/{release['size']}")
    assert all(response.content == whole[0].content for response in whole)
    assert len(whole[0].content) == release["size"]
    assert whole[0].content[-1024:] == tail.content
    assert [response.headers["x-cache"] for response in whole[1:]] == ["Hit from overcast"] * 2
    requests_after = sum(release["url"] in line for line in _origin_log(cloud))
    assert requests_after - requests_before <= 1


def test_stats_count_each_distributions_requests_and_hits(
    endpoints: Endpoints, https: httpx.Client, cloud: CloudProcess
) -> None:
    site = _cdn(endpoints, "blog", "site")
    for _ in range(3):
        https.get(f"{site}/index.html")

    figures = overcast("stats", "--data-dir", str(cloud.data_dir), "--json")
    assert figures.returncode == 0, figures.stderr
    counters = json.loads(figures.stdout)["distributions"]["blog/site"]
    assert counters["requests"] >= 3
    assert counters["hits"] >= 2

    table = overcast("stats", "--data-dir", str(cloud.data_dir))
    assert "CDN distributions" in table.stdout
    assert "blog/site" in table.stdout
