"""On AWS, a function that calls another service learns its API URL, and nothing more.

The sample pinboard's ``todos`` function declares ``calls=("todo",)``: the to-do stack
publishes its API URL as an SSM parameter, the pinboard stack reads it at deploy time
(no export ties the stacks), and the function's role gains nothing on the to-do service.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

from overcast.aws.service_calls import api_url_parameter
from tests.aws.conftest import ENVIRONMENT, SynthesizedProject

PARAMETER = api_url_parameter(ENVIRONMENT, "todo")


def _functions(template: Template) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.find_resources("AWS::Lambda::Function")
    return {f["Properties"]["Handler"]: f for f in found.values()}


def test_the_called_service_publishes_its_api_url(synthesized: SynthesizedProject) -> None:
    stack = synthesized.stacks["todo"]
    (parameter,) = Template.from_stack(stack).find_resources("AWS::SSM::Parameter").values()
    properties = parameter["Properties"]
    assert properties["Name"] == "/overcast/dev/todo/api-url"
    api_url = _functions(Template.from_stack(stack))["overcast.apps.todo.handler.handler"][
        "Properties"
    ]["Environment"]["Variables"]["OVERCAST_RESOURCE_API_TODO"]
    assert properties["Value"] == api_url  # the URL the to-do functions know themselves


def test_the_calling_function_reads_the_url_at_deploy_time(
    synthesized: SynthesizedProject,
) -> None:
    template = Template.from_stack(synthesized.stacks["pinboard"])
    parameters = template.to_json()["Parameters"]
    (name,) = [key for key, value in parameters.items() if value.get("Default") == PARAMETER]
    assert parameters[name]["Type"] == "AWS::SSM::Parameter::Value<String>"

    functions = _functions(template)
    caller = functions["pinboard.todos.handler"]["Properties"]["Environment"]["Variables"]
    assert caller["OVERCAST_RESOURCE_API_TODO"] == {"Ref": name}
    other = functions["pinboard.handler.handler"]["Properties"]["Environment"]["Variables"]
    assert "OVERCAST_RESOURCE_API_TODO" not in other  # only declared calls


def test_no_export_ties_the_stacks_only_the_deployment_order(
    synthesized: SynthesizedProject,
) -> None:
    pinboard, todo = synthesized.stacks["pinboard"], synthesized.stacks["todo"]
    assert "Fn::ImportValue" not in json.dumps(Template.from_stack(pinboard).to_json())
    assert todo in pinboard.dependencies


def test_the_calling_function_gets_no_permission_on_the_called_service(
    synthesized: SynthesizedProject,
) -> None:
    # Given the pinboard's caller's role and what it may do
    pinboard = synthesized.stacks["pinboard"]
    template = Template.from_stack(pinboard).to_json()["Resources"]
    function = next(
        r for r in template.values() if r["Properties"].get("Handler") == "pinboard.todos.handler"
    )
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        r["Properties"]["PolicyDocument"]
        for r in template.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
    ]

    # Then it may write its logs, and nothing else: no table, function, API or parameter
    actions = {
        action
        for policy in policies
        for statement in policy["Statement"]
        for action in _as_list(statement["Action"])
    }
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert "ManagedPolicyArns" not in template[role]["Properties"]
    todo = Stack.of(synthesized.stacks["todo"])
    assert todo.stack_name not in json.dumps(policies)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value
