"""Topics, queues, subscriptions and queue triggers on AWS, from a test's own service:
what SNS, SQS and Lambda are told, what the functions learn and may do, cdk-nag clean."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from overcast import spec
from overcast.aws import nag
from overcast.aws.app import build_app
from overcast.aws.bundling import Bundle
from overcast.aws.stack import ServiceStack
from tests.aws.logical_ids import logical_id

Resources = Mapping[str, Mapping[str, Any]]
ORDERS_POLICY = '{"kind": ["order"], "total": [{"numeric": [">", 100]}]}'

PARKED = spec.Queue("parked", retention_seconds=3600)
WORK = spec.Queue(
    "work",
    visibility_timeout_seconds=180,
    delay_seconds=5,
    receive_wait_seconds=20,
    dead_letter=spec.DeadLetter(PARKED, max_receive_count=4),
)
AUDIT = spec.Queue("audit")
LEDGER_DLQ = spec.Queue("ledger-dlq", fifo=True)
LEDGER = spec.Queue(
    "ledger", fifo=True, dead_letter=spec.DeadLetter(LEDGER_DLQ), visibility_timeout_seconds=60
)
EVENTS = spec.Topic("events")
ENTRIES = spec.Topic("entries", fifo=True, content_based_deduplication=True)
PUBLISHER = spec.Function("publisher", "thumbs.handler:handler", topics=(EVENTS,), queues=(AUDIT,))
WORKER = spec.Function("worker", "thumbs.handler:handler", timeout_seconds=30)
BOOKKEEPER = spec.Function("bookkeeper", "thumbs.handler:handler")


def _service(**trigger: Any) -> spec.Service:
    return spec.Service(
        "shop",
        queues=(PARKED, WORK, AUDIT, LEDGER_DLQ, LEDGER),
        topics=(EVENTS, ENTRIES),
        subscriptions=(
            spec.Subscription(EVENTS, WORK, filter_policy=ORDERS_POLICY),
            spec.Subscription(EVENTS, AUDIT, raw_message_delivery=True),
            spec.Subscription(
                ENTRIES,
                LEDGER,
                filter_policy='{"account": [{"prefix": "acct-"}]}',
                filter_policy_scope="MessageBody",
            ),
        ),
        functions=(PUBLISHER,),
        queue_triggers=(
            spec.QueueTrigger(WORK, WORKER, **trigger),
            spec.QueueTrigger(LEDGER, BOOKKEEPER),
        ),
    )


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ServiceStack]:
    directory = tmp_path_factory.mktemp("bundle")
    (directory / "thumbs").mkdir()
    (directory / "thumbs" / "handler.py").write_text("def handler(event, context): ...\n")
    from overcast.aws.wheels import LambdaPlatform

    bundle = Bundle(directory, LambdaPlatform("arm64"), (), ("thumbs/handler.py",))
    service = _service(
        batch_size=50,
        batching_window_seconds=2,
        report_batch_item_failures=True,
        maximum_concurrency=5,
    )
    app, (stack,) = build_app(
        [service], {"shop": bundle}, environment="dev", outdir=tmp_path_factory.mktemp("cdk")
    )
    return app, stack


@pytest.fixture(scope="module")
def template(synthesized: tuple[Any, ServiceStack]) -> Template:
    return Template.from_stack(synthesized[1])


def _resources(template: Template, kind: str) -> Resources:
    found: Resources = template.find_resources(kind)
    return found


def _queue(template: Template, stack: ServiceStack, name: str) -> Mapping[str, Any]:
    resources = template.to_json()["Resources"]
    properties: Mapping[str, Any] = resources[logical_id(stack, "Messaging", name)]["Properties"]
    return properties


def _function(stack: ServiceStack, name: str) -> dict[str, str]:
    return {"Ref": logical_id(stack, f"Function{name.capitalize()}", "Function")}


def test_queues_get_their_declared_settings_encryption_and_dead_letter_queue(
    synthesized: tuple[Any, ServiceStack], template: Template
) -> None:
    _, stack = synthesized
    work = _queue(template, stack, "QueueWork")
    assert work["VisibilityTimeout"] == 180
    assert work["DelaySeconds"] == 5
    assert work["ReceiveMessageWaitTimeSeconds"] == 20
    assert work["MessageRetentionPeriod"] == 345_600
    assert work["SqsManagedSseEnabled"] is True
    parked = logical_id(stack, "Messaging", "QueueParked")
    assert work["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [parked, "Arn"]},
        "maxReceiveCount": 4,
    }
    # Then the dead-letter queue keeps its messages 14 days, whatever its declaration
    assert _queue(template, stack, "QueueParked")["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_fifo_queues_and_topics_are_fifo_with_their_deduplication(
    synthesized: tuple[Any, ServiceStack], template: Template
) -> None:
    _, stack = synthesized
    ledger = _queue(template, stack, "QueueLedger")
    assert ledger["FifoQueue"] is True
    assert "ContentBasedDeduplication" not in ledger
    assert "FifoQueue" not in _queue(template, stack, "QueueWork")
    topics = {
        properties["Properties"].get("FifoTopic", False): properties["Properties"]
        for properties in _resources(template, "AWS::SNS::Topic").values()
    }
    assert topics[True]["ContentBasedDeduplication"] is True
    assert "ContentBasedDeduplication" not in topics[False]
    # ... both encrypted with SNS's AWS-managed key
    managed_key = [
        "arn:", {"Ref": "AWS::Partition"}, ":kms:", {"Ref": "AWS::Region"},
        ":", {"Ref": "AWS::AccountId"}, ":alias/aws/sns",
    ]  # fmt: skip
    for topic in topics.values():
        assert topic["KmsMasterKeyId"] == {"Fn::Join": ["", managed_key]}


def test_queues_and_topics_refuse_plain_http(template: Template) -> None:
    for kind in ("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
        documents = [
            resource["Properties"]["PolicyDocument"]
            for resource in _resources(template, kind).values()
        ]
        denied = [
            statement
            for document in documents
            for statement in document["Statement"]
            if statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denied, kind
    # every queue and topic has such a policy
    queues = len(_resources(template, "AWS::SQS::Queue"))
    policies = _resources(template, "AWS::SQS::QueuePolicy").values()
    protected = {
        json.dumps(queue, sort_keys=True)
        for policy in policies
        for queue in policy["Properties"]["Queues"]
    }
    assert len(protected) == queues


def test_subscriptions_carry_the_declared_filter_policy_and_raw_delivery(
    synthesized: tuple[Any, ServiceStack], template: Template
) -> None:
    _, stack = synthesized
    subscriptions = {
        json.dumps(each["Properties"]["Endpoint"]): each["Properties"]
        for each in _resources(template, "AWS::SNS::Subscription").values()
    }

    def of(name: str) -> Mapping[str, Any]:
        arn = {"Fn::GetAtt": [logical_id(stack, "Messaging", name), "Arn"]}
        return subscriptions[json.dumps(arn)]

    work, audit, ledger = of("QueueWork"), of("QueueAudit"), of("QueueLedger")
    assert work["Protocol"] == "sqs"
    assert work["FilterPolicy"] == json.loads(ORDERS_POLICY)
    assert work["FilterPolicyScope"] == "MessageAttributes"
    assert "RawMessageDelivery" not in work
    assert audit["RawMessageDelivery"] is True
    assert "FilterPolicy" not in audit
    assert ledger["FilterPolicy"] == {"account": [{"prefix": "acct-"}]}
    assert ledger["FilterPolicyScope"] == "MessageBody"


def test_the_topic_alone_may_send_to_its_subscribed_queues(
    synthesized: tuple[Any, ServiceStack], template: Template
) -> None:
    _, stack = synthesized
    work = {"Ref": logical_id(stack, "Messaging", "QueueWork")}
    (policy,) = [
        each["Properties"]["PolicyDocument"]
        for each in _resources(template, "AWS::SQS::QueuePolicy").values()
        if work in each["Properties"]["Queues"]
    ]
    (allowed,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allowed["Action"] == "sqs:SendMessage"
    assert allowed["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allowed["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Ref": logical_id(stack, "Messaging", "TopicEvents")}}
    }


def test_queue_triggers_map_the_queue_as_declared(
    synthesized: tuple[Any, ServiceStack], template: Template
) -> None:
    _, stack = synthesized
    mappings = {
        json.dumps(each["Properties"]["FunctionName"]): each["Properties"]
        for each in _resources(template, "AWS::Lambda::EventSourceMapping").values()
    }
    worker = mappings[json.dumps(_function(stack, "worker"))]
    assert worker["EventSourceArn"] == {
        "Fn::GetAtt": [logical_id(stack, "Messaging", "QueueWork"), "Arn"]
    }
    assert worker["BatchSize"] == 50
    assert worker["MaximumBatchingWindowInSeconds"] == 2
    assert worker["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert worker["ScalingConfig"] == {"MaximumConcurrency": 5}
    bookkeeper = mappings[json.dumps(_function(stack, "bookkeeper"))]
    assert bookkeeper["BatchSize"] == 10
    for unset in ("MaximumBatchingWindowInSeconds", "FunctionResponseTypes", "ScalingConfig"):
        assert unset not in bookkeeper


def test_a_function_learns_and_may_use_only_the_queues_and_topics_it_declares(
    synthesized: tuple[Any, ServiceStack], template: Template
) -> None:
    _, stack = synthesized
    publisher = _resources(template, "AWS::Lambda::Function")[
        logical_id(stack, "FunctionPublisher", "Function")
    ]["Properties"]
    variables = publisher["Environment"]["Variables"]
    assert variables["OVERCAST_RESOURCE_QUEUE_AUDIT"] == {
        "Ref": logical_id(stack, "Messaging", "QueueAudit")
    }
    assert variables["OVERCAST_RESOURCE_TOPIC_EVENTS"] == {
        "Ref": logical_id(stack, "Messaging", "TopicEvents")
    }
    assert not any("QUEUE_WORK" in name or "TOPIC_ENTRIES" in name for name in variables)
    role = {"Ref": logical_id(stack, "FunctionPublisher", "Role")}
    statements = [
        statement
        for policy in _resources(template, "AWS::IAM::Policy").values()
        if role in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_action = {json.dumps(s["Action"]): s["Resource"] for s in statements}
    assert by_action[json.dumps("sns:Publish")] == {
        "Ref": logical_id(stack, "Messaging", "TopicEvents")
    }
    send = [s for s in statements if "sqs:SendMessage" in s["Action"]]
    assert [s["Resource"] for s in send] == [
        {"Fn::GetAtt": [logical_id(stack, "Messaging", "QueueAudit"), "Arn"]}
    ]
    assert not any("sqs:ReceiveMessage" in s["Action"] for s in statements)


def test_the_stack_outputs_queue_urls_and_topic_arns(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    for key in ("QueueWorkUrl", "QueueLedgerUrl", "TopicEventsArn", "TopicEntriesArn"):
        assert key in outputs


def test_messaging_passes_cdk_nag(synthesized: tuple[Any, ServiceStack]) -> None:
    app, _ = synthesized
    assert nag.findings(app) == []


def test_a_fractional_batching_window_is_refused_not_rounded(
    bundle: Bundle, tmp_path: Path
) -> None:
    service = _service(batching_window_seconds=0.5)
    with pytest.raises(spec.DeclarationError, match="whole number of seconds"):
        build_app([service], {"shop": bundle}, environment="dev", outdir=tmp_path)
