"""Policy variables and wildcards in Action and Resource, as the IAM User Guide's
"Policy variables" and "Resource" pages show them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from overcast.local.iam.context import ContextKeys, ContextValue
from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.principals import Principal
from overcast.local.iam.variables import substitute
from overcast.local.iam.wildcards import matches_action, matches_arn, matches_resource

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "123456789012"


def document(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def caller(
    name: str, *documents: dict[str, Any], context: Mapping[str, str] | None = None
) -> Principal:
    return Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:user/{name}",
        account_id=ACCOUNT,
        user_id=f"AIDA{name.upper()}",
        policies=tuple(Policy.parse(d) for d in documents),
        context=dict(context or {}),
    )


@dataclass(frozen=True)
class Ask:
    principal: Principal
    action: str
    resource: str
    allowed: bool
    context: Mapping[str, ContextValue] = field(default_factory=dict)


def allowed(ask: Ask) -> bool:
    request = AuthorizationRequest(ask.principal, ask.action, ask.resource, ask.context)
    return PolicyEvaluator(lambda: NOW).allowed(request)


def asks(table: dict[str, Ask]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("ask", list(table.values()), ids=list(table))


# "Condition operators" StringLike example: each user's home directory in BUCKET-NAME.
HOME = document(
    {
        "Effect": "Allow",
        "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
        "Resource": "arn:aws:s3:::*",
    },
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::BUCKET-NAME",
        "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}},
    },
    {
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": [
            "arn:aws:s3:::BUCKET-NAME/home/${aws:username}",
            "arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*",
        ],
    },
)
DAVID = caller("David", HOME)
ROLE_SESSION = Principal(
    arn=f"arn:aws:iam::{ACCOUNT}:role/r",
    account_id=ACCOUNT,
    user_id="AROAEXAMPLE:s",
    policies=(Policy.parse(HOME),),
    session_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
)
BUCKET = "arn:aws:s3:::BUCKET-NAME"

HOME_CASES = {
    "list-root": Ask(DAVID, "s3:ListBucket", BUCKET, True, {"s3:prefix": ""}),
    "list-home": Ask(DAVID, "s3:ListBucket", BUCKET, True, {"s3:prefix": "home/"}),
    "list-own-home": Ask(DAVID, "s3:ListBucket", BUCKET, True, {"s3:prefix": "home/David/"}),
    "list-other-home": Ask(DAVID, "s3:ListBucket", BUCKET, False, {"s3:prefix": "home/Maria/"}),
    "user-name-is-case-sensitive": Ask(
        DAVID, "s3:ListBucket", BUCKET, False, {"s3:prefix": "home/david/"}
    ),
    "get-own-object": Ask(DAVID, "s3:GetObject", f"{BUCKET}/home/David/cv.pdf", True),
    "get-other-object": Ask(DAVID, "s3:GetObject", f"{BUCKET}/home/Maria/cv.pdf", False),
    "role-session-has-no-user-name": Ask(
        ROLE_SESSION, "s3:GetObject", f"{BUCKET}/home//cv.pdf", False
    ),
    "role-session-not-matched-literally": Ask(
        ROLE_SESSION, "s3:GetObject", f"{BUCKET}/home/${{aws:username}}/cv.pdf", False
    ),
    "role-session-lists-root-only": Ask(
        ROLE_SESSION, "s3:ListBucket", BUCKET, True, {"s3:prefix": "home/"}
    ),
}


@asks(HOME_CASES)
def test_user_name_variable_gives_each_user_a_home(ask: Ask) -> None:
    assert allowed(ask) is ask.allowed


TEAM_BUCKET = document(
    {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}/*",
    }
)
YELLOW = caller("ana", TEAM_BUCKET, context={"aws:PrincipalTag/team": "yellow"})
UNTAGGED = caller("bo", TEAM_BUCKET)

ABAC = document(
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    {
        "Effect": "Deny",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
        "Condition": {"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}},
    },
)
BLUE = caller("blue", ABAC, context={"aws:PrincipalTag/Team": "blue"})
NO_TEAM = caller("none", ABAC)
OBJECT = "arn:aws:s3:::amzn-s3-demo-bucket/report.csv"


def escaped(resource: str) -> Principal:
    return caller(
        "e", document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource})
    )


LEGACY = caller(
    "David",
    document(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/${aws:username}/*",
        },
        version="2008-10-17",
    ),
)
LIMIT = caller(
    "lim",
    document(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "*",
            "Condition": {"NumericLessThanEquals": {"s3:max-keys": "${x:limit}"}},
        }
    ),
    context={"x:limit": "10"},
)
SOURCE = caller(
    "topics",
    document(
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "*",
            "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:*:${aws:username}-topic"}},
        }
    ),
)
EMPTY_EQUALS_MISSING = caller(
    "empty",
    document(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}
            },
        }
    ),
)
NOT_IN_ACTION = caller(
    "Object", document({"Effect": "Allow", "Action": "s3:Get${aws:username}", "Resource": "*"})
)

VARIABLE_CASES = {
    "default-unused-when-tag-present": Ask(
        YELLOW, "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-yellow/a", True
    ),
    "tagged-user-not-in-company-wide": Ask(
        YELLOW, "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-company-wide/a", False
    ),
    "default-used-without-tag": Ask(
        UNTAGGED, "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-company-wide/a", True
    ),
    "untagged-user-not-in-team-bucket": Ask(
        UNTAGGED, "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-yellow/a", False
    ),
    "abac-same-team": Ask(
        BLUE, "s3:GetObject", OBJECT, True, {"s3:ExistingObjectTag/Team": "blue"}
    ),
    "abac-other-team": Ask(
        BLUE, "s3:GetObject", OBJECT, False, {"s3:ExistingObjectTag/Team": "red"}
    ),
    "abac-no-principal-tag-is-denied": Ask(
        NO_TEAM, "s3:GetObject", OBJECT, False, {"s3:ExistingObjectTag/Team": "blue"}
    ),
    "escaped-star-is-literal": Ask(
        escaped("arn:aws:s3:::b/a${*}b"), "s3:GetObject", "arn:aws:s3:::b/a*b", True
    ),
    "escaped-star-is-not-a-wildcard": Ask(
        escaped("arn:aws:s3:::b/a${*}b"), "s3:GetObject", "arn:aws:s3:::b/aXYb", False
    ),
    "escaped-question-mark": Ask(
        escaped("arn:aws:s3:::b/why${?}"), "s3:GetObject", "arn:aws:s3:::b/why?", True
    ),
    "escaped-question-not-a-wildcard": Ask(
        escaped("arn:aws:s3:::b/why${?}"), "s3:GetObject", "arn:aws:s3:::b/whyX", False
    ),
    "escaped-dollar": Ask(
        escaped("arn:aws:s3:::b/price${$}"), "s3:GetObject", "arn:aws:s3:::b/price$", True
    ),
    "malformed-default-is-literal-text": Ask(
        escaped("arn:aws:s3:::b/${aws:username, nope}"),
        "s3:GetObject",
        "arn:aws:s3:::b/${aws:username, nope}",
        True,
    ),
    "legacy-version-has-no-variables": Ask(LEGACY, "s3:GetObject", "arn:aws:s3:::b/David/x", False),
    "legacy-version-reads-text-as-written": Ask(
        LEGACY, "s3:GetObject", "arn:aws:s3:::b/${aws:username}/x", True
    ),
    "no-variables-in-numeric-operators": Ask(
        LIMIT, "s3:ListBucket", "arn:aws:s3:::b", False, {"s3:max-keys": "5"}
    ),
    "variables-in-arn-operators": Ask(
        SOURCE,
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:1:q",
        True,
        {"aws:SourceArn": "arn:aws:sns:us-east-1:1:topics-topic"},
    ),
    "no-value-equals-nothing-not-even-empty": Ask(
        EMPTY_EQUALS_MISSING, "s3:GetObject", OBJECT, False, {"s3:ExistingObjectTag/Team": ""}
    ),
    "no-variables-in-action": Ask(NOT_IN_ACTION, "s3:GetObject", "arn:aws:s3:::b/k", False),
}


@asks(VARIABLE_CASES)
def test_policy_variables(ask: Ask) -> None:
    assert allowed(ask) is ask.allowed


def test_variable_keys_ignore_case_and_multivalued_keys_are_not_variables() -> None:
    keys = ContextKeys.of({"AWS:UserName": "david", "aws:TagKeys": ["a"]})

    assert substitute("home/${aws:username}/*", keys.scalar) == (
        ("home/", True),
        ("david", False),
        ("/*", True),
    )
    assert substitute("${aws:TagKeys}", keys.scalar) is None
    assert substitute("${ aws:username , 'x' }", keys.scalar) == (("david", False),)
    assert substitute("${aws:missing, 'fallback'}", keys.scalar) == (("fallback", False),)


S3_DOC = "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"


@pytest.mark.parametrize(
    ("pattern", "resource", "matches"),
    [
        (S3_DOC, "arn:aws:s3:::amzn-s3-demo-bucket/1/test/object.jpg", True),
        (S3_DOC, "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test/3/object.jpg", True),
        (S3_DOC, "arn:aws:s3:::amzn-s3-demo-bucket/1///test///object.jpg", True),
        (S3_DOC, "arn:aws:s3:::amzn-s3-demo-bucket//test/object.jpg", True),
        (S3_DOC, "arn:aws:s3:::amzn-s3-demo-bucket/1/test/", True),
        (S3_DOC, "arn:aws:s3:::amzn-s3-demo-bucket/1-test/object.jpg", False),
        (S3_DOC, "arn:aws:s3:::amzn-s3-demo-bucket/test/object.jpg", False),
        (S3_DOC, "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test.jpg", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::Bucket/a", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("*", "arn:aws:s3:::anything/at/all", True),
        ("arn:aws:sqs:us-east-?:123456789012:q", "arn:aws:sqs:us-east-1:123456789012:q", True),
        ("arn:aws:sqs:us-?ast-1:123456789012:q", "arn:aws:sqs:us-:ast-1:123456789012:q", False),
        ("arn:aws:sqs:us-*-1:123456789012:q", "arn:aws:sqs:us-east:x-1:123456789012:q", False),
        (
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
            True,
        ),
        ("arn:aws:s3:::*log*", "arn:aws:s3:::carlossalazar-logs/a", True),
        ("arn:aws:s3:::b/a.c", "arn:aws:s3:::b/abc", False),
    ],
    ids=[
        "doc-one-level",
        "doc-nested",
        "doc-empty-levels",
        "doc-empty-first-level",
        "doc-trailing-empty",
        "doc-no-slash-before-test",
        "doc-nothing-before-test",
        "doc-no-test-folder",
        "case-sensitive",
        "bucket-is-not-its-objects",
        "star-is-everything",
        "question-in-segment",
        "question-never-a-colon",
        "star-inside-a-segment-stays-there",
        "star-ending-a-segment-expands",
        "resource-part-spans-anything",
        "dot-is-literal",
    ],
)
def test_resource_wildcards(pattern: str, resource: str, matches: bool) -> None:
    assert matches_resource(((pattern, True),), resource) is matches


def test_arn_operators_keep_a_segment_ending_star_within_its_segment() -> None:
    pattern = (("arn:aws:someservice:*:111122223333:finance/*", True),)
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"

    assert not matches_arn(pattern, value)
    assert matches_arn(pattern, "arn:aws:someservice:us-east-2:111122223333:finance/document.txt")


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("s3:GetObject", "s3:getobject", True),
        ("S3:Get*", "s3:GetObjectAcl", True),
        ("iam:*AccessKey*", "iam:ListAccessKeys", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:*", "s3-object-lambda:GetObject", False),
        ("*", "sts:AssumeRole", True),
    ],
    ids=[
        "exact-any-case",
        "prefix-any-case",
        "infix",
        "single-character",
        "other-verb",
        "other-service",
        "star",
    ],
)
def test_action_wildcards(pattern: str, action: str, matches: bool) -> None:
    assert matches_action(pattern, action) is matches
