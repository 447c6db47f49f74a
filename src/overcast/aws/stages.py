"""API stages on AWS: a Lambda alias per stage, a function of its own for a stage's own code.

An API that declares ``stages`` (:class:`overcast.spec.Stage`) deploys as one REST API
deployment with one API Gateway stage per declared stage (:mod:`overcast.aws.api`).
Its functions are deployed for the stages so:

- Each function the API's routes use gets, per stage, a Lambda alias named after the
  stage, pointing at a version published from the function (CDK's ``currentVersion``).
- A stage that runs code of its own for a function (``Stage.handlers``) gets a function
  of its own, built from the same declaration (same permissions, same variables) with
  that handler, in a construct named after the stage; its alias points at its version.
  CloudFormation cannot give one function two handlers at once, nor publish a version
  of code the template no longer holds, so different code means another function.
- One deployment serves every stage, and a method has one integration; so the
  integration URI names its function through a stage variable
  (``...:function:${stageVariables.overcast_function_<name>}``), which each stage sets
  to ``<function name>:<stage>``: API Gateway's way to invoke a Lambda alias per stage.
  Each alias lets API Gateway invoke it, from its own stage only.

A limit (aws-cdk#25997): an alias points at a version published from the function's
template properties. A value resolved only at deploy time (a called service's URL, an
SSM parameter ``Ref``) is the same token in every template, so when only that value
changes no new version is published and the aliases keep serving the old value until
the function's code or declaration changes. :func:`deploy_time_value_notices` says so.

Lambda's rule for alias names (``(?!^[0-9]+$)([a-zA-Z0-9-_]+)``) holds for every stage
name :mod:`overcast.spec_stages` accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from overcast import spec
from overcast.spec_stages import RESERVED_VARIABLE_PREFIX

# Builds a function from a declaration, in a scope of the caller's choosing.
BuildFunction = Callable[[Construct, spec.Function], lambda_.Function]


def function_variable(function_name: str) -> str:
    """The stage variable naming a function's alias (letters, digits, underscores only)."""
    return RESERVED_VARIABLE_PREFIX + "function_" + function_name.replace("-", "_")


@dataclass
class StageFunctions:
    """What each stage invokes, and the functions deployed for stages' own code."""

    # stage name -> function name -> the alias the stage's integrations invoke
    aliases: dict[str, dict[str, lambda_.Alias]] = field(default_factory=dict)
    # the functions deployed for stages' own code, by (stage name, function name)
    own_code: dict[tuple[str, str], lambda_.Function] = field(default_factory=dict)

    def variables(self, stage: spec.Stage) -> dict[str, str]:
        """``stage``'s variables: its declared ones and one per function alias."""
        variables = dict(stage.variables)
        for name, alias in self.aliases[stage.name].items():
            target = f"{alias.version.lambda_.function_name}:{alias.alias_name}"
            variables[function_variable(name)] = target
        return variables


def deploy_stage_functions(
    scope: Construct,
    api: spec.Api,
    functions: Mapping[str, lambda_.Function],
    build: BuildFunction,
) -> StageFunctions:
    """An alias per stage of each function ``api`` uses, and a function per stage's code."""
    deployed = StageFunctions()
    for stage in api.stages:
        stage_scope: Construct | None = None
        aliases = deployed.aliases.setdefault(stage.name, {})
        for declaration in api.functions:
            function = functions[declaration.name]
            if stage.runs_own_code(declaration):
                stage_scope = stage_scope or Construct(scope, f"Stage{stage.name}")
                function = build(stage_scope, stage.function(declaration))
                deployed.own_code[stage.name, declaration.name] = function
            aliases[declaration.name] = lambda_.Alias(
                function,
                f"Alias{stage.name}",
                alias_name=stage.name,
                version=function.current_version,
            )
    return deployed


def allow_stage_invoke(alias: lambda_.Alias, execute_api_arn: str, stage: str) -> None:
    """Let API Gateway invoke ``alias`` from the methods of ``stage`` only."""
    alias.add_permission(
        f"ApiInvoke{stage}",
        principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
        source_arn=execute_api_arn,
    )


def deploy_time_value_notices(api: spec.Api) -> list[str]:
    """A notice per staged function whose variables hold deploy-time values (the URLs of
    the services it calls): its aliases keep old values until its code changes."""
    if not api.stages:
        return []
    return [
        f"Function {function.name!r}: its stage aliases keep the called services' URLs "
        "(SSM parameters) of their version; a changed URL reaches them only with the next "
        "change of the function's code or declaration (aws-cdk#25997)."
        for function in api.functions
        if function.calls
    ]
