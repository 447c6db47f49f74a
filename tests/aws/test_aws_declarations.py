"""Stacks from small declarations of a test's own: grants, refusals, environments, checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from overcast import spec
from overcast.aws import nag
from overcast.aws.app import SynthError, build_app, write_assembly
from overcast.aws.buckets import OBJECT_ACTIONS
from overcast.aws.bundling import Bundle


def _service(*, cache: spec.StageCache | None = None) -> spec.Service:
    photos = spec.Bucket("photos")
    function = spec.Function("thumbnails", handler="thumbs.handler:handler", buckets=(photos,))
    api = spec.Api("thumbs", routes=(spec.Route("GET", "/thumbs", function),), cache=cache)
    return spec.Service("thumbs", api=api, buckets=(photos,))


def _statements(template: Template) -> list[dict[str, Any]]:
    policies: dict[str, Any] = template.find_resources("AWS::IAM::Policy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_a_function_declaring_a_bucket_may_use_its_objects_and_nothing_else(
    bundle: Bundle, tmp_path: Path
) -> None:
    # Given a function that declares the photos bucket
    app, (stack,) = build_app([_service()], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    template = Template.from_stack(stack)
    bucket = stack.resources.buckets["photos"]
    arn = Stack.of(stack).resolve(bucket.bucket_arn)
    # Then it may list that bucket and read, write and delete its objects, no more
    grants = [s for s in _statements(template) if str(s["Action"]).count("s3:")]
    assert {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn} in grants
    objects = next(s for s in grants if s["Action"] != "s3:ListBucket")
    assert sorted(objects["Action"]) == sorted(OBJECT_ACTIONS)
    assert objects["Resource"] == {"Fn::Join": ["", [arn, "/*"]]}
    # ... and learns the bucket's name from its environment
    function = template.find_resources("AWS::Lambda::Function")
    (properties,) = [f["Properties"] for f in function.values()]
    assert properties["Environment"]["Variables"]["OVERCAST_RESOURCE_BUCKET_PHOTOS"] == (
        Stack.of(stack).resolve(bucket.bucket_name)
    )
    assert properties["Architectures"] == ["arm64"]
    # And the wildcard on the bucket's objects is acknowledged with its reason
    assert nag.findings(app) == []


def test_environments_are_separate_stacks_side_by_side(bundle: Bundle, tmp_path: Path) -> None:
    service = _service()
    _, (dev,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path / "a")
    _, (prod,) = build_app([service], {"thumbs": bundle}, environment="prod", outdir=tmp_path / "b")
    assert (dev.stack_name, prod.stack_name) == ("thumbs-dev", "thumbs-prod")
    for stack, environment in ((dev, "dev"), (prod, "prod")):
        Template.from_stack(stack).has_resource_properties(
            "AWS::ApiGateway::RestApi", {"Name": f"thumbs-{environment}-thumbs"}
        )


def test_a_stage_cache_with_invalidation_cloudformation_cannot_set_is_refused(
    bundle: Bundle, tmp_path: Path
) -> None:
    service = _service(cache=spec.StageCache(unauthorized_strategy="FAIL_WITH_403"))
    with pytest.raises(spec.DeclarationError, match="RequireAuthorizationForCacheControl"):
        build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)


def test_an_unacknowledged_cdk_nag_error_fails_synthesis(bundle: Bundle, tmp_path: Path) -> None:
    # Given a stack with a bucket that does not refuse plain HTTP (nobody acknowledged it)
    app, stacks = build_app([_service()], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    s3.Bucket(stacks[0], "Careless", enforce_ssl=False)
    # When it is synthesized, Then synthesis fails with cdk-nag's finding
    assert "AwsSolutions-S10" in [finding.rule for finding in nag.findings(app)]
    with pytest.raises(SynthError, match="AwsSolutions-S10"):
        write_assembly(app, stacks)


def test_a_cached_get_on_the_root_resource_synthesizes(bundle: Bundle, tmp_path: Path) -> None:
    # CDK names the root resource's method "//GET"; "/GET" is refused at synth.
    function = spec.Function("home", handler="thumbs.handler:handler")
    api = spec.Api(
        "home", routes=(spec.Route("GET", "/", function),), cache=spec.StageCache(ttl_seconds=60)
    )
    service = spec.Service("thumbs", api=api)

    _app, (stack,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    stages = Template.from_stack(stack).find_resources("AWS::ApiGateway::Stage")

    (stage,) = stages.values()
    settings = stage["Properties"]["MethodSettings"]
    cached = [s for s in settings if s["CachingEnabled"]]
    assert [(s["ResourcePath"], s["HttpMethod"]) for s in cached] == [("/", "GET")], settings
