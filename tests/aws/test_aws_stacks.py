"""The stacks of the sample project (to-do + pinboard): what carries the architecture.

The built-in blog's stack (triggers, user pool admin) is in ``test_aws_triggers``.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint_file

from overcast import spec
from overcast.aws import nag
from overcast.aws.stack import ServiceStack
from overcast.aws.tables import TABLE_ACTIONS
from overcast.policies import identity_pool_trust_policy, user_folder_policy
from tests.aws.conftest import SynthesizedProject

Resources = dict[str, dict[str, Any]]


def _template(synthesized: SynthesizedProject, service: str) -> Template:
    return Template.from_stack(synthesized.stacks[service])


def _one(template: Template, kind: str, properties: dict[str, Any] | None = None) -> Any:
    found: Resources = template.find_resources(
        kind, {"Properties": properties} if properties else None
    )
    assert len(found) == 1, f"{len(found)} resources of type {kind}"
    return next(iter(found.values()))


def _resolved(stack: ServiceStack, value: object) -> Any:
    return Stack.of(stack).resolve(value)


def test_every_template_passes_cfn_lint_without_errors(synthesized: SynthesizedProject) -> None:
    for stack in synthesized.assembly.stacks:
        matches = lint_file(stack.template, config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
        assert errors == [], stack.name


def test_cdk_nag_reports_nothing_unacknowledged(synthesized: SynthesizedProject) -> None:
    assert nag.findings(synthesized.app) == []


def test_every_acknowledgment_carries_a_written_reason() -> None:
    reasons = [value for value in vars(nag).values() if isinstance(value, nag.Reason)]
    assert len(reasons) >= 8
    for reason in reasons:
        assert reason.rule.startswith("AwsSolutions-")
        assert len(reason.reason.split()) >= 10, reason.rule


def test_each_service_and_environment_is_its_own_stack(synthesized: SynthesizedProject) -> None:
    assert sorted(stack.name for stack in synthesized.assembly.stacks) == [
        "blog-dev",
        "pinboard-dev",
        "todo-dev",
        "updates-dev",
    ]


def test_cached_per_user_routes_key_the_stage_cache_by_the_caller(
    synthesized: SynthesizedProject,
) -> None:
    # Given the to-do API: its GETs are behind the Cognito authorizer and cached
    template = _template(synthesized, "todo")
    signed_in_gets: Resources = template.find_resources(
        "AWS::ApiGateway::Method",
        {"Properties": {"HttpMethod": "GET", "AuthorizationType": "COGNITO_USER_POOLS"}},
    )
    assert len(signed_in_gets) == 2
    # Then each keys its cache by the caller's token, declared as a request parameter
    for method in signed_in_gets.values():
        properties = method["Properties"]
        assert spec.CALLER in properties["Integration"]["CacheKeyParameters"]
        assert spec.CALLER in properties["RequestParameters"]


def test_one_todo_is_keyed_by_its_id_as_well(synthesized: SynthesizedProject) -> None:
    template = _template(synthesized, "todo")
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "GET",
            "Integration": {
                "CacheKeyParameters": Match.array_with([spec.CALLER, "method.request.path.id"])
            },
            "RequestParameters": Match.object_like({"method.request.path.id": True}),
        },
    )


def test_stage_cache_has_the_declared_size_and_ttls_and_caches_gets_only(
    synthesized: SynthesizedProject,
) -> None:
    api = synthesized.service("todo").api
    assert api is not None
    assert api.cache is not None
    found: Resources = _template(synthesized, "todo").find_resources("AWS::ApiGateway::Stage")
    stages = {each["Properties"]["StageName"]: each["Properties"] for each in found.values()}
    assert set(stages) == {stage.name for stage in api.all_stages}  # v1 and v2
    for declared in api.all_stages:
        stage = stages[declared.name]
        assert stage["CacheClusterEnabled"] is True
        assert stage["CacheClusterSize"] == api.cache.size_gb
        settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}
        # Every method's caching is off unless a GET route turns it on
        assert settings[("/*", "*")]["CachingEnabled"] is False
        for route in api.routes:
            resource_path = "/" + route.path.replace("/", "~1")  # API Gateway's escaping
            if route.method != "GET":
                assert (resource_path, route.method) not in settings
                continue
            setting = settings[(resource_path, "GET")]
            ttl = api.cache_ttl(route, declared)
            assert setting["CachingEnabled"] is (ttl > 0)
            if ttl:
                assert setting["CacheTtlInSeconds"] == ttl
                assert setting["CacheDataEncrypted"] is True


def test_writes_are_never_cached(synthesized: SynthesizedProject) -> None:
    template = _template(synthesized, "todo")
    methods: Resources = template.find_resources("AWS::ApiGateway::Method")
    writes = [
        m["Properties"]
        for m in methods.values()
        if m["Properties"]["HttpMethod"] in ("POST", "PUT", "PATCH", "DELETE")
    ]
    assert len(writes) == 4
    assert all("CacheKeyParameters" not in write["Integration"] for write in writes)


def test_signed_in_users_reach_only_their_own_folder(synthesized: SynthesizedProject) -> None:
    # Given the files identity pool's authenticated role
    stack = synthesized.stacks["todo"]
    role = _one(
        _template(synthesized, "todo"),
        "AWS::IAM::Role",
        {"Description": Match.string_like_regexp("identity pool")},
    )
    bucket = stack.resources.buckets["files"]
    # Then it carries exactly the per-user-folder policy the local cloud evaluates
    (policy,) = role["Properties"]["Policies"]
    assert policy["PolicyDocument"] == _resolved(stack, user_folder_policy(bucket.bucket_name))
    # ... whose objects are confined by the caller's identity id, a policy variable
    statements = policy["PolicyDocument"]["Statement"]
    objects = next(s for s in statements if s["Sid"] == "ReadWriteYourFolder")
    assert objects["Resource"]["Fn::Join"][1][-1] == "/${cognito-identity.amazonaws.com:sub}/*"
    listing = next(s for s in statements if s["Sid"] == "ListYourFolder")
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": "${cognito-identity.amazonaws.com:sub}/*"}
    }


def test_only_the_pools_signed_in_identities_assume_the_role(
    synthesized: SynthesizedProject,
) -> None:
    stack = synthesized.stacks["todo"]
    template = _template(synthesized, "todo")
    pool = stack.resources.identity_pools["files"]
    role = _one(
        template, "AWS::IAM::Role", {"Description": Match.string_like_regexp("identity pool")}
    )
    trust = _resolved(stack, identity_pool_trust_policy(pool.pool.ref))
    assert role["Properties"]["AssumeRolePolicyDocument"] == trust
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {
        "cognito-identity.amazonaws.com:aud": {"Ref": stack.get_logical_id(pool.pool)}
    }
    identity_pool = _one(template, "AWS::Cognito::IdentityPool")["Properties"]
    assert identity_pool["AllowUnauthenticatedIdentities"] is False
    attachment = _one(template, "AWS::Cognito::IdentityPoolRoleAttachment")["Properties"]
    assert list(attachment["Roles"]) == ["authenticated"]


def test_the_function_learns_each_declared_resource_from_its_environment(
    synthesized: SynthesizedProject,
) -> None:
    # The function, and the function stage v2 runs its own code in: the same variables
    functions: Resources = _template(synthesized, "todo").find_resources("AWS::Lambda::Function")
    by_handler = {f["Properties"]["Handler"]: f["Properties"] for f in functions.values()}
    assert set(by_handler) == {
        "overcast.apps.todo.handler.handler",
        "overcast.apps.todo.handler_v2.handler",
    }
    for function in by_handler.values():
        _check_todo_variables(synthesized, function)
        assert function["Runtime"] == "python3.12"


def _check_todo_variables(synthesized: SynthesizedProject, function: dict[str, Any]) -> None:
    stack = synthesized.stacks["todo"]
    variables = dict(function["Environment"]["Variables"])
    api_url = variables.pop("OVERCAST_RESOURCE_API_TODO")  # the stage URL, as locally
    resources = stack.resources
    assert variables == {
        "OVERCAST_BACKEND": "aws",
        "OVERCAST_SERVICE": "todo",
        "OVERCAST_RESOURCE_TABLE_TODOS": _resolved(stack, resources.tables["todos"].table_name),
        "OVERCAST_RESOURCE_IDENTITY_POOL_FILES": _resolved(
            stack, resources.identity_pools["files"].pool.ref
        ),
        "OVERCAST_RESOURCE_USER_POOL_USERS": _resolved(
            stack, resources.user_pools["users"].pool.user_pool_id
        ),
        # The table's read cache: its DAX cluster (overcast.aws.dax)
        "OVERCAST_RESOURCE_DAX_TODOS": {
            "Fn::GetAtt": [
                variables["OVERCAST_RESOURCE_DAX_TODOS"]["Fn::GetAtt"][0],
                "ClusterDiscoveryEndpointURL",
            ]
        },
    }
    cluster = stack.resources.read_caches.clusters["todos"] if stack.resources.read_caches else None
    assert cluster is not None
    assert variables["OVERCAST_RESOURCE_DAX_TODOS"] == _resolved(
        stack, cluster.attr_cluster_discovery_endpoint_url
    )
    api = synthesized.service("todo").api
    assert api is not None
    assert api_url["Fn::Join"][1][-1] == f"/{api.stage}"


def test_the_function_may_use_its_table_and_indexes_and_nothing_else(
    synthesized: SynthesizedProject,
) -> None:
    template = _template(synthesized, "todo")
    functions: Resources = template.find_resources("AWS::Lambda::Function")
    roles = [{"Ref": f["Properties"]["Role"]["Fn::GetAtt"][0]} for f in functions.values()]
    found: Resources = template.find_resources("AWS::IAM::Policy")
    policies = {k: p for k, p in found.items() if p["Properties"]["Roles"][0] in roles}
    assert len(policies) == 2  # the function's, and its copy's for stage v2
    for policy in policies.values():
        _check_table_only(synthesized, policy["Properties"]["PolicyDocument"])


def _check_table_only(synthesized: SynthesizedProject, policy: dict[str, Any]) -> None:
    stack = synthesized.stacks["todo"]
    table_arn = _resolved(stack, stack.resources.tables["todos"].table_arn)
    data = next(s for s in policy["Statement"] if s["Action"][0].startswith("dynamodb:"))
    assert sorted(data["Action"]) == sorted(TABLE_ACTIONS)
    assert data["Resource"] == [
        table_arn,
        {"Fn::Join": ["", [table_arn, "/index/by-completed"]]},
    ]
    actions = [
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not any(action.endswith("*") for action in actions)
    assert all(s["Resource"] != "*" for s in policy["Statement"])


def test_buckets_block_public_access_encrypt_and_refuse_plain_http(
    synthesized: SynthesizedProject,
) -> None:
    template = _template(synthesized, "todo")
    buckets: Resources = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2  # the files bucket and its access logs
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert bucket["DeletionPolicy"] == "Retain"
    policies: Resources = template.find_resources("AWS::S3::BucketPolicy")
    for policy in policies.values():
        denials = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
        ]
        assert {"Bool": {"aws:SecureTransport": "false"}} in [d["Condition"] for d in denials]


def test_logs_are_kept_for_a_month(synthesized: SynthesizedProject) -> None:
    for service in ("todo", "pinboard"):
        groups: Resources = _template(synthesized, service).find_resources("AWS::Logs::LogGroup")
        assert groups
        assert all(g["Properties"]["RetentionInDays"] == 30 for g in groups.values())


def test_the_user_pool_signs_up_by_email_with_the_declared_verification(
    synthesized: SynthesizedProject,
) -> None:
    declared = synthesized.service("todo").user_pools[0]
    template = _template(synthesized, "todo")
    pool = _one(template, "AWS::Cognito::UserPool")["Properties"]
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["VerificationMessageTemplate"]["EmailMessage"] == declared.verification_message
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    client = _one(template, "AWS::Cognito::UserPoolClient")["Properties"]
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }


def test_the_sample_project_has_public_routes_a_greedy_path_and_no_cache(
    synthesized: SynthesizedProject,
) -> None:
    template = _template(synthesized, "pinboard")
    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "{path+}"})
    template.has_resource_properties(
        "AWS::ApiGateway::Method", {"HttpMethod": "ANY", "AuthorizationType": "NONE"}
    )
    stage = _one(template, "AWS::ApiGateway::Stage")["Properties"]
    assert stage["StageName"] == "prod"
    assert stage["CacheClusterEnabled"] is False
    integration = _one(template, "AWS::ApiGateway::Method", {"HttpMethod": "ANY"})["Properties"]
    assert integration["Integration"]["TimeoutInMillis"] == 1500


def test_physical_names_are_left_to_cloudformation(synthesized: SynthesizedProject) -> None:
    # So two environments of a service never collide (and S3's global names never do)
    for service in ("todo", "pinboard"):
        resources: Resources = _template(synthesized, service).to_json()["Resources"]
        for resource in resources.values():
            properties = resource.get("Properties", {})
            for fixed in ("TableName", "BucketName", "FunctionName", "RoleName", "LogGroupName"):
                assert not isinstance(properties.get(fixed), str), (fixed, properties)
