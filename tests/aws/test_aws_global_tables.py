"""Global tables on AWS: declared replica regions, in region-agnostic stacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint_file

from overcast import spec
from overcast.aws import nag
from overcast.aws.app import build_app, write_assembly
from overcast.aws.bundling import Bundle
from tests.aws.conftest import SynthesizedProject


def _global_table(template: Template) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources("AWS::DynamoDB::GlobalTable")
    assert len(found) == 1
    return dict(next(iter(found.values()))["Properties"])


def test_the_blog_table_is_replicated_to_eu_west_1_unless_deployed_there(
    synthesized: SynthesizedProject,
) -> None:
    # Given the blog's table, declared with a replica in eu-west-1
    template = Template.from_stack(synthesized.stacks["blog"])
    table = _global_table(template)
    # Then its replicas are the stack's own region, and eu-west-1 under a condition
    own, declared = table["Replicas"]
    assert own["Region"] == {"Ref": "AWS::Region"}
    condition, replica, otherwise = declared["Fn::If"]
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert replica["Region"] == "eu-west-1"
    # ... which holds where the stack's region is not eu-west-1 (one replica per region)
    assert template.to_json()["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}]
    }
    # And the replica is configured as the stack's own one: recovery on, same tags
    assert replica["PointInTimeRecoverySpecification"] == own["PointInTimeRecoverySpecification"]
    assert replica["Tags"] == own["Tags"]
    assert {"Key": "overcast:service", "Value": "blog"} in replica["Tags"]
    # And the stream replication needs carries new and old images
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_a_table_without_replicas_stays_in_the_stacks_region(
    synthesized: SynthesizedProject,
) -> None:
    table = _global_table(Template.from_stack(synthesized.stacks["todo"]))
    assert [replica["Region"] for replica in table["Replicas"]] == [{"Ref": "AWS::Region"}]


def test_replicas_in_several_regions_pass_cfn_lint_and_cdk_nag(
    bundle: Bundle, tmp_path: Path
) -> None:
    # Given a table replicated to two regions
    table = spec.Table(
        "events",
        spec.Key("pk"),
        stream="NEW_AND_OLD_IMAGES",
        replica_regions=("eu-west-1", "ap-southeast-2"),
    )
    service = spec.Service("events", tables=(table,))
    app, stacks = build_app([service], {}, environment="dev", outdir=tmp_path)
    replicas = _global_table(Template.from_stack(stacks[0]))["Replicas"]
    # Then each region is its own conditional replica, in the declared order
    assert [r["Fn::If"][1]["Region"] for r in replicas[1:]] == ["eu-west-1", "ap-southeast-2"]
    # And the template is valid in any region it may be deployed to
    assert nag.findings(app) == []
    (written,) = write_assembly(app, stacks).stacks
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    matches = lint_file(written.template, config=ManualArgs(regions=regions))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []
