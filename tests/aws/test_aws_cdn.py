"""CloudFront on AWS: the blog's site and the update server's releases, from the same
declarations as the local edge; plus a test's own declarations for the corners."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint_file

from overcast import spec
from overcast.aws import nag
from overcast.aws.app import build_app
from overcast.aws.bundling import Bundle
from overcast.aws.stack import ServiceStack
from overcast.policies import oac_bucket_policy
from overcast.spec_cdn import ONE_YEAR_SECONDS
from tests.aws.conftest import SynthesizedProject

Resources = Mapping[str, Mapping[str, Any]]
ACCOUNT = "123456789012"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


def _stack(synthesized: SynthesizedProject, service: str) -> tuple[ServiceStack, Template]:
    stack = synthesized.stacks[service]
    return stack, Template.from_stack(stack)


def _logical_id(stack: Stack, construct: Any) -> str:
    return str(stack.resolve(stack.get_logical_id(construct.node.default_child)))


def _distribution(stack: ServiceStack, template: Template, name: str) -> tuple[str, Any]:
    """The logical id and ``DistributionConfig`` of the service's distribution ``name``."""
    construct = stack.node.find_child("Cdn").node.find_child(f"Distribution{name.capitalize()}")
    logical = _logical_id(stack, construct)
    resources: Resources = template.find_resources("AWS::CloudFront::Distribution")
    return logical, resources[logical]["Properties"]["DistributionConfig"]


def _behaviors(config: Mapping[str, Any]) -> dict[str, Any]:
    return {behavior["PathPattern"]: behavior for behavior in config["CacheBehaviors"]}


def _origin(config: Mapping[str, Any], behavior: Mapping[str, Any]) -> Any:
    (origin,) = [o for o in config["Origins"] if o["Id"] == behavior["TargetOriginId"]]
    return origin


def _managed_id(policy: Any) -> str:
    return str(policy.cache_policy_id if hasattr(policy, "cache_policy_id") else policy)


def _render(value: Any) -> Any:
    """A resolved template value as the string it becomes in account ``ACCOUNT``:
    ``Ref`` of a resource is its logical id, a bucket's ``Arn`` is ``arn:aws:s3:::<id>``."""
    if isinstance(value, list):
        return [_render(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        pseudo = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT}
        return pseudo.get(value["Ref"], value["Ref"])
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        return f"arn:aws:s3:::{value['Fn::GetAtt'][0]}"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_render(part)) for part in parts)
    return {key: _render(item) for key, item in value.items()}


def _one_of(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]


def _oac_statements(template: Template, bucket: str) -> list[Any]:
    policies: Resources = template.find_resources(
        "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": bucket}}}
    )
    (policy,) = policies.values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    return [s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]


def _assert_oac_policy(template: Template, bucket: str, distribution: str) -> None:
    """The bucket's CloudFront statement is ``oac_bucket_policy``'s, for this distribution."""
    (statement,) = _oac_statements(template, bucket)
    distribution_arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{distribution}"
    (expected,) = oac_bucket_policy(bucket, [distribution_arn])["Statement"]
    rendered = _render(statement)
    condition = rendered["Condition"]["StringEquals"]
    condition["AWS:SourceArn"] = _one_of(condition["AWS:SourceArn"])
    assert rendered == {key: value for key, value in expected.items() if key != "Sid"}


# --- The blog's site -------------------------------------------------------------------


def test_the_site_bucket_is_read_only_by_this_distribution_through_oac(
    synthesized: SynthesizedProject,
) -> None:
    # Given the site distribution, whose default behaviour serves the site bucket
    stack, template = _stack(synthesized, "blog")
    distribution, config = _distribution(stack, template, "site")
    site = _logical_id(stack, stack.resources.buckets["site"])
    origin = _origin(config, config["DefaultCacheBehavior"])
    assert origin["DomainName"] == {"Fn::GetAtt": [site, "RegionalDomainName"]}
    # Then CloudFront signs its requests (origin access control), with no legacy identity
    control = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    oac = template.to_json()["Resources"][control]["Properties"]["OriginAccessControlConfig"]
    assert oac["SigningBehavior"] == "always"
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    # ... and the bucket lets CloudFront read for this distribution only, as locally
    _assert_oac_policy(template, site, distribution)
    assert config["DefaultRootObject"] == "index.html"


