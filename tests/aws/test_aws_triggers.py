"""The blog's triggers on AWS: the subscribers' stream, photo uploads, and what its
functions learn; plus trigger declarations synth refuses rather than deploys differently."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from overcast import spec
from overcast.aws import nag
from overcast.aws.app import build_app
from overcast.aws.bundling import Bundle
from overcast.aws.stack import ServiceStack
from tests.aws.conftest import SynthesizedProject

Resources = Mapping[str, Mapping[str, Any]]
SUBSCRIBERS = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["SUBSCRIBER"]}}}}


def _blog(synthesized: SynthesizedProject) -> tuple[ServiceStack, Template]:
    stack = synthesized.stacks["blog"]
    return stack, Template.from_stack(stack)


def _one(template: Template, kind: str) -> Any:
    found: Resources = template.find_resources(kind)
    assert len(found) == 1, f"{len(found)} resources of type {kind}"
    return next(iter(found.values()))["Properties"]


def _logical_id(stack: ServiceStack, construct: Any) -> str:
    return str(Stack.of(stack).resolve(stack.get_logical_id(construct.node.default_child)))


def _function_id(stack: ServiceStack, name: str) -> str:
    function = stack.node.find_child(f"Function{name.capitalize()}").node.find_child("Function")
    return _logical_id(stack, function)


def test_new_subscribers_reach_the_welcome_function_in_batches_as_declared(
    synthesized: SynthesizedProject,
) -> None:
    # Given the blog table's stream, mapped to the welcome function
    stack, template = _blog(synthesized)
    table = _one(template, "AWS::DynamoDB::GlobalTable")
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    welcome = {"Ref": _function_id(stack, "welcome")}
    mappings: Resources = template.find_resources(
        "AWS::Lambda::EventSourceMapping", {"Properties": {"FunctionName": welcome}}
    )
    (mapping,) = [found["Properties"] for found in mappings.values()]
    # Then only inserted subscribers pass the filter, in batches of 10 from the oldest record
    (only,) = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == SUBSCRIBERS
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == 10
    # ... a failing batch is split, failed items reported, retried 5 times, then kept
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumRetryAttempts" not in mapping  # -1: until the record is too old
    assert mapping["MaximumRecordAgeInSeconds"] == 6 * 3600
    queue = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert template.to_json()["Resources"][queue]["Type"] == "AWS::SQS::Queue"


def test_the_welcome_function_may_read_the_stream_and_keep_failures(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _blog(synthesized)
    role = stack.node.find_child("FunctionWelcome").node.find_child("Role")
    policies: Resources = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": _logical_id(stack, role)}]}}
    )
    (policy,) = policies.values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    table = _logical_id(stack, stack.resources.tables["blog"])
    stream = next(s for s in statements if "dynamodb:GetRecords" in s["Action"])
    assert stream["Resource"] == {"Fn::GetAtt": [table, "StreamArn"]}
    assert any("sqs:SendMessage" in s["Action"] for s in statements)


def test_failure_queues_are_encrypted_and_refuse_plain_http(
    synthesized: SynthesizedProject,
) -> None:
    _, template = _blog(synthesized)
    queues: Resources = template.find_resources("AWS::SQS::Queue")
    # the two streams' and the thumbnailer's failure queues; pages and newsletter, and
    # their dead-letter queues
    assert len(queues) == 7
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in queues.values())
    policies: Resources = template.find_resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 7
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = [each for each in statements if each["Effect"] == "Deny"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in [d["Condition"] for d in denies]


def test_only_uploads_trigger_the_thumbnailer_so_its_thumbnails_never_do(
    synthesized: SynthesizedProject,
) -> None:
    # Given the photos bucket's notification
    stack, template = _blog(synthesized)
    notification = _one(template, "Custom::S3BucketNotifications")
    (config,) = notification["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    # Then objects created under uploads/ invoke the thumbnailer, and nothing else does
    assert config["Events"] == ["s3:ObjectCreated:*"]
    assert config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/"}]
    thumbnails = _function_id(stack, "thumbnails")
    assert config["LambdaFunctionArn"] == {"Fn::GetAtt": [thumbnails, "Arn"]}
    (trigger,) = synthesized.service("blog").object_triggers
    assert not trigger.matches("thumbnails/photo-1.jpg")
    # ... which S3 may invoke, for this bucket only
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Principal": "s3.amazonaws.com",
            "FunctionName": {"Fn::GetAtt": [thumbnails, "Arn"]},
            "SourceArn": {
                "Fn::GetAtt": [_logical_id(stack, stack.resources.buckets["photos"]), "Arn"]
            },
        },
    )


def test_the_thumbnailer_retries_as_declared_then_keeps_the_event(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _blog(synthesized)
    (trigger,) = synthesized.service("blog").object_triggers
    config = _one(template, "AWS::Lambda::EventInvokeConfig")
    assert config["FunctionName"] == {"Ref": _function_id(stack, "thumbnails")}
    assert config["MaximumRetryAttempts"] == trigger.maximum_retry_attempts
    assert config["MaximumEventAgeInSeconds"] == trigger.maximum_event_age_seconds
    assert "Fn::GetAtt" in config["DestinationConfig"]["OnFailure"]["Destination"]


def test_the_api_function_learns_its_app_client_and_the_api_url(
    synthesized: SynthesizedProject,
) -> None:
    # Given the blog's API function, which signs readers in with the pool's admin flow
    stack, template = _blog(synthesized)
    functions: Resources = template.find_resources(
        "AWS::Lambda::Function",
        {"Properties": {"Handler": "overcast.apps.blog.handler.handler"}},
    )
    (api_function,) = [f["Properties"] for f in functions.values()]
    variables = api_function["Environment"]["Variables"]
    pool = stack.resources.user_pools["readers"]
    client = Stack.of(stack).resolve(pool.clients["web"].user_pool_client_id)
    # Then it learns the app client's id under the local cloud's name
    assert variables["OVERCAST_RESOURCE_USER_POOL_CLIENT_READERS_WEB"] == client
    # ... and the stage URL, built from the API's id so that CloudFormation has no cycle
    rest_api = _logical_id(stack, stack.node.find_child("ApiBlog").node.find_child("Api"))
    assert variables["OVERCAST_RESOURCE_API_BLOG"] == {
        "Fn::Join": [
            "",
            [
                "https://",
                {"Ref": rest_api},
                ".execute-api.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/v1",
            ],
        ]
    }
    # ... and the client allows the admin password flow the API uses
    clients: Resources = template.find_resources("AWS::Cognito::UserPoolClient")
    (declared,) = clients.values()
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in declared["Properties"]["ExplicitAuthFlows"]


def test_every_blog_function_learns_the_api_url_as_locally(
    synthesized: SynthesizedProject,
) -> None:
    _, template = _blog(synthesized)
    functions: Resources = template.find_resources("AWS::Lambda::Function")
    ours = [f for f in functions.values() if "overcast.apps.blog" in f["Properties"]["Handler"]]
    assert len(ours) == 6  # api, welcome, thumbnails, events, pages, newsletter
    for function in ours:
        variables = function["Properties"]["Environment"]["Variables"]
        assert "OVERCAST_RESOURCE_API_BLOG" in variables
        # the site's URL too, as locally, but not behind the API (the CDN fronts the API)
        behind_api = function["Properties"]["Handler"] == "overcast.apps.blog.handler.handler"
        assert ("OVERCAST_RESOURCE_DISTRIBUTION_URL_SITE" in variables) is not behind_api


def test_the_api_function_may_administer_its_user_pool_only(
    synthesized: SynthesizedProject,
) -> None:
    stack, template = _blog(synthesized)
    pool = _logical_id(stack, stack.resources.user_pools["readers"].pool)
    policies: Resources = template.find_resources("AWS::IAM::Policy")
    statements = [
        s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    admin = [s for s in statements if str(s["Action"]).startswith("cognito-idp:")]
    assert admin == [
        {
            "Action": "cognito-idp:Admin*",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [pool, "Arn"]},
        }
    ]


# --- A test's own declarations ---------------------------------------------------------


def _triggered(
    stream: dict[str, Any] | None = None, objects: tuple[dict[str, Any], ...] = ()
) -> spec.Service:
    table = spec.Table("events", spec.Key("pk"), stream="NEW_IMAGE")
    photos = spec.Bucket("photos")
    function = spec.Function("thumbs", handler="thumbs.handler:handler", buckets=(photos,))
    return spec.Service(
        "thumbs",
        tables=(table,),
        buckets=(photos,),
        functions=(function,),
        stream_triggers=(spec.StreamTrigger(table, function, **stream),) if stream else (),
        object_triggers=tuple(
            spec.ObjectCreatedTrigger(photos, function, **settings) for settings in objects
        ),
    )


def test_a_stream_trigger_with_lambdas_defaults_leaves_them_unset(
    bundle: Bundle, tmp_path: Path
) -> None:
    service = _triggered(stream={"on_failure": False, "batching_window_seconds": 3})
    app, (stack,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    mapping = _one(Template.from_stack(stack), "AWS::Lambda::EventSourceMapping")
    assert mapping["MaximumBatchingWindowInSeconds"] == 3
    for unset in ("MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "DestinationConfig"):
        assert unset not in mapping
    assert "FilterCriteria" not in mapping
    assert nag.findings(app) == []


def test_a_fractional_batching_window_is_refused_not_rounded(
    bundle: Bundle, tmp_path: Path
) -> None:
    # Lambda's MaximumBatchingWindowInSeconds is an integer; the local dispatcher is not
    service = _triggered(stream={"batching_window_seconds": 0.5})
    with pytest.raises(spec.DeclarationError, match="whole number of seconds"):
        build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)


def test_one_function_with_two_retry_settings_is_refused(bundle: Bundle, tmp_path: Path) -> None:
    # Lambda has one asynchronous invocation config per function, not one per trigger
    service = _triggered(
        objects=(
            {"prefix": "a/", "maximum_retry_attempts": 0},
            {"prefix": "b/", "maximum_retry_attempts": 2},
        )
    )
    with pytest.raises(spec.DeclarationError, match="one asynchronous invocation config"):
        build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)


def test_two_triggers_with_the_same_settings_share_one_invoke_config(
    bundle: Bundle, tmp_path: Path
) -> None:
    service = _triggered(objects=({"prefix": "a/"}, {"suffix": ".png", "prefix": "b/"}))
    app, (stack,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    template = Template.from_stack(stack)
    notification = _one(template, "Custom::S3BucketNotifications")
    rules = [
        sorted(c["Filter"]["Key"]["FilterRules"], key=lambda rule: str(rule["Name"]))
        for c in notification["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    ]
    assert rules == [
        [{"Name": "prefix", "Value": "a/"}],
        [{"Name": "prefix", "Value": "b/"}, {"Name": "suffix", "Value": ".png"}],
    ]
    assert _one(template, "AWS::Lambda::EventInvokeConfig")["MaximumRetryAttempts"] == 2
    assert nag.findings(app) == []
