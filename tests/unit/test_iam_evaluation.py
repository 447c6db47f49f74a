"""Policy evaluation decides as IAM does: explicit deny > allow > implicit deny, over
identity policies, resource policies and role trust policies.

The cases are AWS's documented examples ("Policy evaluation logic", "NotPrincipal",
"NotResource", CloudFront origin access control) and the local cloud's own policies
(``overcast.policies``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from overcast.local.iam.context import ContextValue
from overcast.local.iam.evaluation import AuthorizationRequest, Decision, PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.principal_matching import federated_principal, service_principal
from overcast.local.iam.principals import Principal
from overcast.policies import identity_pool_trust_policy, user_folder_policy

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
OTHER = "444455556666"
ALLOW, EXPLICIT, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY

Document = dict[str, Any]


def policy(*statements: Document) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str] = "*", **more: Any) -> Document:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def deny(action: str | list[str], resource: str | list[str] = "*", **more: Any) -> Document:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def user(name: str, *policies: Document, account: str = ACCOUNT) -> Principal:
    return Principal(
        arn=f"arn:aws:iam::{account}:user/{name}",
        account_id=account,
        user_id=f"AIDA{name.upper()}",
        policies=tuple(Policy.parse(p) for p in policies),
    )


def role_session(
    role: str,
    name: str,
    *policies: Document,
    account: str = ACCOUNT,
    context: Mapping[str, str] | None = None,
) -> Principal:
    return Principal(
        arn=f"arn:aws:iam::{account}:role/{role}",
        account_id=account,
        user_id=f"AROAEXAMPLE:{name}",
        policies=tuple(Policy.parse(p) for p in policies),
        context=dict(context or {}),
        session_arn=f"arn:aws:sts::{account}:assumed-role/{role}/{name}",
    )


def root(account: str = ACCOUNT) -> Principal:
    return Principal(
        arn=f"arn:aws:iam::{account}:root", account_id=account, user_id=account, is_root=True
    )


@dataclass(frozen=True)
class Case:
    principal: Principal | None
    action: str
    resource: str
    expected: Decision
    resource_policies: tuple[Document, ...] = ()
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    resource_account: str | None = None


def decide(case: Case) -> Decision:
    request = AuthorizationRequest(
        case.principal, case.action, case.resource, case.context, case.resource_account
    )
    policies = [Policy.parse(p) for p in case.resource_policies]
    return PolicyEvaluator(lambda: NOW).evaluate(request, policies)


def cases(table: dict[str, Case]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", list(table.values()), ids=list(table))


# "Example identity-based and resource-based policy evaluation" (Carlos).
CARLOS_IDENTITY = policy(
    allow(
        ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints"],
        "arn:aws:s3:::*",
        Sid="AllowS3ListRead",
    ),
    allow(
        "s3:*", ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"], Sid="AllowS3Self"
    ),
    deny("s3:*", "arn:aws:s3:::*log*", Sid="DenyS3Logs"),
)
CARLOS_BUCKET = policy(
    allow(
        "s3:*",
        ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
        Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"},
    )
)
CARLOS = user("carlossalazar", CARLOS_IDENTITY)

CARLOS_CASES = {
    "explicit-deny-on-log-bucket": Case(
        CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/app.log", EXPLICIT
    ),
    "own-bucket-allowed-by-both": Case(
        CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/notes.txt", ALLOW, (CARLOS_BUCKET,)
    ),
    "own-bucket-allowed-by-identity-alone": Case(
        CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/notes.txt", ALLOW
    ),
    "bucket-policy-alone-allows-same-account-user": Case(
        user("carlossalazar"),
        "s3:GetObject",
        "arn:aws:s3:::carlossalazar/notes.txt",
        ALLOW,
        (CARLOS_BUCKET,),
    ),
    "bucket-policy-names-carlos-not-alice": Case(
        user("alice"),
        "s3:GetObject",
        "arn:aws:s3:::carlossalazar/notes.txt",
        IMPLICIT,
        (CARLOS_BUCKET,),
    ),
    "list-read-on-any-bucket": Case(CARLOS, "s3:GetBucketLocation", "arn:aws:s3:::photos", ALLOW),
    "other-bucket-implicitly-denied": Case(
        CARLOS, "s3:PutObject", "arn:aws:s3:::photos/a", IMPLICIT
    ),
}

# "The difference between explicit and implicit denies".
REPORTS = policy(allow(["iam:Get*", "iam:List*"], Sid="AllowGetList"), deny("iam:*Report"))
AUDITOR = user("auditor", REPORTS, policy(allow("iam:GenerateCredentialReport")))

DENY_CASES = {
    "get-allowed": Case(AUDITOR, "iam:GetUser", "arn:aws:iam::123456789012:user/x", ALLOW),
    "action-case-insensitive": Case(
        AUDITOR, "IAM:getuser", "arn:aws:iam::123456789012:user/x", ALLOW
    ),
    "create-implicitly-denied": Case(AUDITOR, "iam:CreatePolicy", "*", IMPLICIT),
    "report-explicitly-denied": Case(AUDITOR, "iam:GetOrganizationsAccessReport", "*", EXPLICIT),
    "deny-beats-another-policys-allow": Case(
        AUDITOR, "iam:GenerateCredentialReport", "*", EXPLICIT
    ),
    "no-policies-implicitly-denied": Case(user("nobody"), "iam:GetUser", "*", IMPLICIT),
}


@cases(CARLOS_CASES | DENY_CASES)
def test_documented_evaluation_examples(case: Case) -> None:
    assert decide(case) is case.expected


# The local cloud's per-user folder: a Cognito identity's session of the pool's role.
BUCKET = "todo-files"
ME = "us-east-1:1111aaaa-0000-0000-0000-000000000001"
YOU = "us-east-1:2222bbbb-0000-0000-0000-000000000002"
SUB = "cognito-identity.amazonaws.com:sub"
FOLDERS = user_folder_policy(BUCKET)
MINE = role_session("todo-authenticated", "CognitoIdentityCredentials", FOLDERS, context={SUB: ME})
NO_IDENTITY = role_session("todo-authenticated", "x", FOLDERS)
WILD = role_session("todo-authenticated", "w", FOLDERS, context={SUB: "us-east-1:*"})
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"

FOLDER_CASES = {
    "get-own-object": Case(MINE, "s3:GetObject", f"{BUCKET_ARN}/{ME}/photo.jpg", ALLOW),
    "put-own-nested-object": Case(MINE, "s3:PutObject", f"{BUCKET_ARN}/{ME}/a/b/c.txt", ALLOW),
    "delete-own-object": Case(MINE, "s3:DeleteObject", f"{BUCKET_ARN}/{ME}/photo.jpg", ALLOW),
    "abort-own-upload": Case(MINE, "s3:AbortMultipartUpload", f"{BUCKET_ARN}/{ME}/big.bin", ALLOW),
    "get-other-identitys-object": Case(
        MINE, "s3:GetObject", f"{BUCKET_ARN}/{YOU}/photo.jpg", IMPLICIT
    ),
    "put-at-bucket-root": Case(MINE, "s3:PutObject", f"{BUCKET_ARN}/photo.jpg", IMPLICIT),
    "folder-name-prefix-is-not-my-folder": Case(
        MINE, "s3:GetObject", f"{BUCKET_ARN}/{ME}-evil/photo.jpg", IMPLICIT
    ),
    "other-bucket": Case(MINE, "s3:GetObject", f"arn:aws:s3:::other/{ME}/photo.jpg", IMPLICIT),
    "delete-bucket": Case(MINE, "s3:DeleteBucket", BUCKET_ARN, IMPLICIT),
    "list-own-folder": Case(
        MINE, "s3:ListBucket", BUCKET_ARN, ALLOW, context={"s3:prefix": f"{ME}/"}
    ),
    "list-own-subfolder": Case(
        MINE, "s3:ListBucket", BUCKET_ARN, ALLOW, context={"s3:prefix": f"{ME}/docs/"}
    ),
    "list-without-prefix": Case(MINE, "s3:ListBucket", BUCKET_ARN, IMPLICIT),
    "list-with-empty-prefix": Case(
        MINE, "s3:ListBucket", BUCKET_ARN, IMPLICIT, context={"s3:prefix": ""}
    ),
    "list-other-identitys-folder": Case(
        MINE, "s3:ListBucket", BUCKET_ARN, IMPLICIT, context={"s3:prefix": f"{YOU}/"}
    ),
    "list-prefix-without-slash": Case(
        MINE, "s3:ListBucket", BUCKET_ARN, IMPLICIT, context={"s3:prefix": ME}
    ),
    "session-without-identity-id-gets-nothing": Case(
        NO_IDENTITY, "s3:GetObject", f"{BUCKET_ARN}/{ME}/photo.jpg", IMPLICIT
    ),
    "unresolved-variable-is-not-matched-literally": Case(
        NO_IDENTITY, "s3:GetObject", f"{BUCKET_ARN}/${{{SUB}}}/photo.jpg", IMPLICIT
    ),
    "identity-id-is-literal-not-a-wildcard": Case(
        WILD, "s3:GetObject", f"{BUCKET_ARN}/{YOU}/photo.jpg", IMPLICIT
    ),
}


@cases(FOLDER_CASES)
def test_user_folder_policy_confines_an_identity_to_its_folder(case: Case) -> None:
    assert decide(case) is case.expected


# AWS's "Amazon S3: Allows Amazon Cognito users to access objects in their bucket".
COGNITO_EXAMPLE = policy(
    allow(
        "s3:ListBucket",
        ["arn:aws:s3:::bucket-name"],
        Condition={"StringLike": {"s3:prefix": [f"cognito/application-name/${{{SUB}}}"]}},
    ),
    allow(
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        [
            f"arn:aws:s3:::bucket-name/cognito/application-name/${{{SUB}}}",
            f"arn:aws:s3:::bucket-name/cognito/application-name/${{{SUB}}}/*",
        ],
    ),
)
APP_USER = role_session("cognito-role", "s", COGNITO_EXAMPLE, context={SUB: ME})
APP_PREFIX = f"cognito/application-name/{ME}"

COGNITO_CASES = {
    "list-exact-prefix": Case(
        APP_USER,
        "s3:ListBucket",
        "arn:aws:s3:::bucket-name",
        ALLOW,
        context={"s3:prefix": APP_PREFIX},
    ),
    "list-deeper-prefix-not-in-policy": Case(
        APP_USER,
        "s3:ListBucket",
        "arn:aws:s3:::bucket-name",
        IMPLICIT,
        context={"s3:prefix": APP_PREFIX + "/x"},
    ),
    "get-object-named-by-identity": Case(
        APP_USER, "s3:GetObject", f"arn:aws:s3:::bucket-name/{APP_PREFIX}", ALLOW
    ),
    "get-object-below-identity": Case(
        APP_USER, "s3:GetObject", f"arn:aws:s3:::bucket-name/{APP_PREFIX}/a.txt", ALLOW
    ),
    "get-other-identity": Case(
        APP_USER,
        "s3:GetObject",
        f"arn:aws:s3:::bucket-name/cognito/application-name/{YOU}/a",
        IMPLICIT,
    ),
}


@cases(COGNITO_CASES)
def test_aws_cognito_bucket_example(case: Case) -> None:
    assert decide(case) is case.expected


# The identity pool's authenticated role trust policy, as STS evaluates it.
POOL = "us-east-1:pool-0001"
TRUST = identity_pool_trust_policy(POOL)
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/todo-authenticated"
WEB = federated_principal("cognito-identity.amazonaws.com")
AS_FEDERATION_BUILDS_IT = Principal(
    arn="cognito-identity.amazonaws.com",
    account_id=ACCOUNT,
    user_id="cognito-identity.amazonaws.com",
)
AUD = "cognito-identity.amazonaws.com:aud"
AMR = "cognito-identity.amazonaws.com:amr"
SIGNED_IN = ["authenticated", f"cognito-idp.us-east-1.amazonaws.com/pool,{ME}"]


def assume(
    principal: Principal,
    expected: Decision,
    action: str = "sts:AssumeRoleWithWebIdentity",
    **ctx: Any,
) -> Case:
    context = {AUD: ctx.get("aud", POOL), AMR: ctx.get("amr", SIGNED_IN)}
    context = {key: value for key, value in context.items() if value is not None}
    return Case(principal, action, ROLE_ARN, expected, (TRUST,), context, ACCOUNT)


TRUST_CASES = {
    "authenticated-identity-of-the-pool": assume(WEB, ALLOW),
    "principal-as-federation-builds-it": assume(AS_FEDERATION_BUILDS_IT, ALLOW),
    "unauthenticated-identity": assume(WEB, IMPLICIT, amr=["unauthenticated"]),
    "identity-of-another-pool": assume(WEB, IMPLICIT, aud="us-east-1:pool-9999"),
    "no-amr-claim": assume(WEB, IMPLICIT, amr=None),
    "other-action": assume(WEB, IMPLICIT, action="sts:AssumeRole"),
    "other-identity-provider": assume(federated_principal("accounts.google.com"), IMPLICIT),
    "iam-user-is-not-the-federated-principal": assume(
        user("alice", policy(allow("sts:*"))), IMPLICIT
    ),
}
NAMED_TRUST = policy(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        "Action": "sts:AssumeRole",
    }
)
TRUST_CASES |= {
    "trust-policy-naming-the-user-allows-alone": Case(
        user("alice"), "sts:AssumeRole", ROLE_ARN, ALLOW, (NAMED_TRUST,), resource_account=ACCOUNT
    ),
    "identity-policy-cannot-replace-the-trust-policy": Case(
        user("bob", policy(allow("sts:AssumeRole"))),
        "sts:AssumeRole",
        ROLE_ARN,
        IMPLICIT,
        (NAMED_TRUST,),
    ),
    "cross-account-assume-needs-identity-policy-too": Case(
        user("carol", account=OTHER),
        "sts:AssumeRole",
        ROLE_ARN,
        IMPLICIT,
        (policy({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole"}),),
        resource_account=ACCOUNT,
    ),
}


@cases(TRUST_CASES)
def test_identity_pool_trust_policy(case: Case) -> None:
    assert decide(case) is case.expected


PUBLIC_READ = policy(allow("s3:GetObject", "arn:aws:s3:::site/*", Principal="*"))
ALL_AWS_READ = policy(allow("s3:GetObject", "arn:aws:s3:::site/*", Principal={"AWS": "*"}))
ACCOUNT_READ = policy(allow("s3:GetObject", "arn:aws:s3:::site/*", Principal={"AWS": ACCOUNT}))
OTHER_ACCOUNT_READ = policy(
    allow("s3:GetObject", "arn:aws:s3:::site/*", Principal={"AWS": f"arn:aws:iam::{OTHER}:root"})
)
DENY_ACCOUNT = policy(deny("s3:*", "arn:aws:s3:::site/*", Principal={"AWS": ACCOUNT}))
DENY_EVERYONE = policy(deny("s3:DeleteObject", "arn:aws:s3:::site/*", Principal="*"))
ROLE_READ = policy(
    allow(
        "s3:GetObject",
        "arn:aws:s3:::site/*",
        Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"},
    )
)
SESSION_READ = policy(
    allow(
        "s3:GetObject",
        "arn:aws:s3:::site/*",
        Principal={"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice"},
    )
)
OBJECT = "arn:aws:s3:::site/index.html"
PARTNER = user("partner", account=OTHER)
PARTNER_WITH_GRANT = user("partner", policy(allow("s3:GetObject")), account=OTHER)
READER = role_session("reader", "alice")


def on_site(
    principal: Principal | None,
    expected: Decision,
    *policies: Document,
    action: str = "s3:GetObject",
) -> Case:
    return Case(principal, action, OBJECT, expected, policies, resource_account=ACCOUNT)


RESOURCE_POLICY_CASES = {
    "anonymous-read-of-public-object": on_site(None, ALLOW, PUBLIC_READ),
    "anonymous-read-with-aws-star": on_site(None, ALLOW, ALL_AWS_READ),
    "anonymous-write-not-granted": on_site(None, IMPLICIT, PUBLIC_READ, action="s3:PutObject"),
    "anonymous-not-an-account-principal": on_site(None, IMPLICIT, ACCOUNT_READ),
    "anonymous-without-bucket-policy": on_site(None, IMPLICIT),
    "anonymous-denied-by-deny-everyone": on_site(
        None, EXPLICIT, PUBLIC_READ, DENY_EVERYONE, action="s3:DeleteObject"
    ),
    "root-needs-no-policy": on_site(root(), ALLOW),
    "root-explicitly-denied-by-bucket-policy": on_site(root(), EXPLICIT, DENY_ACCOUNT),
    "root-explicitly-denied-by-deny-everyone": on_site(
        root(), EXPLICIT, DENY_EVERYONE, action="s3:DeleteObject"
    ),
    "other-accounts-root-needs-bucket-policy": on_site(root(OTHER), IMPLICIT),
    "other-accounts-root-granted-by-bucket-policy": on_site(root(OTHER), ALLOW, OTHER_ACCOUNT_READ),
    "account-principal-names-its-users": on_site(user("bob"), ALLOW, ACCOUNT_READ),
    "account-principal-names-its-role-sessions": on_site(READER, ALLOW, ACCOUNT_READ),
    "account-principal-names-only-its-account": on_site(PARTNER_WITH_GRANT, IMPLICIT, ACCOUNT_READ),
    "cross-account-needs-identity-policy-too": on_site(PARTNER, IMPLICIT, OTHER_ACCOUNT_READ),
    "cross-account-with-both-policies": on_site(PARTNER_WITH_GRANT, ALLOW, OTHER_ACCOUNT_READ),
    "cross-account-identity-policy-alone": on_site(PARTNER_WITH_GRANT, IMPLICIT),
    "role-arn-names-every-session": on_site(READER, ALLOW, ROLE_READ),
    "session-arn-names-that-session": on_site(READER, ALLOW, SESSION_READ),
    "session-arn-names-no-other-session": on_site(
        role_session("reader", "bob"), IMPLICIT, SESSION_READ
    ),
    "identity-allow-overridden-by-bucket-deny": on_site(
        user("bob", policy(allow("s3:*"))), EXPLICIT, DENY_ACCOUNT
    ),
    "bucket-deny-for-someone-else-does-not-apply": on_site(
        PARTNER_WITH_GRANT, ALLOW, OTHER_ACCOUNT_READ, DENY_ACCOUNT
    ),
}


@cases(RESOURCE_POLICY_CASES)
def test_resource_policies_and_the_callers_they_name(case: Case) -> None:
    assert decide(case) is case.expected


# CloudFront origin access control: the bucket policy AWS gives for an OAC origin.
DISTRIBUTION = f"arn:aws:cloudfront::{ACCOUNT}:distribution/EDFDVBD6EXAMPLE"
OAC_POLICY = policy(
    allow(
        "s3:GetObject",
        "arn:aws:s3:::site/*",
        Sid="AllowCloudFrontServicePrincipalReadOnly",
        Principal={"Service": "cloudfront.amazonaws.com"},
        Condition={"StringEquals": {"AWS:SourceArn": DISTRIBUTION}},
    )
)
CLOUDFRONT = service_principal("cloudfront.amazonaws.com")


def fetch(
    principal: Principal | None, expected: Decision, source: str | None = DISTRIBUTION
) -> Case:
    context = {"aws:SourceArn": source} if source else {}
    return Case(principal, "s3:GetObject", OBJECT, expected, (OAC_POLICY,), context, ACCOUNT)


OAC_CASES = {
    "distribution-reads-origin": fetch(CLOUDFRONT, ALLOW),
    "other-distribution-refused": fetch(CLOUDFRONT, IMPLICIT, f"{DISTRIBUTION}-OTHER"),
    "no-source-arn-refused": fetch(CLOUDFRONT, IMPLICIT, None),
    "anonymous-refused": fetch(None, IMPLICIT),
    "iam-user-is-not-the-service": fetch(user("bob"), IMPLICIT),
    "other-service-refused": fetch(service_principal("lambda.amazonaws.com"), IMPLICIT),
}


@cases(OAC_CASES)
def test_origin_access_control_bucket_policy(case: Case) -> None:
    assert decide(case) is case.expected


# "NotPrincipal with Deny" examples: everyone but Bob (and his account) is denied.
BOB_ARN = f"arn:aws:iam::{OTHER}:user/Bob"
EXCEPT_BOB = policy(
    {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [BOB_ARN, f"arn:aws:iam::{OTHER}:root"]},
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"],
    },
    allow("s3:GetObject", "arn:aws:s3:::BUCKETNAME/*", Principal={"AWS": [BOB_ARN, ACCOUNT]}),
)
EXCEPT_BOB_ONLY = policy(
    {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": BOB_ARN},
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::BUCKETNAME/*",
    },
    allow("s3:GetObject", "arn:aws:s3:::BUCKETNAME/*", Principal={"AWS": BOB_ARN}),
)
AUDIT_SESSION = (
    f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/cross-account-audit-app"
)
AUDIT_ROLE = f"arn:aws:iam::{OTHER}:role/cross-account-read-only-role"


def except_audit(*listed: str) -> Document:
    return policy(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": list(listed)},
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::Bucket_AccountAudit/*",
        },
        allow("s3:GetObject", "arn:aws:s3:::Bucket_AccountAudit/*", Principal={"AWS": AUDIT_ROLE}),
    )


BOB = user("Bob", policy(allow("s3:*")), account=OTHER)
AUDIT_APP = role_session(
    "cross-account-read-only-role", "cross-account-audit-app", policy(allow("s3:*")), account=OTHER
)
FULL_LIST = except_audit(AUDIT_SESSION, AUDIT_ROLE, f"arn:aws:iam::{OTHER}:root")


def get(
    principal: Principal | None, resource: str, expected: Decision, *policies: Document
) -> Case:
    return Case(principal, "s3:GetObject", resource, expected, policies, resource_account=ACCOUNT)


NOT_PRINCIPAL_CASES = {
    "bob-left-out-of-the-deny": get(BOB, "arn:aws:s3:::BUCKETNAME/a", ALLOW, EXCEPT_BOB),
    "same-account-user-denied": get(
        user("alice", policy(allow("s3:*"))), "arn:aws:s3:::BUCKETNAME/a", EXPLICIT, EXCEPT_BOB
    ),
    "anonymous-denied": get(None, "arn:aws:s3:::BUCKETNAME/a", EXPLICIT, EXCEPT_BOB),
    "bob-denied-when-his-account-is-not-listed": get(
        BOB, "arn:aws:s3:::BUCKETNAME/a", EXPLICIT, EXCEPT_BOB_ONLY
    ),
    "audit-session-left-out-with-full-list": get(
        AUDIT_APP, "arn:aws:s3:::Bucket_AccountAudit/r", ALLOW, FULL_LIST
    ),
    "audit-session-denied-without-its-session-arn": get(
        AUDIT_APP,
        "arn:aws:s3:::Bucket_AccountAudit/r",
        EXPLICIT,
        except_audit(AUDIT_ROLE, f"arn:aws:iam::{OTHER}:root"),
    ),
    "audit-session-denied-without-its-role-arn": get(
        AUDIT_APP,
        "arn:aws:s3:::Bucket_AccountAudit/r",
        EXPLICIT,
        except_audit(AUDIT_SESSION, f"arn:aws:iam::{OTHER}:root"),
    ),
}


@cases(NOT_PRINCIPAL_CASES)
def test_not_principal_with_deny(case: Case) -> None:
    assert decide(case) is case.expected


# "NotResource": HRPayroll members may touch nothing in S3 outside the Payroll folder.
HR = user(
    "payroll-clerk",
    policy(allow("*")),
    policy(
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
        }
    ),
)
NOT_RESOURCE_CASES = {
    "payroll-object-allowed": Case(
        HR, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv", ALLOW
    ),
    "payroll-folder-allowed": Case(HR, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll", ALLOW),
    "other-folder-denied": Case(HR, "s3:GetObject", "arn:aws:s3:::HRBucket/Hiring/a.pdf", EXPLICIT),
    "other-bucket-denied": Case(HR, "s3:ListBucket", "arn:aws:s3:::photos", EXPLICIT),
    "other-service-untouched": Case(HR, "ec2:DescribeInstances", "*", ALLOW),
}


@cases(NOT_RESOURCE_CASES)
def test_deny_with_not_resource(case: Case) -> None:
    assert decide(case) is case.expected


def test_allowed_is_true_only_for_allow() -> None:
    evaluator = PolicyEvaluator(lambda: NOW)
    request = AuthorizationRequest(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/x")

    assert not evaluator.allowed(request)
    assert evaluator.allowed(
        AuthorizationRequest(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/x")
    )


def test_resource_policy_statement_without_principal_names_no_one() -> None:
    # Such a statement can only come from an identity-style document handed over as a
    # resource policy; it must not grant everyone.
    identity_style = Policy.parse(policy(allow("s3:GetObject")))
    request = AuthorizationRequest(None, "s3:GetObject", OBJECT)

    assert PolicyEvaluator(lambda: NOW).evaluate(request, [identity_style]) is IMPLICIT
