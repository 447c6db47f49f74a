"""Bucket notifications to a topic and a queue on AWS: S3's notification configuration,
the policies that let S3 (of this account, for this bucket) deliver, a topic key S3 may
use, cdk-nag clean."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from overcast import spec
from overcast.aws import nag
from overcast.aws.app import build_app
from overcast.aws.bundling import Bundle
from overcast.aws.stack import ServiceStack
from overcast.aws.wheels import LambdaPlatform
from tests.aws.logical_ids import logical_id

PHOTOS = spec.Bucket("photos")
UPLOADS = spec.Queue("uploads")
AUDIT = spec.Queue("audit")
ARRIVALS = spec.Topic("arrivals")
OTHER = spec.Topic("other")
ACCOUNT = {"Ref": "AWS::AccountId"}
S3 = {"Service": "s3.amazonaws.com"}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[App, ServiceStack]:
    directory = tmp_path_factory.mktemp("bundle")
    (directory / "thumbs").mkdir()
    (directory / "thumbs" / "handler.py").write_text("def handler(event, context): ...\n")
    bundle = Bundle(directory, LambdaPlatform("arm64"), (), ("thumbs/handler.py",))
    service = spec.Service(
        "blog",
        buckets=(PHOTOS,),
        queues=(UPLOADS, AUDIT),
        topics=(ARRIVALS, OTHER),
        subscriptions=(spec.Subscription(ARRIVALS, AUDIT),),
        object_notifications=(
            spec.ObjectCreatedNotification(PHOTOS, UPLOADS, prefix="uploads/", suffix=".jpg"),
            spec.ObjectCreatedNotification(PHOTOS, ARRIVALS, prefix="inbox/"),
        ),
    )
    app, (stack,) = build_app(
        [service], {"blog": bundle}, environment="dev", outdir=tmp_path_factory.mktemp("cdk")
    )
    return app, stack


@pytest.fixture(scope="module")
def resources(synthesized: tuple[App, ServiceStack]) -> Mapping[str, Mapping[str, Any]]:
    found: Mapping[str, Mapping[str, Any]] = Template.from_stack(synthesized[1]).to_json()[
        "Resources"
    ]
    return found


def _of_type(resources: Mapping[str, Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [resource["Properties"] for resource in resources.values() if resource["Type"] == kind]


def _s3_statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in policy["PolicyDocument"]["Statement"] if s.get("Principal") == S3]


def test_the_bucket_notifies_the_queue_and_the_topic_with_their_filters(
    synthesized: tuple[App, ServiceStack], resources: Mapping[str, Mapping[str, Any]]
) -> None:
    _, stack = synthesized
    [notifications] = _of_type(resources, "Custom::S3BucketNotifications")
    assert notifications["BucketName"] == {"Ref": logical_id(stack, "BucketPhotos")}
    configuration = notifications["NotificationConfiguration"]
    [to_queue] = configuration["QueueConfigurations"]
    assert to_queue["Events"] == ["s3:ObjectCreated:*"]
    assert to_queue["QueueArn"] == {
        "Fn::GetAtt": [logical_id(stack, "Messaging", "QueueUploads"), "Arn"]
    }
    rules = {rule["Name"]: rule["Value"] for rule in to_queue["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "uploads/", "suffix": ".jpg"}
    [to_topic] = configuration["TopicConfigurations"]
    assert to_topic["Events"] == ["s3:ObjectCreated:*"]
    assert to_topic["TopicArn"] == {"Ref": logical_id(stack, "Messaging", "TopicArrivals")}
    assert to_topic["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "inbox/"}]
    assert "LambdaFunctionConfigurations" not in configuration


def test_only_this_buckets_s3_of_this_account_may_send_to_the_queue_and_topic(
    synthesized: tuple[App, ServiceStack], resources: Mapping[str, Mapping[str, Any]]
) -> None:
    _, stack = synthesized
    bucket_arn = {"Fn::GetAtt": [logical_id(stack, "BucketPhotos"), "Arn"]}
    queue = {"Ref": logical_id(stack, "Messaging", "QueueUploads")}
    topic = {"Ref": logical_id(stack, "Messaging", "TopicArrivals")}
    [queue_policy] = [
        p for p in _of_type(resources, "AWS::SQS::QueuePolicy") if p["Queues"] == [queue]
    ]
    [topic_policy] = [
        p for p in _of_type(resources, "AWS::SNS::TopicPolicy") if p["Topics"] == [topic]
    ]
    for policy, action in ((queue_policy, "sqs:SendMessage"), (topic_policy, "sns:Publish")):
        statements = _s3_statements(policy)
        [allow] = [s for s in statements if s["Effect"] == "Allow"]
        assert action in (
            [allow["Action"]] if isinstance(allow["Action"], str) else allow["Action"]
        )
        assert allow["Condition"] == {"ArnLike": {"aws:SourceArn": bucket_arn}}
        [deny] = [s for s in statements if s["Effect"] == "Deny"]
        assert deny["Action"] == action
        assert deny["Condition"] == {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}
    # ... and S3 is allowed nothing on the queue that is only subscribed to the topic
    audit = {"Ref": logical_id(stack, "Messaging", "QueueAudit")}
    [audit_policy] = [
        p for p in _of_type(resources, "AWS::SQS::QueuePolicy") if p["Queues"] == [audit]
    ]
    assert _s3_statements(audit_policy) == []


def test_the_notified_topic_has_a_rotated_key_s3_may_use_and_others_keep_snss(
    synthesized: tuple[App, ServiceStack], resources: Mapping[str, Mapping[str, Any]]
) -> None:
    _, stack = synthesized
    topics = {
        name: resources[logical_id(stack, "Messaging", f"Topic{name}")]["Properties"]
        for name in ("Arrivals", "Other")
    }
    key_id = topics["Arrivals"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = resources[key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    [for_s3] = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == S3]
    assert sorted(for_s3["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert for_s3["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    # the topic no bucket notifies stays on SNS's AWS-managed key
    assert "alias/aws/sns" in str(topics["Other"]["KmsMasterKeyId"])


def test_the_stack_passes_cdk_nag(synthesized: tuple[App, ServiceStack]) -> None:
    app, _ = synthesized
    assert nag.findings(app) == []


def test_a_notification_of_a_bucket_the_stack_lacks_is_refused(
    bundle: Bundle, tmp_path: Path
) -> None:
    # A bucket is always declared (spec checks it); here the stack is built without it.
    service = spec.Service(
        "blog",
        buckets=(PHOTOS,),
        queues=(UPLOADS,),
        object_notifications=(spec.ObjectCreatedNotification(PHOTOS, UPLOADS),),
    )
    from overcast.aws.messaging import Messaging

    with pytest.raises(spec.DeclarationError, match="not deployed"):
        Messaging(Stack(App(outdir=str(tmp_path)), "bare"), service)
