"""Software update offloading's declaration: the existing update server behind a CDN.

The app (:mod:`.origin`) is CloudFront's custom origin, unchanged. Locally, ``overcast
up`` starts it as a process of its own on a free port, with its releases under the
cloud's data directory; on AWS it is an EC2 instance (behind an ALB) whose domain is a
deploy-time parameter: ``url`` is left unset here because no real domain can be known
in advance, and a made-up default would deploy a distribution pointing nowhere.

The app sends no ``Cache-Control``, so the cache policies alone decide how long the
edge keeps its answers (CloudFront: without origin headers the default TTL applies,
clamped to [min, max]):

- ``/releases/*`` → "ImmutableReleases": min = default = max = one year. A published
  release's files never change (a fix is a new version, under a new path), so the edge
  may keep them as long as CloudFront allows, whatever the origin says; after the first
  download of a release, devices are served by the edge and the origin sees nothing.
- ``*`` (``/latest.json``) → "UpdateManifest": min 0, default = max = 60 s. Devices
  learn of a new release within a minute, and each edge asks the origin for the
  manifest at most once a minute however many devices poll (a 304 when unchanged).
"""

from __future__ import annotations

from overcast import spec
from overcast.spec_cdn import ONE_YEAR_SECONDS

ONE_MINUTE_SECONDS = 60

app_origin = spec.HttpOrigin(
    "app",
    local_command=(
        "{python}",
        "-m",
        "overcast.apps.updates.origin",
        "serve",
        "--port",
        "{port}",
        "--root",
        "{data_dir}/updates",
    ),
)

immutable_releases = spec.CachePolicy(
    "ImmutableReleases",
    min_ttl_seconds=ONE_YEAR_SECONDS,
    default_ttl_seconds=ONE_YEAR_SECONDS,
    max_ttl_seconds=ONE_YEAR_SECONDS,
    # Release files are random-looking binaries: compressing them gains nothing.
    gzip=False,
    brotli=False,
)

update_manifest = spec.CachePolicy(
    "UpdateManifest",
    min_ttl_seconds=0,
    default_ttl_seconds=ONE_MINUTE_SECONDS,
    max_ttl_seconds=ONE_MINUTE_SECONDS,
)

releases = spec.Distribution(
    name="releases",
    behaviors=(spec.Behavior("/releases/*", app_origin, immutable_releases, compress=False),),
    default_behavior=spec.Behavior("*", app_origin, update_manifest),
    # The app has no index page: "/" is the origin's answer (a 404), not a root object.
    default_root_object=None,
)

service = spec.Service(
    name="updates",
    description="Software update offloading: an unchanged update server behind a CDN.",
    distributions=(releases,),
)
