"""An API's stages on AWS: one API Gateway stage each, backed by Lambda aliases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint_file

from overcast import spec
from overcast.aws import nag
from overcast.aws.app import build_app, write_assembly
from overcast.aws.bundling import Bundle

Resources = dict[str, dict[str, Any]]
THUMBS = spec.Function("thumbs", handler="thumbs.handler:handler")
LISTS = spec.Function("lists", handler="thumbs.handler:handler")
V2_CODE = "thumbs.handler:handler_v2"
API = spec.Api(
    "thumbs",
    routes=(
        spec.Route("GET", "/thumbs", THUMBS),
        spec.Route("GET", "/lists", LISTS, cache=spec.RouteCache(ttl_seconds=60)),
    ),
    cache=spec.StageCache(ttl_seconds=300),
    stages=(
        spec.Stage("v1", variables={"color": "blue"}),
        spec.Stage("v2", handlers={"thumbs": V2_CODE}, cache=spec.StageCache(size_gb="1.6")),
    ),
)


@pytest.fixture
def synthesized(bundle: Bundle, tmp_path: Path) -> Template:
    service = spec.Service("thumbs", api=API)
    app, (stack,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    assert nag.findings(app) == []
    write_assembly(app, [stack])
    return Template.from_stack(stack)


def _stages(template: Template) -> dict[str, dict[str, Any]]:
    found: Resources = template.find_resources("AWS::ApiGateway::Stage")
    return {stage["Properties"]["StageName"]: stage["Properties"] for stage in found.values()}


def test_each_declared_stage_is_a_stage_of_one_deployment(
    synthesized: Template,
) -> None:
    template = synthesized
    stages = _stages(template)

    assert set(stages) == {"v1", "v2"}
    template.resource_count_is("AWS::ApiGateway::Deployment", 1)
    deployments = {str(stage["DeploymentId"]) for stage in stages.values()}
    assert len(deployments) == 1


def test_each_stage_has_its_variables_and_its_own_cache_settings(
    synthesized: Template,
) -> None:
    template = synthesized
    v1, v2 = _stages(template)["v1"], _stages(template)["v2"]

    assert v1["Variables"]["color"] == "blue"
    assert "color" not in v2["Variables"]
    assert (v1["CacheClusterSize"], v2["CacheClusterSize"]) == ("0.5", "1.6")
    for stage in (v1, v2):
        assert stage["CacheClusterEnabled"] is True
        settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}
        assert settings[("/~1lists", "GET")]["CacheTtlInSeconds"] == 60
        assert settings[("/~1thumbs", "GET")]["CacheTtlInSeconds"] == 300
        assert stage["AccessLogSetting"]["DestinationArn"]


def test_a_stage_with_code_of_its_own_gets_a_function_of_its_own(
    synthesized: Template,
) -> None:
    template = synthesized
    functions: Resources = template.find_resources("AWS::Lambda::Function")
    handlers = sorted(f["Properties"]["Handler"] for f in functions.values())

    # thumbs, lists, and thumbs as v2 runs it
    assert handlers == sorted(["thumbs.handler.handler"] * 2 + ["thumbs.handler.handler_v2"])


def test_every_stage_invokes_aliases_named_after_it(
    synthesized: Template,
) -> None:
    template = synthesized
    aliases: Resources = template.find_resources("AWS::Lambda::Alias")
    names = sorted(alias["Properties"]["Name"] for alias in aliases.values())
    assert names == ["v1", "v1", "v2", "v2"]
    for alias in aliases.values():
        version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"]
        assert version[1] == "Version"  # a published version, not $LATEST
    # Each stage's variables name, per function, "<function name>:<stage>"
    for name, stage in _stages(template).items():
        targets = {k: v for k, v in stage["Variables"].items() if k.startswith("overcast_")}
        assert set(targets) == {"overcast_function_thumbs", "overcast_function_lists"}
        for target in targets.values():
            assert target["Fn::Join"][1][-1] == f":{name}"
    v2_target = _stages(template)["v2"]["Variables"]["overcast_function_thumbs"]
    v1_target = _stages(template)["v1"]["Variables"]["overcast_function_thumbs"]
    assert v1_target != v2_target  # v2 runs its own function


def test_integrations_reach_the_alias_through_the_stage_variable(
    synthesized: Template,
) -> None:
    template = synthesized
    methods: Resources = template.find_resources("AWS::ApiGateway::Method")
    gets = [m["Properties"] for m in methods.values() if m["Properties"]["HttpMethod"] == "GET"]
    assert len(gets) == 2
    for method in gets:
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        uri = "".join(part for part in integration["Uri"]["Fn::Join"][1] if isinstance(part, str))
        assert "function:${stageVariables.overcast_function_" in uri
        assert uri.endswith("/invocations")


def test_api_gateway_may_invoke_each_alias_from_its_own_stage_only(
    synthesized: Template,
) -> None:
    template = synthesized
    permissions: Resources = template.find_resources("AWS::Lambda::Permission")
    by_alias = [
        p["Properties"] for p in permissions.values() if "Ref" in p["Properties"]["FunctionName"]
    ]
    assert len(by_alias) == 4
    for permission in by_alias:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        source = "".join(p for p in permission["SourceArn"]["Fn::Join"][1] if isinstance(p, str))
        assert "/v1/" in source or "/v2/" in source


def test_the_stages_template_passes_cfn_lint(synthesized: Template, tmp_path: Path) -> None:
    template = tmp_path / "thumbs-dev.template.json"
    assert template.exists()
    matches = lint_file(template, config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []


def test_an_api_of_one_stage_deploys_no_aliases(bundle: Bundle, tmp_path: Path) -> None:
    api = spec.Api("thumbs", routes=(spec.Route("GET", "/thumbs", THUMBS),), stage="prod")
    _, (stack,) = build_app(
        [spec.Service("thumbs", api=api)], {"thumbs": bundle}, environment="dev", outdir=tmp_path
    )
    template = Template.from_stack(stack)

    template.resource_count_is("AWS::Lambda::Alias", 0)
    (stage,) = _stages(template).values()
    assert "Variables" not in stage
    method = template.find_resources("AWS::ApiGateway::Method")
    (get,) = method.values()
    uri = get["Properties"]["Integration"]["Uri"]["Fn::Join"][1]
    assert not any("stageVariables" in part for part in uri if isinstance(part, str))


def test_a_stage_copy_of_a_function_gets_its_queues_and_topics(
    bundle: Bundle, tmp_path: Path
) -> None:
    jobs, done = spec.Queue("jobs"), spec.Topic("done")
    thumbs = spec.Function(
        "thumbs", handler="thumbs.handler:handler", queues=(jobs,), topics=(done,)
    )
    api = spec.Api(
        "thumbs",
        routes=(spec.Route("GET", "/t", thumbs),),
        stages=(spec.Stage("v1"), spec.Stage("v2", handlers={"thumbs": V2_CODE})),
    )
    service = spec.Service("thumbs", api=api, queues=(jobs,), topics=(done,))
    _app, (stack,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    template = Template.from_stack(stack)

    functions: Resources = template.find_resources("AWS::Lambda::Function")
    by_handler = {f["Properties"]["Handler"]: f["Properties"] for f in functions.values()}
    copy = by_handler["thumbs.handler.handler_v2"]
    variables = copy["Environment"]["Variables"]
    assert {"OVERCAST_RESOURCE_QUEUE_JOBS", "OVERCAST_RESOURCE_TOPIC_DONE"} <= set(variables)
    role = copy["Role"]["Fn::GetAtt"][0]
    policies: Resources = template.find_resources("AWS::IAM::Policy")
    actions = [
        str(statement["Action"])
        for policy in policies.values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any("sqs:SendMessage" in action for action in actions)
    assert any("sns:Publish" in action for action in actions)


def test_staged_functions_that_call_services_are_told_their_aliases_keep_old_urls(
    bundle: Bundle, tmp_path: Path
) -> None:
    caller = spec.Function("thumbs", handler="thumbs.handler:handler", calls=("todo",))
    api = spec.Api(
        "thumbs",
        routes=(spec.Route("GET", "/t", caller), spec.Route("GET", "/lists", LISTS)),
        stages=(spec.Stage("v1"), spec.Stage("v2")),
    )
    service = spec.Service("thumbs", api=api)
    _app, (stack,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)

    (notice,) = [line for line in stack.notices if "aws-cdk#25997" in line]
    assert "'thumbs'" in notice
