"""A bucket's declared assets (``spec.Bucket.assets``), deployed with CDK's
``BucketDeployment``, as ``overcast up`` deploys them locally
(:mod:`overcast.local.assets`, whose :func:`asset_folder` finds the folder):

- ``prune=False``: objects the folder does not hold (the blog's rendered article
  pages) are left alone;
- the same ``Cache-Control`` by kind as locally: HTML revalidates within a minute,
  everything else keeps five minutes. ``BucketDeployment`` sets one ``Cache-Control``
  per deployment, so there are two, HTML and the rest; the second waits for the first;
- hidden files and ``__pycache__`` are left out, as locally.

Invalidation: when exactly one distribution serves the bucket, the last deployment
invalidates the asset paths on it — each top-level file, each top-level folder as
``/<folder>/*`` (one path each for CloudFront's quota), and ``/`` when the default
root object is one of them (CloudFront caches the root URL under ``/``). Not ``/*``:
that would also drop every object the deployment did not write (the rendered pages)
from the edge. Without it, a deploy would be seen only as cached copies expire (60 s
for HTML, 5 minutes for the rest). A bucket served by several distributions is not
invalidated (``BucketDeployment`` invalidates one), which the stack's notices say.

``BucketDeployment`` is a Lambda-backed custom resource whose handler code and AWS CLI
layer ship with AWS CDK, and whose source is the folder zipped at synthesis: synthesis
stays offline, without Docker.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from overcast import spec
from overcast.aws import nag
from overcast.aws.naming import construct_id
from overcast.local.assets import ASSET_CACHE_CONTROL, HTML_CACHE_CONTROL, asset_folder

_HIDDEN = [".*", "**/.*", "__pycache__", "**/__pycache__"]
_HTML = ["*.html", "*.htm"]
# What CDK grants the handler (grantRead on its asset bucket, grantReadWrite on ours),
# and the asset bucket of CDK's default bootstrap, as cdk-nag names them.
_COPY_ACTIONS = ("GetBucket*", "GetObject*", "List*", "Abort*", "DeleteObject*")
_CDK_ASSETS = "cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>"


def deploy_assets(
    scope: Construct,
    declaration: spec.Bucket,
    bucket: s3.IBucket,
    *,
    log_group: logs.ILogGroup,
    distribution: tuple[spec.Distribution, cloudfront.IDistribution] | None,
) -> list[s3_deployment.BucketDeployment]:
    """Copy the bucket's asset folder into it (HTML, then the rest), then invalidate."""
    folder = _folder(declaration)
    source = s3_deployment.Source.asset(str(folder), exclude=_HIDDEN)
    name = construct_id("Assets", declaration.name)
    html = s3_deployment.BucketDeployment(
        scope,
        f"{name}Html",
        destination_bucket=bucket,
        sources=[source],
        prune=False,
        exclude=["*"],
        include=_HTML,
        cache_control=[s3_deployment.CacheControl.from_string(HTML_CACHE_CONTROL)],
        log_group=log_group,
    )
    rest = s3_deployment.BucketDeployment(
        scope,
        name,
        destination_bucket=bucket,
        sources=[source],
        prune=False,
        exclude=_HTML,
        cache_control=[s3_deployment.CacheControl.from_string(ASSET_CACHE_CONTROL)],
        log_group=log_group,
        distribution=distribution[1] if distribution else None,
        distribution_paths=invalidation_paths(folder, distribution[0]) if distribution else None,
    )
    rest.node.add_dependency(html)
    _acknowledge_handler(html, bucket, invalidates=distribution is not None)
    return [html, rest]


def invalidation_paths(folder: Path, distribution: spec.Distribution) -> list[str]:
    """The distribution paths the asset folder's files are served under (see above)."""
    paths: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda each: each.name):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        paths.append(f"/{entry.name}/*" if entry.is_dir() else f"/{entry.name}")
    if f"/{distribution.default_root_object}" in paths:
        paths.insert(0, "/")
    return paths


def serving_distributions(
    service: spec.Service, bucket: spec.Bucket
) -> Sequence[spec.Distribution]:
    """The service's distributions that have ``bucket`` as an origin."""
    return [
        distribution
        for distribution in service.distributions
        if spec.BucketOrigin(bucket) in distribution.origins
    ]


def _folder(declaration: spec.Bucket) -> Path:
    folder = asset_folder(declaration)
    if not isinstance(folder, Path):
        raise spec.DeclarationError(
            f"Bucket {declaration.name!r}: assets {declaration.assets!r} are not a folder on "
            "disk (a zipped package?); AWS CDK deploys assets from a folder."
        )
    return folder


def _acknowledge_handler(
    deployment: s3_deployment.BucketDeployment, bucket: s3.IBucket, *, invalidates: bool
) -> None:
    """CDK's handler is one function per stack, outside the deployment's construct."""
    handler = deployment.handler_role.node.scope
    assert handler is not None
    copies = [
        *(f"Action::s3:{action}" for action in _COPY_ACTIONS),
        f"Resource::arn:<AWS::Partition>:s3:::{_CDK_ASSETS}/*",
        f"Resource::<{nag.logical_id(bucket)}.Arn>/*",
    ]
    reasons = [nag.ASSET_DEPLOYMENT_COPY.on(finding) for finding in copies]
    if invalidates:
        reasons.append(nag.ASSET_DEPLOYMENT_INVALIDATION)
    nag.acknowledge(handler, nag.ASSET_DEPLOYMENT_LOGS, nag.ASSET_DEPLOYMENT_RUNTIME, *reasons)
