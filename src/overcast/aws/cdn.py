"""CloudFront distributions from :class:`overcast.spec.Distribution` declarations.

The local edge (``overcast.local.cdn``) mirrors CloudFront; this module emits what it
mirrors, from the same declarations:

- Behaviours in the declared order, each with its path pattern, then the default
  (``*``); CloudFront uses the first whose pattern matches.
- ``BucketOrigin`` → an S3 origin behind origin access control (CDK's
  ``S3BucketOrigin.withOriginAccessControl``): CDK adds to the bucket's policy the
  statement of ``overcast.policies.oac_bucket_policy`` — ``s3:GetObject`` for
  CloudFront's service principal on condition ``AWS:SourceArn`` = this distribution.
- ``ApiOrigin`` → the service's REST API, the stage's name as origin path (what CDK's
  ``RestApiOrigin`` does), but with the domain built from the API's id rather than
  from its stage: a function that may invalidate the distribution learns its id, and
  the stage depends (through the deployment and methods) on the functions; an origin
  naming the stage would close that loop in CloudFormation. ``forward_all_viewer``
  is CloudFront's managed origin request policy ``AllViewerExceptHostHeader``.
- ``HttpOrigin`` (CloudFront's custom origin) → its domain is a stack parameter,
  ``<Origin>Domain`` (default: the declared url's host, when there is one); the url's
  scheme picks the origin protocol policy (HTTPS only without a url), its port and
  path are the origin's; the declared response timeout is the origin read timeout.
- ``origin_shield_region`` turns Origin Shield on, in that region, for every origin.
- Cache policies: CloudFront's managed ones by reference (``CachingOptimized``,
  ``CachingDisabled``); each declared one once per stack, with its TTLs, cache key
  (headers, query strings, cookies) and gzip/brotli. CloudFront's cache policy names
  are unique per account, so the declared name is the policy's comment and
  CloudFormation names it (two environments never collide).
- Viewers are redirected to HTTPS; HTTP/2 and HTTP/3; price class 100 (North America
  and Europe, the cheapest); declared allowed methods, compression, default root
  object and custom error responses (error caching TTL, page, status).
- No custom domain or certificate is declared, so viewers reach the
  ``*.cloudfront.net`` domain on CloudFront's default certificate, whose minimum TLS
  version CloudFront fixes (TLSv1); ``TLSv1.2_2021`` is what a declared certificate
  would get (:data:`MINIMUM_TLS_WITH_CERTIFICATE`).
- Standard access logs go to the stack's CDN log bucket
  (:func:`overcast.aws.buckets.cdn_log_bucket`), under ``<distribution>/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from aws_cdk import Aws, CfnParameter, Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from overcast import spec
from overcast.aws import nag
from overcast.aws.api import DeployedApi
from overcast.aws.naming import construct_id
from overcast.spec_cdn import Names

# What a distribution with a declared certificate would require of viewers.
MINIMUM_TLS_WITH_CERTIFICATE = cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
_MANAGED = {
    spec.CACHING_OPTIMIZED.name: cloudfront.CachePolicy.CACHING_OPTIMIZED,
    spec.CACHING_DISABLED.name: cloudfront.CachePolicy.CACHING_DISABLED,
}
_METHODS = {
    "GET_HEAD": cloudfront.AllowedMethods.ALLOW_GET_HEAD,
    "GET_HEAD_OPTIONS": cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
    "ALL": cloudfront.AllowedMethods.ALLOW_ALL,
}
# Each declared origin of a distribution and the CDK origin built for it.
_Origins = list[tuple[spec.Origin, cloudfront.IOrigin]]
# A DNS name, as the domain parameter of a custom origin must be.
_DOMAIN_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"


class Cdn(Construct):
    """Every distribution of a service, and the cache policies they share."""

    def __init__(
        self,
        scope: Construct,
        service: spec.Service,
        *,
        buckets: Mapping[str, s3.IBucket],
        api: DeployedApi | None,
        log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, "Cdn")
        self._buckets = buckets
        self._api = api
        self._stage = service.api.stage if service.api else ""
        self._log_bucket = log_bucket
        self._policies: dict[str, cloudfront.ICachePolicy] = {}
        self._declared: dict[str, spec.CachePolicy] = {}
        self._domains: dict[str, CfnParameter] = {}
        self.distributions = {
            declaration.name: self._distribution(declaration)
            for declaration in service.distributions
        }

    def _distribution(self, declaration: spec.Distribution) -> cloudfront.Distribution:
        built = [(origin, self._origin(origin, declaration)) for origin in declaration.origins]
        distribution = cloudfront.Distribution(
            self,
            construct_id("Distribution", declaration.name),
            comment=f"Distribution {declaration.name}",
            default_behavior=self._behavior(declaration.default_behavior, built),
            additional_behaviors={
                behavior.path_pattern: self._behavior(behavior, built)
                for behavior in declaration.behaviors
            },
            default_root_object=declaration.default_root_object,
            error_responses=[_error_response(error) for error in declaration.error_responses]
            or None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self._log_bucket,
            log_file_prefix=f"{declaration.name}/",
        )
        nag.acknowledge(
            distribution, nag.CDN_DEFAULT_CERTIFICATE, nag.CDN_NO_GEO_RESTRICTION, nag.CDN_NO_WAF
        )
        if any(_plain_http(origin) for origin in declaration.origins):
            nag.acknowledge(distribution, nag.CDN_PLAIN_HTTP_ORIGIN)
        return distribution

    def _behavior(self, behavior: spec.Behavior, built: _Origins) -> cloudfront.BehaviorOptions:
        origin = next(deployed for declared, deployed in built if declared == behavior.origin)
        return cloudfront.BehaviorOptions(
            origin=origin,
            cache_policy=self._cache_policy(behavior.cache_policy),
            origin_request_policy=(
                cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER
                if behavior.forward_all_viewer
                else None
            ),
            allowed_methods=_METHODS[behavior.allowed_methods],
            compress=behavior.compress,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        )

    def _origin(self, origin: spec.Origin, distribution: spec.Distribution) -> cloudfront.IOrigin:
        shield = distribution.origin_shield_region
        if isinstance(origin, spec.BucketOrigin):
            return origins.S3BucketOrigin.with_origin_access_control(
                self._buckets[origin.bucket.name], origin_shield_region=shield
            )
        if isinstance(origin, spec.ApiOrigin):
            return self._api_origin(shield)
        return self._http_origin(origin, shield)

    def _api_origin(self, shield: str | None) -> cloudfront.IOrigin:
        assert self._api is not None  # spec.Service refuses an ApiOrigin without an API
        return origins.HttpOrigin(
            f"{self._api.api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}",
            origin_path=f"/{self._stage}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            origin_shield_region=shield,
        )

    def _http_origin(self, origin: spec.HttpOrigin, shield: str | None) -> cloudfront.IOrigin:
        url = urlsplit(origin.url or "")
        plain = _plain_http(origin)
        return origins.HttpOrigin(
            self._domain(origin).value_as_string,
            protocol_policy=(
                cloudfront.OriginProtocolPolicy.HTTP_ONLY
                if plain
                else cloudfront.OriginProtocolPolicy.HTTPS_ONLY
            ),
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            http_port=url.port if plain else None,
            https_port=None if plain else url.port,
            origin_path=url.path.rstrip("/") or None,
            read_timeout=Duration.seconds(origin.response_timeout_seconds),
            origin_shield_region=shield,
        )

    def _domain(self, origin: spec.HttpOrigin) -> CfnParameter:
        """The stack parameter holding the custom origin's domain (one per origin name)."""
        if origin.name not in self._domains:
            host = urlsplit(origin.url).hostname if origin.url else None
            self._domains[origin.name] = CfnParameter(
                Stack.of(self),
                construct_id("", origin.name) + "Domain",
                type="String",
                description=f"Domain name of the custom origin {origin.name!r} (e.g. its ALB)",
                default=host,
                allowed_pattern=_DOMAIN_PATTERN,
                constraint_description="a DNS name, without scheme, port or path",
            )
        return self._domains[origin.name]

    def _cache_policy(self, policy: spec.CachePolicy) -> cloudfront.ICachePolicy:
        if policy.managed:
            return _MANAGED[policy.name]
        if self._declared.setdefault(policy.name, policy) != policy:
            raise spec.DeclarationError(
                f"Two different cache policies are named {policy.name!r}; give each its own name."
            )
        if policy.name not in self._policies:
            self._policies[policy.name] = cloudfront.CachePolicy(
                self,
                construct_id("CachePolicy", policy.name),
                comment=policy.name,
                min_ttl=Duration.seconds(policy.min_ttl_seconds),
                default_ttl=Duration.seconds(policy.default_ttl_seconds),
                max_ttl=Duration.seconds(policy.max_ttl_seconds),
                header_behavior=(
                    cloudfront.CacheHeaderBehavior.allow_list(*policy.headers)
                    if policy.headers
                    else cloudfront.CacheHeaderBehavior.none()
                ),
                query_string_behavior=_query_strings(policy.query_strings),
                cookie_behavior=_cookies(policy.cookies),
                enable_accept_encoding_gzip=policy.gzip,
                enable_accept_encoding_brotli=policy.brotli,
            )
        return self._policies[policy.name]


def _query_strings(names: Names) -> cloudfront.CacheQueryStringBehavior:
    if names == "all":
        return cloudfront.CacheQueryStringBehavior.all()
    if names:
        return cloudfront.CacheQueryStringBehavior.allow_list(*names)
    return cloudfront.CacheQueryStringBehavior.none()


def _cookies(names: Names) -> cloudfront.CacheCookieBehavior:
    if names == "all":
        return cloudfront.CacheCookieBehavior.all()
    if names:
        return cloudfront.CacheCookieBehavior.allow_list(*names)
    return cloudfront.CacheCookieBehavior.none()


def _plain_http(origin: spec.Origin) -> bool:
    return isinstance(origin, spec.HttpOrigin) and urlsplit(origin.url or "").scheme == "http"


def _error_response(error: spec.ErrorResponse) -> cloudfront.ErrorResponse:
    return cloudfront.ErrorResponse(
        http_status=error.status,
        ttl=Duration.seconds(error.ttl_seconds),
        response_page_path=error.page_path,
        response_http_status=error.response_status,
    )