def test_api_requests_reach_the_api_uncached_with_every_viewer_header_but_host(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _stack(synthesized, "blog")
    _, config = _distribution(stack, template, "site")
    # Given the behaviours, in the declared order, before the default
    assert list(_behaviors(config)) == ["/api/*", "/thumbnails/*"]
    api = _behaviors(config)["/api/*"]
    # Then /api/* is never cached, forwards all viewer headers but Host, allows writes
    assert api["CachePolicyId"] == _managed_id(cloudfront.CachePolicy.CACHING_DISABLED)
    forward_all = cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER
    assert api["OriginRequestPolicyId"] == forward_all.origin_request_policy_id
    assert sorted(api["AllowedMethods"]) == sorted(ALL_METHODS)
    # ... and goes to the REST API's stage over HTTPS
    origin = _origin(config, api)
    rest_api = _logical_id(stack, stack.node.find_child("ApiBlog").node.find_child("Api"))
    assert origin["DomainName"]["Fn::Join"][1][0] == {"Ref": rest_api}
    assert origin["OriginPath"] == "/v1"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_thumbnails_come_from_the_photos_bucket_through_oac(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _stack(synthesized, "blog")
    distribution, config = _distribution(stack, template, "site")
    thumbnails = _behaviors(config)["/thumbnails/*"]
    photos = _logical_id(stack, stack.resources.buckets["photos"])
    origin = _origin(config, thumbnails)
    assert origin["DomainName"] == {"Fn::GetAtt": [photos, "RegionalDomainName"]}
    assert "OriginAccessControlId" in origin
    assert thumbnails["CachePolicyId"] == _managed_id(cloudfront.CachePolicy.CACHING_OPTIMIZED)
    assert thumbnails["AllowedMethods"] == ["GET", "HEAD"]
    _assert_oac_policy(template, photos, distribution)


def test_missing_pages_become_the_sites_404_page(synthesized: SynthesizedProject) -> None:
    stack, template = _stack(synthesized, "blog")
    _, config = _distribution(stack, template, "site")
    assert config["CustomErrorResponses"] == [
        {
            "ErrorCode": 403,
            "ErrorCachingMinTTL": 10,
            "ResponseCode": 404,
            "ResponsePagePath": "/404.html",
        },
        {
            "ErrorCode": 404,
            "ErrorCachingMinTTL": 0,
            "ResponseCode": 404,
            "ResponsePagePath": "/404.html",
        },
    ]


def test_viewers_get_https_http3_and_the_cheapest_price_class_and_are_logged(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _stack(synthesized, "blog")
    _, config = _distribution(stack, template, "site")
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b["ViewerProtocolPolicy"] for b in behaviors} == {"redirect-to-https"}
    assert config["HttpVersion"] == "http2and3"
    assert config["PriceClass"] == "PriceClass_100"
    assert "ViewerCertificate" not in config  # no custom domain: CloudFront's certificate
    # Access logs go to a bucket of their own, private, encrypted, TLS only
    logs = config["Logging"]["Bucket"]["Fn::GetAtt"][0]
    bucket = template.to_json()["Resources"][logs]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    policies: Resources = template.find_resources(
        "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": logs}}}
    )
    (policy,) = policies.values()
    denials = [s["Condition"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert {"Bool": {"aws:SecureTransport": "false"}} in denials


def test_the_stack_outputs_each_distributions_domain_and_id(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _stack(synthesized, "blog")
    distribution, _ = _distribution(stack, template, "site")
    outputs = template.to_json()["Outputs"]
    assert outputs["DistributionSiteDomainName"]["Value"] == {
        "Fn::GetAtt": [distribution, "DomainName"]
    }
    assert outputs["DistributionSiteId"]["Value"] == {"Ref": distribution}


def test_the_pages_function_may_invalidate_exactly_the_site_distribution(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _stack(synthesized, "blog")
    distribution, _ = _distribution(stack, template, "site")
    pages = stack.node.find_child("FunctionPages")
    function = template.to_json()["Resources"][
        _logical_id(stack, pages.node.find_child("Function"))
    ]
    # Given the pages function, which declares the site distribution
    variables = function["Properties"]["Environment"]["Variables"]
    # Then it learns the distribution's id under the local cloud's name
    assert variables["OVERCAST_RESOURCE_DISTRIBUTION_SITE"] == {"Ref": distribution}
    # ... and may invalidate that distribution, and no other function may invalidate any
    policies: Resources = template.find_resources("AWS::IAM::Policy")
    invalidations = {
        name: statement
        for name, policy in policies.items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "cloudfront:CreateInvalidation" in _one_of(statement["Action"])
        and name.startswith("Function")
    }
    (name,) = invalidations
    role = _logical_id(stack, pages.node.find_child("Role"))
    assert policies[name]["Properties"]["Roles"] == [{"Ref": role}]
    assert _render(invalidations[name]["Resource"]) == (
        f"arn:aws:cloudfront::{ACCOUNT}:distribution/{distribution}"
    )
    assert invalidations[name]["Action"] == "cloudfront:CreateInvalidation"


def test_site_assets_are_deployed_without_pruning_then_their_paths_invalidated(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _stack(synthesized, "blog")
    distribution, _ = _distribution(stack, template, "site")
    site = _logical_id(stack, stack.resources.buckets["site"])
    deployments: Resources = template.find_resources("Custom::CDKBucketDeployment")
    # Given the site bucket's two deployments: HTML (revalidated within a minute) and the rest
    by_control = {
        d["Properties"]["SystemMetadata"]["cache-control"]: d for d in deployments.values()
    }
    assert set(by_control) == {"max-age=60", "max-age=300"}
    for deployment in by_control.values():
        properties = deployment["Properties"]
        assert properties["DestinationBucketName"] == {"Ref": site}
        # Then objects the folder does not hold (rendered articles) are left alone
        assert properties["Prune"] is False
    html, rest = by_control["max-age=60"]["Properties"], by_control["max-age=300"]["Properties"]
    assert html["Include"] == ["*.html", "*.htm"]
    assert "DistributionId" not in html
    # ... and the last one invalidates the asset paths on the site, never /* (the articles)
    assert rest["DistributionId"] == {"Ref": distribution}
    paths = rest["DistributionPaths"]
    assert {"/", "/index.html", "/app.js", "/404.html"} <= set(paths)
    assert "/*" not in paths
    assert not any(path.startswith("/articles") for path in paths)


# --- The update server's releases -----------------------------------------------------


def test_the_update_servers_domain_is_a_deploy_time_parameter(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _stack(synthesized, "updates")
    _, config = _distribution(stack, template, "releases")
    parameter = template.to_json()["Parameters"]["AppDomain"]
    assert parameter["Type"] == "String"
    assert "Default" not in parameter  # the app declares no url: no made-up default
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Ref": "AppDomain"}
    custom = origin["CustomOriginConfig"]
    assert custom["OriginProtocolPolicy"] == "https-only"
    assert custom["OriginReadTimeout"] == 30
    assert "DefaultRootObject" not in config


def test_releases_are_kept_a_year_whatever_the_origin_says(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _stack(synthesized, "updates")
    _, config = _distribution(stack, template, "releases")
    releases = _behaviors(config)["/releases/*"]
    assert releases["Compress"] is False
    policy = template.to_json()["Resources"][releases["CachePolicyId"]["Ref"]]
    settings = policy["Properties"]["CachePolicyConfig"]
    assert settings["Comment"] == "ImmutableReleases"
    assert settings["MinTTL"] == settings["DefaultTTL"] == settings["MaxTTL"] == ONE_YEAR_SECONDS
    key = settings["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["EnableAcceptEncodingGzip"] is False
    assert key["EnableAcceptEncodingBrotli"] is False
    # ... while the manifest is asked for at most once a minute
    manifest = config["DefaultCacheBehavior"]["CachePolicyId"]["Ref"]
    manifest_settings = template.to_json()["Resources"][manifest]["Properties"]["CachePolicyConfig"]
    assert (manifest_settings["MinTTL"], manifest_settings["MaxTTL"]) == (0, 60)


# --- Checks -----------------------------------------------------------------------------


def test_the_cdn_templates_pass_cfn_lint_and_cdk_nag(synthesized: SynthesizedProject) -> None:
    for stack in synthesized.assembly.stacks:
        if stack.service not in ("blog", "updates"):
            continue
        matches = lint_file(stack.template, config=ManualArgs(regions=["us-east-1"]))
        assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []
        assert nag.findings(synthesized.stacks[stack.service]) == []


# --- A test's own declarations ----------------------------------------------------------


def test_a_function_behind_the_api_may_invalidate_the_distribution_in_front_of_it(
    bundle: Bundle, tmp_path: Path
) -> None:
    # Given an API whose own function invalidates the distribution fronting the API:
    # an origin naming the API's stage would close a loop (stage -> methods -> function
    # -> distribution -> stage) that CloudFormation refuses
    web = spec.Distribution("web", spec.Behavior("*", spec.ApiOrigin(), spec.CACHING_DISABLED))
    function = spec.Function("thumbs", "thumbs.handler:handler", distributions=(web,))
    api = spec.Api("shop", (spec.Route("GET", "/items", function),))
    service = spec.Service("thumbs", api=api, distributions=(web,))
    # When it is synthesized (Template.from_stack refuses a template with a cycle)
    app, (stack,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    template = Template.from_stack(stack)
    # Then it deploys, and the function knows the distribution
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": {"OVERCAST_RESOURCE_DISTRIBUTION_WEB": {"Ref": _any_id(template)}}
            }
        },
    )
    assert nag.findings(app) == []


def _any_id(template: Template) -> str:
    (logical,) = template.find_resources("AWS::CloudFront::Distribution")
    return str(logical)


def test_a_custom_origins_url_sets_its_protocol_port_path_and_default_domain(
    bundle: Bundle, tmp_path: Path
) -> None:
    origin = spec.HttpOrigin(
        "legacy", url="http://origin.example.com:8080/base", response_timeout_seconds=45
    )
    keyed = spec.CachePolicy(
        "Keyed",
        headers=("Accept-Language",),
        query_strings="all",
        cookies=("session",),
        brotli=False,
    )
    cdn = spec.Distribution(
        "cdn", spec.Behavior("*", origin, keyed), origin_shield_region="eu-west-1"
    )
    service = spec.Service("legacy", distributions=(cdn,))
    app, (stack,) = build_app([service], {}, environment="dev", outdir=tmp_path)
    template = Template.from_stack(stack)
    assert template.to_json()["Parameters"]["LegacyDomain"]["Default"] == "origin.example.com"
    (resource,) = template.find_resources("AWS::CloudFront::Distribution").values()
    (deployed,) = resource["Properties"]["DistributionConfig"]["Origins"]
    assert deployed["OriginPath"] == "/base"
    assert deployed["OriginShield"] == {"Enabled": True, "OriginShieldRegion": "eu-west-1"}
    assert deployed["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "http-only",
        "HTTPPort": 8080,
        "OriginReadTimeout": 45,
        "OriginSSLProtocols": ["TLSv1.2"],
    }
    (policy,) = template.find_resources("AWS::CloudFront::CachePolicy").values()
    key = policy["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Accept-Language"]}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    assert key["CookiesConfig"] == {"CookieBehavior": "whitelist", "Cookies": ["session"]}
    assert (key["EnableAcceptEncodingGzip"], key["EnableAcceptEncodingBrotli"]) == (True, False)
    assert nag.findings(app) == []
