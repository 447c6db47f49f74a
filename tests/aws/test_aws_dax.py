"""A declared read cache on AWS: a DAX cluster, its VPC and endpoints, and the client in
the bundle."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from overcast import spec
from overcast.aws import nag
from overcast.aws.app import build_app
from overcast.aws.bundling import Bundle
from overcast.aws.dax import (
    CLUSTER_TABLE_ACTIONS,
    FUNCTION_DAX_ACTIONS,
)
from overcast.aws.functions import VPC_ACCESS_POLICY
from overcast.aws.stack import ServiceStack
from overcast.aws.tables import TABLE_ACTIONS
from overcast.aws.wheels import AMAZON_DAX_CLIENT, BundleError, LambdaPlatform, Wheelhouse
from tests.aws.conftest import SynthesizedProject

Resources = dict[str, dict[str, Any]]
TODO_HANDLERS = ("overcast.apps.todo.handler.handler", "overcast.apps.todo.handler_v2.handler")


def _todo(synthesized: SynthesizedProject) -> Template:
    return Template.from_stack(synthesized.stacks["todo"])


def _one(template: Template, kind: str) -> tuple[str, dict[str, Any]]:
    found: Resources = template.find_resources(kind)
    assert len(found) == 1, f"{len(found)} resources of type {kind}"
    return next(iter(found.items()))


def _todo_functions(template: Template) -> list[dict[str, Any]]:
    functions: Resources = template.find_resources("AWS::Lambda::Function")
    found = [f["Properties"] for f in functions.values()]
    return [f for f in found if f["Handler"] in TODO_HANDLERS]


def _statements(template: Template) -> list[dict[str, Any]]:
    policies: Resources = template.find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_todo_function_and_its_dax_cluster_share_one_isolated_vpc(
    synthesized: SynthesizedProject,
) -> None:
    # Given the to-do stack: its todos table declares a read cache
    template = _todo(synthesized)
    # Then there is one VPC, with no way to the internet
    _one(template, "AWS::EC2::VPC")
    assert not template.find_resources("AWS::EC2::InternetGateway")
    assert not template.find_resources("AWS::EC2::NatGateway")
    subnets: Resources = template.find_resources("AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    # And each to-do function (v1 and v2's own code) runs in the DAX subnet group's subnets
    _, group = _one(template, "AWS::DAX::SubnetGroup")
    functions = _todo_functions(template)
    assert len(functions) == 2
    for function in functions:
        assert function["VpcConfig"]["SubnetIds"] == group["Properties"]["SubnetIds"]
    assert sorted(str(s) for s in group["Properties"]["SubnetIds"]) == sorted(
        str({"Ref": name}) for name in subnets
    )


def test_only_the_functions_security_group_reaches_dax_on_its_tls_port(
    synthesized: SynthesizedProject,
) -> None:
    template = _todo(synthesized)
    _, cluster = _one(template, "AWS::DAX::Cluster")
    (dax_group,) = cluster["Properties"]["SecurityGroupIds"]
    function_groups = {str(f["VpcConfig"]["SecurityGroupIds"]) for f in _todo_functions(template)}
    assert len(function_groups) == 1
    (function_group,) = _todo_functions(template)[0]["VpcConfig"]["SecurityGroupIds"]
    # Every way into the DAX group: one rule, TCP 9111 (daxs), from the functions' group
    ingress: Resources = template.find_resources("AWS::EC2::SecurityGroupIngress")
    into_dax = [
        i["Properties"] for i in ingress.values() if i["Properties"]["GroupId"] == dax_group
    ]
    assert into_dax == [
        {
            "Description": into_dax[0]["Description"],
            "FromPort": 9111,  # daxs; 8111 (plain dax) stays closed
            "GroupId": dax_group,
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": function_group,
            "ToPort": 9111,
        }
    ]
    groups: Resources = template.find_resources("AWS::EC2::SecurityGroup")
    dax_group_id = dax_group["Fn::GetAtt"][0]
    assert "SecurityGroupIngress" not in groups[dax_group_id]["Properties"]


def test_the_cluster_is_encrypted_at_rest_and_in_transit_and_assumes_its_own_role(
    synthesized: SynthesizedProject,
) -> None:
    template = _todo(synthesized)
    _, cluster = _one(template, "AWS::DAX::Cluster")
    properties = cluster["Properties"]
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["ClusterEndpointEncryptionType"] == "TLS"
    assert properties["NodeType"] == "dax.t3.small"
    assert properties["ReplicationFactor"] == 1
    role_id = properties["IAMRoleARN"]["Fn::GetAtt"][0]
    role = template.to_json()["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "dax.amazonaws.com"}
    # The role may make exactly the calls DAX forwards, on the table and its index only
    policies: Resources = template.find_resources("AWS::IAM::Policy")
    (policy,) = [p for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == sorted(CLUSTER_TABLE_ACTIONS)
    table_id, _ = _one(template, "AWS::DynamoDB::GlobalTable")
    resources = statement["Resource"]
    assert resources[0] == {"Fn::GetAtt": [table_id, "Arn"]}
    assert "/index/by-completed" in str(resources[1])
    assert len(resources) == 2


def test_the_parameter_group_holds_the_declared_ttls(synthesized: SynthesizedProject) -> None:
    (todos,) = synthesized.service("todo").tables
    assert todos.read_cache is not None
    template = _todo(synthesized)
    _, group = _one(template, "AWS::DAX::ParameterGroup")
    assert group["Properties"]["ParameterNameValues"] == {
        "record-ttl-millis": str(int(todos.read_cache.item_ttl_seconds * 1000)),
        "query-ttl-millis": str(int(todos.read_cache.query_ttl_seconds * 1000)),
    }
    _, cluster = _one(template, "AWS::DAX::Cluster")
    assert cluster["Properties"]["ParameterGroupName"] == {
        "Ref": next(iter(template.find_resources("AWS::DAX::ParameterGroup")))
    }


def test_functions_learn_the_cluster_url_and_may_use_it_and_the_table(
    synthesized: SynthesizedProject,
) -> None:
    template = _todo(synthesized)
    cluster_id, _ = _one(template, "AWS::DAX::Cluster")
    for function in _todo_functions(template):
        variables = function["Environment"]["Variables"]
        assert variables["OVERCAST_RESOURCE_DAX_TODOS"] == {
            "Fn::GetAtt": [cluster_id, "ClusterDiscoveryEndpointURL"]
        }
        assert "OVERCAST_RESOURCE_TABLE_TODOS" in variables
    statements = _statements(template)
    on_cluster = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [cluster_id, "Arn"]}]
    assert len(on_cluster) == 2  # one per function
    assert all(sorted(s["Action"]) == sorted(FUNCTION_DAX_ACTIONS) for s in on_cluster)
    # And Lambda may create their network interfaces in the VPC
    roles: Resources = template.find_resources("AWS::IAM::Role")
    for function in _todo_functions(template):
        role = roles[function["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert VPC_ACCESS_POLICY in str(role["ManagedPolicyArns"])
    # And they keep their DynamoDB grants
    table_grants = [s for s in statements if sorted(s["Action"]) == sorted(TABLE_ACTIONS)]
    assert len(table_grants) == 2


def test_the_vpc_has_gateway_endpoints_and_an_interface_endpoint_per_declared_api(
    synthesized: SynthesizedProject,
) -> None:
    # Given the to-do function: it declares the table and the identity pool (GetId)
    template = _todo(synthesized)
    endpoints: Resources = template.find_resources("AWS::EC2::VPCEndpoint")
    kinds = {
        _service_of(e["Properties"]["ServiceName"]): e["Properties"] for e in endpoints.values()
    }
    assert set(kinds) == {"dynamodb", "s3", "cognito-identity"}
    assert kinds["dynamodb"]["VpcEndpointType"] == "Gateway"
    assert kinds["s3"]["VpcEndpointType"] == "Gateway"
    assert kinds["cognito-identity"]["VpcEndpointType"] == "Interface"
    assert kinds["cognito-identity"]["PrivateDnsEnabled"] is True


def test_a_service_without_a_read_cache_gets_no_vpc(synthesized: SynthesizedProject) -> None:
    for name in ("pinboard", "blog", "updates"):
        template = Template.from_stack(synthesized.stacks[name])
        assert not template.find_resources("AWS::EC2::VPC"), name
        assert not template.find_resources("AWS::DAX::Cluster"), name
    # And synthesis no longer says the to-do read cache is not deployed
    assert not any("read cache" in notice for notice in synthesized.stacks["todo"].notices)


# --- Declarations of the tests' own ----------------------------------------------------

_cached = spec.Table(
    "scores",
    partition_key=spec.Key("id"),
    read_cache=spec.ReadCache(item_ttl_seconds=1.5, query_ttl_seconds=0),
)


_SITE = spec.Distribution(
    "site",
    spec.Behavior("*", spec.HttpOrigin("app", url="https://example.com"), spec.CACHING_DISABLED),
)


def _service(function: spec.Function) -> spec.Service:
    return spec.Service(
        name="thumbs",
        functions=(function,),
        tables=(_cached,),
        topics=function.topics,
        queues=function.queues,
        user_pools=function.user_pools,
        distributions=function.distributions,
    )


def _stack(function: spec.Function, bundle: Bundle, outdir: Path) -> ServiceStack:
    _, (stack,) = build_app(
        [_service(function)], {"thumbs": bundle}, environment="dev", outdir=outdir
    )
    return stack


def test_each_api_a_vpc_function_declares_gets_an_interface_endpoint(
    bundle: Bundle, tmp_path: Path
) -> None:
    # Given a function with a cached table that also sends mail, publishes, sends to a
    # queue and administers a user pool
    function = spec.Function(
        "main",
        handler="thumbs.handler:handler",
        tables=(_cached,),
        mail=spec.MailIdentity("example.com"),
        topics=(spec.Topic("events"),),
        queues=(spec.Queue("jobs"),),
        user_pools=(spec.UserPool("users"),),
    )
    stack = _stack(function, bundle, tmp_path)
    template = Template.from_stack(stack)
    # Then the VPC has an endpoint, with private DNS, for each of those APIs
    endpoints: Resources = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    services = {_service_of(e["Properties"]["ServiceName"]) for e in endpoints.values()}
    assert services == {"email", "sns", "sqs", "cognito-idp"}
    assert all(e["Properties"]["PrivateDnsEnabled"] is True for e in endpoints.values())
    # And the declared TTLs are the parameter group's, in milliseconds
    template.has_resource_properties(
        "AWS::DAX::ParameterGroup",
        {"ParameterNameValues": {"record-ttl-millis": "1500", "query-ttl-millis": "0"}},
    )
    assert nag.findings(stack) == []


@pytest.mark.parametrize(
    "unreachable",
    [{"calls": ("todo",)}, {"distributions": (_SITE,)}],
    ids=["another-services-api", "cloudfront"],
)
def test_a_vpc_function_that_calls_an_api_no_endpoint_serves_is_refused(
    bundle: Bundle, tmp_path: Path, unreachable: dict[str, Any]
) -> None:
    # Given a function with a cached table (so in the VPC) that calls what only the
    # internet reaches: on AWS it would hang until its timeout
    function = spec.Function("main", handler="thumbs.handler:handler", tables=(_cached,))
    function = dataclasses.replace(function, **unreachable)
    # When the stack is built, Then synthesis refuses it and says why
    with pytest.raises(spec.DeclarationError, match="no route to the internet"):
        _stack(function, bundle, tmp_path)


# --- The DAX client in the bundle ------------------------------------------------------


def test_the_todo_bundle_holds_the_dax_client_but_not_botocore(
    bundles: dict[str, Bundle],
) -> None:
    bundle = bundles["todo"]
    tops = {path.name for path in bundle.directory.iterdir()}
    assert {"amazondax", "antlr4", "six.py"} <= tops
    assert not {"botocore", "boto3", "s3transfer", "jmespath", "urllib3", "dateutil"} & (
        tops - {"jmespath"}  # Powertools' own dependency, not the DAX client's
    )
    assert AMAZON_DAX_CLIENT.requirement in bundle.requirements
    assert "antlr4-python3-runtime==4.13.2" in bundle.requirements
    assert not any(r.lower().startswith(("botocore", "boto3")) for r in bundle.requirements)
    # The bundled client imports (botocore from this Python, as Lambda provides it)
    imported = subprocess.run(
        # -B: no __pycache__ written into the bundle
        [sys.executable, "-B", "-c", "import amazondax; print(amazondax.__file__)"],
        env={"PYTHONPATH": str(bundle.directory), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(str(bundle.directory / "amazondax"))


def test_a_bundle_without_read_cache_has_no_dax_client(bundles: dict[str, Bundle]) -> None:
    assert not (bundles["pinboard"].directory / "amazondax").exists()
    assert AMAZON_DAX_CLIENT.requirement not in bundles["pinboard"].requirements


def _tampered_index(root: Path) -> str:
    """A package index (PEP 503, on disk) whose amazon-dax-client 2.1.0 archive is not the
    pinned one."""
    source = root / "amazon_dax_client-2.1.0"
    source.mkdir(parents=True)
    (source / "setup.py").write_text("raise SystemExit('must never run')\n")
    project = root / "simple" / "amazon-dax-client"
    project.mkdir(parents=True)
    with tarfile.open(project / "amazon_dax_client-2.1.0.tar.gz", "w:gz") as archive:
        archive.add(source, arcname=source.name)
    (project / "index.html").write_text(
        '<a href="amazon_dax_client-2.1.0.tar.gz">amazon_dax_client-2.1.0.tar.gz</a>\n'
    )
    return (root / "simple").as_uri()


def test_a_tampered_dax_client_archive_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    # Given an index serving an amazon-dax-client 2.1.0 archive that is not the pinned one
    index = _tampered_index(tmp_path / "index")
    wheelhouse = Wheelhouse(tmp_path / "wheels", LambdaPlatform(), index_url=index)
    # When the client is installed, Then it is refused for its hash
    with pytest.raises(BundleError, match="sha256") as raised:
        wheelhouse.install([AMAZON_DAX_CLIENT.requirement], tmp_path / "target")
    assert AMAZON_DAX_CLIENT.sha256 in str(raised.value)
    # And nothing was built or kept
    left = {path.name for path in (tmp_path / "wheels").iterdir()}
    assert left <= {".lock"}
    assert not (tmp_path / "target" / "amazondax").exists()


def _service_of(name: Any) -> str:
    """``com.amazonaws.<region>.<service>`` (a string or its Fn::Join) → ``<service>``."""
    if isinstance(name, dict):
        (parts,) = name.values()
        name = "".join(p for p in parts[1] if isinstance(p, str))
    return str(name).rsplit(".", 1)[-1]
