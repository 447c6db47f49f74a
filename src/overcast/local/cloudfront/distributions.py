"""GetDistribution's and ListDistributions' view of a declared distribution.

Minimal but valid for SDKs: the id, ARN, ``Status`` ``Deployed`` (a local edge is
serving once it is listed), the domain name, and a ``DistributionConfig`` built from
the declaration: origins, the default and ordered cache behaviours (each with its cache
policy's id; CloudFront's managed policies keep their published ids), custom error
responses and the default root object. Settings the local cloud does not model (price
class, certificates, geo restrictions, logging) are CloudFront's defaults.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import urlsplit

from overcast import spec
from overcast.local.cloudfront.directory import DistributionRecord
from overcast.local.cloudfront.xml import timestamp
from overcast.local.s3.xml import element, group

# "Use managed cache policies": the ids CloudFront publishes for its managed policies.
MANAGED_POLICY_IDS = {
    "CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
}
_METHODS = {
    "GET_HEAD": ("GET", "HEAD"),
    "GET_HEAD_OPTIONS": ("GET", "HEAD", "OPTIONS"),
    "ALL": ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"),
}


def _quantity(tag: str, items: list[str]) -> str:
    """CloudFront's list shape: ``<tag><Quantity>n</Quantity><Items>...</Items></tag>``."""
    parts = [element("Quantity", len(items))]
    if items:
        parts.append(group("Items", items))
    return group(tag, parts)


def origin_id(service: str, origin: spec.Origin) -> str:
    if isinstance(origin, spec.BucketOrigin):
        return f"{service}-{origin.bucket.name}"
    if isinstance(origin, spec.ApiOrigin):
        return "api"
    return origin.name


def _origin(service: str, origin: spec.Origin) -> str:
    identifier = origin_id(service, origin)
    if isinstance(origin, spec.BucketOrigin):
        # The bucket's domain as on AWS; the local edge reaches it at the local S3 endpoint.
        domain = f"{identifier}.s3.amazonaws.com"
        config = group("S3OriginConfig", [element("OriginAccessIdentity", "")])
    else:
        if isinstance(origin, spec.HttpOrigin) and origin.url:
            domain = urlsplit(origin.url).hostname or "127.0.0.1"
        else:
            domain = "127.0.0.1"
        config = group(
            "CustomOriginConfig",
            [
                element("HTTPPort", 80),
                element("HTTPSPort", 443),
                element("OriginProtocolPolicy", "https-only"),
            ],
        )
    fields = [element("Id", identifier), element("DomainName", domain), element("OriginPath", "")]
    return group("Origin", [*fields, config])


def cache_policy_id(policy: spec.CachePolicy) -> str:
    """The managed policy's published id, or a stable id derived from the policy's name."""
    return MANAGED_POLICY_IDS.get(policy.name) or str(uuid.uuid5(uuid.NAMESPACE_URL, policy.name))


def _behavior(service: str, behavior: spec.Behavior, *, default: bool) -> str:
    methods = [element("Method", method) for method in _METHODS[behavior.allowed_methods]]
    cached = [element("Method", method) for method in ("GET", "HEAD")]
    allowed = [
        element("Quantity", len(methods)),
        group("Items", methods),
        group("CachedMethods", [element("Quantity", 2), group("Items", cached)]),
    ]
    fields = [] if default else [element("PathPattern", behavior.path_pattern)]
    fields += [
        element("TargetOriginId", origin_id(service, behavior.origin)),
        element("ViewerProtocolPolicy", "redirect-to-https"),
        group("AllowedMethods", allowed),
        element("Compress", behavior.compress),
        element("CachePolicyId", cache_policy_id(behavior.cache_policy)),
    ]
    return group("DefaultCacheBehavior" if default else "CacheBehavior", fields)


def _error_response(response: spec.ErrorResponse) -> str:
    fields = [element("ErrorCode", response.status)]
    if response.page_path is not None:
        fields.append(element("ResponsePagePath", response.page_path))
    if response.response_status is not None:
        fields.append(element("ResponseCode", str(response.response_status)))
    fields.append(element("ErrorCachingMinTTL", response.ttl_seconds))
    return group("CustomErrorResponse", fields)


def _configuration(record: DistributionRecord, declaration: spec.Distribution) -> list[str]:
    service = record.service
    return [
        _quantity("Origins", [_origin(service, origin) for origin in declaration.origins]),
        _behavior(service, declaration.default_behavior, default=True),
        _quantity(
            "CacheBehaviors",
            [_behavior(service, behavior, default=False) for behavior in declaration.behaviors],
        ),
        _quantity(
            "CustomErrorResponses",
            [_error_response(response) for response in declaration.error_responses],
        ),
    ]


def _common(record: DistributionRecord) -> list[str]:
    return [element("Comment", f"{record.service}: {record.name}"), element("Enabled", True)]


def distribution_config(record: DistributionRecord, declaration: spec.Distribution | None) -> str:
    parts = [element("CallerReference", f"{record.service}/{record.name}")]
    if declaration is not None:
        parts.append(element("DefaultRootObject", declaration.default_root_object or ""))
        parts += _configuration(record, declaration)
    parts += [*_common(record), element("PriceClass", "PriceClass_All")]
    parts += [element("HttpVersion", "http2"), element("IsIPV6Enabled", False)]
    return group("DistributionConfig", parts)


def distribution(
    record: DistributionRecord, declaration: spec.Distribution | None, modified: datetime
) -> list[str]:
    """The members of a ``Distribution`` document."""
    return [
        element("Id", record.id),
        element("ARN", record.arn),
        element("Status", "Deployed"),
        element("LastModifiedTime", timestamp(modified)),
        # Invalidations complete before CreateInvalidation answers: none is ever in progress.
        element("InProgressInvalidationBatches", 0),
        element("DomainName", record.domain_name),
        distribution_config(record, declaration),
    ]


def summary(
    record: DistributionRecord, declaration: spec.Distribution | None, modified: datetime
) -> str:
    """A ``DistributionSummary`` of ListDistributions."""
    parts = [
        element("Id", record.id),
        element("ARN", record.arn),
        element("Status", "Deployed"),
        element("LastModifiedTime", timestamp(modified)),
        element("DomainName", record.domain_name),
        _quantity("Aliases", []),
    ]
    if declaration is not None:
        parts += _configuration(record, declaration)
    parts += [*_common(record), element("PriceClass", "PriceClass_All")]
    parts += [element("HttpVersion", "http2"), element("IsIPV6Enabled", False)]
    parts += [element("Staging", False)]
    return group("DistributionSummary", parts)
