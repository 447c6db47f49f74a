"""Condition operators decide whether a statement applies, as IAM documents them
("Condition operators", "Conditions with multiple context keys or values", the
multivalued context key examples)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from overcast.local.iam.conditions import OPERATORS
from overcast.local.iam.context import ContextValue
from overcast.local.iam.evaluation import AuthorizationRequest, Decision, PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.principals import Principal

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
NOW_EPOCH = str(int(NOW.timestamp()))
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Check:
    condition: dict[str, Any]
    context: Mapping[str, ContextValue]
    holds: bool
    principal: Principal = field(
        default_factory=lambda: Principal(
            arn=f"arn:aws:iam::{ACCOUNT}:user/alice", account_id=ACCOUNT, user_id="AIDAALICE"
        )
    )


def statement_applies(check: Check, effect: str = "Allow") -> bool:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": check.condition,
            }
        ],
    }
    principal = Principal(
        arn=check.principal.arn,
        account_id=check.principal.account_id,
        user_id=check.principal.user_id,
        policies=(Policy.parse(document),),
        context=check.principal.context,
        session_arn=check.principal.session_arn,
    )
    request = AuthorizationRequest(principal, "s3:GetObject", "arn:aws:s3:::b/k", check.context)
    decision = PolicyEvaluator(lambda: NOW).evaluate(request)
    expected_when_applies = Decision.ALLOW if effect == "Allow" else Decision.EXPLICIT_DENY
    return decision is expected_when_applies


def checks(table: dict[str, Check]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("check", list(table.values()), ids=list(table))


def c(operator: str, key: str, values: Any) -> dict[str, Any]:
    return {operator: {key: values}}


STRING = {
    "equals-match": Check(c("StringEquals", "s3:x", "a"), {"s3:x": "a"}, True),
    "equals-mismatch": Check(c("StringEquals", "s3:x", "a"), {"s3:x": "b"}, False),
    "equals-is-case-sensitive": Check(c("StringEquals", "s3:x", "Alice"), {"s3:x": "alice"}, False),
    "equals-missing-key-is-false": Check(c("StringEquals", "s3:x", "a"), {}, False),
    "values-are-ored": Check(c("StringEquals", "s3:x", ["a", "b"]), {"s3:x": "b"}, True),
    "not-equals-missing-key-is-true": Check(c("StringNotEquals", "s3:x", "a"), {}, True),
    "not-equals-same-value": Check(c("StringNotEquals", "s3:x", "a"), {"s3:x": "a"}, False),
    "not-equals-values-are-nored-hit": Check(
        c("StringNotEquals", "s3:x", ["a", "b"]), {"s3:x": "b"}, False
    ),
    "not-equals-values-are-nored-miss": Check(
        c("StringNotEquals", "s3:x", ["a", "b"]), {"s3:x": "c"}, True
    ),
    "equals-ignore-case": Check(
        c("StringEqualsIgnoreCase", "s3:x", "ALICE"), {"s3:x": "alice"}, True
    ),
    "not-equals-ignore-case": Check(
        c("StringNotEqualsIgnoreCase", "s3:x", "ALICE"), {"s3:x": "alice"}, False
    ),
    "like-star-crosses-slashes": Check(
        c("StringLike", "s3:prefix", "home/*"), {"s3:prefix": "home/a/b"}, True
    ),
    "like-question-one-character": Check(
        c("StringLike", "s3:x", "file?.txt"), {"s3:x": "file1.txt"}, True
    ),
    "like-question-not-two": Check(
        c("StringLike", "s3:x", "file?.txt"), {"s3:x": "file10.txt"}, False
    ),
    "like-needs-wildcards-for-partial": Check(
        c("StringLike", "s3:x", "home"), {"s3:x": "home/a"}, False
    ),
    "like-is-case-sensitive": Check(c("StringLike", "s3:x", "Home/*"), {"s3:x": "home/a"}, False),
    "not-like-missing-key-is-true": Check(c("StringNotLike", "s3:x", "a*"), {}, True),
    "not-like-matching-value": Check(c("StringNotLike", "s3:x", "a*"), {"s3:x": "abc"}, False),
    "brackets-are-not-wildcards": Check(c("StringLike", "s3:x", "[ab]"), {"s3:x": "a"}, False),
    "multivalued-key-without-qualifier": Check(
        c("StringEquals", "s3:x", "a"), {"s3:x": ["b", "a"]}, True
    ),
    "key-names-ignore-case": Check(
        c("StringEquals", "AWS:SourceVpc", "vpc-1"), {"aws:sourcevpc": "vpc-1"}, True
    ),
    "values-keep-case": Check(
        c("StringEquals", "aws:SourceVpc", "VPC-1"), {"aws:SourceVpc": "vpc-1"}, False
    ),
}

IF_EXISTS_AND_NULL = {
    "if-exists-missing-key-is-true": Check(
        c("StringLikeIfExists", "ec2:InstanceType", "t2.*"), {}, True
    ),
    "if-exists-present-key-decides": Check(
        c("StringLikeIfExists", "ec2:InstanceType", ["t1.*", "t2.*", "m3.*"]),
        {"ec2:InstanceType": "c5.large"},
        False,
    ),
    "if-exists-present-key-matches": Check(
        c("StringLikeIfExists", "ec2:InstanceType", ["t1.*", "t2.*", "m3.*"]),
        {"ec2:InstanceType": "t2.micro"},
        True,
    ),
    "negated-if-exists-missing-key-is-true": Check(
        c("StringNotEqualsIfExists", "s3:x", "a"), {}, True
    ),
    "numeric-if-exists-missing": Check(c("NumericLessThanIfExists", "s3:max-keys", "10"), {}, True),
    "null-true-key-absent": Check(c("Null", "aws:TokenIssueTime", "true"), {}, True),
    "null-true-key-present": Check(
        c("Null", "aws:TokenIssueTime", "true"),
        {"aws:TokenIssueTime": "2024-05-01T00:00:00Z"},
        False,
    ),
    "null-false-key-present": Check(
        c("Null", "aws:TokenIssueTime", False), {"aws:TokenIssueTime": "x"}, True
    ),
    "null-false-key-absent": Check(c("Null", "aws:TokenIssueTime", "false"), {}, False),
    "null-empty-set-is-absent": Check(c("Null", "aws:TagKeys", "true"), {"aws:TagKeys": []}, True),
}

TYPED = {
    "bool-secure-transport-false": Check(
        c("Bool", "aws:SecureTransport", "false"), {"aws:SecureTransport": "false"}, True
    ),
    "bool-secure-transport-true": Check(
        c("Bool", "aws:SecureTransport", "false"), {"aws:SecureTransport": "true"}, False
    ),
    "bool-json-true-ignores-case": Check(
        c("Bool", "aws:MultiFactorAuthPresent", True), {"aws:MultiFactorAuthPresent": "TRUE"}, True
    ),
    "max-keys-at-limit": Check(
        c("NumericLessThanEquals", "s3:max-keys", "10"), {"s3:max-keys": "10"}, True
    ),
    "max-keys-over-limit": Check(
        c("NumericLessThanEquals", "s3:max-keys", "10"), {"s3:max-keys": "11"}, False
    ),
    "max-keys-not-a-number": Check(
        c("NumericLessThanEquals", "s3:max-keys", "10"), {"s3:max-keys": "ten"}, False
    ),
    "max-keys-missing": Check(c("NumericLessThanEquals", "s3:max-keys", "10"), {}, False),
    "numeric-decimal": Check(c("NumericGreaterThan", "s3:x", "10"), {"s3:x": "10.5"}, True),
    "numeric-equals-ignores-notation": Check(
        c("NumericEquals", "s3:x", 10), {"s3:x": "10.0"}, True
    ),
    "numeric-not-equals": Check(c("NumericNotEquals", "s3:x", ["5", "6"]), {"s3:x": "7"}, True),
    "numeric-not-equals-hit": Check(
        c("NumericNotEquals", "s3:x", ["5", "6"]), {"s3:x": "6"}, False
    ),
    "numeric-greater-than-equals": Check(
        c("NumericGreaterThanEquals", "s3:x", "3"), {"s3:x": "3"}, True
    ),
    "numeric-less-than": Check(c("NumericLessThan", "s3:x", "3"), {"s3:x": "3"}, False),
    "current-time-before-deadline": Check(
        c("DateLessThan", "aws:CurrentTime", "2024-06-01T00:00:00Z"), {}, True
    ),
    "current-time-not-after-deadline": Check(
        c("DateGreaterThan", "aws:CurrentTime", "2024-06-01T00:00:00Z"), {}, False
    ),
    "current-time-equals-epoch-value": Check(
        c("DateEquals", "aws:CurrentTime", NOW_EPOCH), {}, True
    ),
    "epoch-time-equals-iso-value": Check(
        c("DateEquals", "aws:EpochTime", "2024-05-01T12:00:00Z"), {}, True
    ),
    "epoch-time-at-or-after": Check(
        c("DateGreaterThanEquals", "aws:EpochTime", NOW_EPOCH), {}, True
    ),
    "date-less-than-equals": Check(
        c("DateLessThanEquals", "aws:CurrentTime", "2024-05-01T12:00:00+00:00"), {}, True
    ),
    "date-not-equals": Check(
        c("DateNotEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z"), {}, True
    ),
    "date-naive-is-utc": Check(c("DateEquals", "aws:CurrentTime", "2024-05-01T12:00:00"), {}, True),
    "date-with-offset": Check(
        c("DateEquals", "aws:CurrentTime", "2024-05-01T14:00:00+02:00"), {}, True
    ),
    "token-issued-in-2020": Check(
        c("DateGreaterThan", "aws:TokenIssueTime", "2020-01-01T00:00:01Z"),
        {"aws:TokenIssueTime": "2020-06-01T00:00:00Z"},
        True,
    ),
    "date-unreadable": Check(c("DateLessThan", "aws:CurrentTime", "soon"), {}, False),
    "current-time-comes-from-the-clock": Check(
        c("DateLessThan", "aws:CurrentTime", "2025-01-01T00:00:00Z"),
        {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        True,
    ),
    "ip-in-range": Check(
        c("IpAddress", "aws:SourceIp", "203.0.113.0/24"), {"aws:SourceIp": "203.0.113.7"}, True
    ),
    "ip-out-of-range": Check(
        c("IpAddress", "aws:SourceIp", "203.0.113.0/24"), {"aws:SourceIp": "198.51.100.1"}, False
    ),
    "ip-without-prefix-is-slash-32": Check(
        c("IpAddress", "aws:SourceIp", "203.0.113.7"), {"aws:SourceIp": "203.0.113.8"}, False
    ),
    "ip-exact-address": Check(
        c("IpAddress", "aws:SourceIp", "203.0.113.7"), {"aws:SourceIp": "203.0.113.7"}, True
    ),
    "ipv6-in-range": Check(
        c("IpAddress", "aws:SourceIp", ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]),
        {"aws:SourceIp": "2001:db8:1234:5678::1"},
        True,
    ),
    "not-ip-address-inside": Check(
        c("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"), {"aws:SourceIp": "203.0.113.7"}, False
    ),
    "not-ip-address-outside": Check(
        c("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"), {"aws:SourceIp": "198.51.100.1"}, True
    ),
    "ip-missing-key": Check(c("IpAddress", "aws:SourceIp", "203.0.113.0/24"), {}, False),
    "not-ip-missing-key": Check(c("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"), {}, True),
    "ip-unreadable": Check(
        c("IpAddress", "aws:SourceIp", "203.0.113.0/24"), {"aws:SourceIp": "local"}, False
    ),
}

ARN_DOC_PATTERN = "arn:aws:someservice:*:111122223333:finance/*"
ARN_DOC_VALUE = (
    "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
)
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:uploads"
ARN = {
    "string-like-spans-components": Check(
        c("StringLike", "aws:SourceArn", ARN_DOC_PATTERN), {"aws:SourceArn": ARN_DOC_VALUE}, True
    ),
    "arn-like-checks-each-component": Check(
        c("ArnLike", "aws:SourceArn", ARN_DOC_PATTERN), {"aws:SourceArn": ARN_DOC_VALUE}, False
    ),
    "arn-equals-exact-topic": Check(
        c("ArnEquals", "aws:SourceArn", TOPIC), {"aws:SourceArn": TOPIC}, True
    ),
    "arn-equals-takes-wildcards-too": Check(
        c("ArnEquals", "aws:SourceArn", "arn:aws:sns:*:*:upl??ds"), {"aws:SourceArn": TOPIC}, True
    ),
    "arn-like-other-topic": Check(
        c("ArnLike", "aws:SourceArn", "arn:aws:sns:*:*:orders"), {"aws:SourceArn": TOPIC}, False
    ),
    "arn-like-resource-part-takes-colons": Check(
        c("ArnLike", "aws:SourceArn", "arn:aws:logs:*:*:log-group:*"),
        {"aws:SourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:app:log-stream:1"},
        True,
    ),
    "arn-not-like-missing-key": Check(c("ArnNotLike", "aws:SourceArn", TOPIC), {}, True),
    "arn-not-equals-same": Check(
        c("ArnNotEquals", "aws:SourceArn", TOPIC), {"aws:SourceArn": TOPIC}, False
    ),
}

TAG_KEYS = "aws:TagKeys"
ENV_OR_COST = ["environment", "cost-center"]
ALL_VALUES_WITH_NULL = {
    "ForAllValues:StringEquals": {TAG_KEYS: ENV_OR_COST},
    "Null": {TAG_KEYS: "false"},
}
SETS = {
    "any-value-one-listed": Check(
        c("ForAnyValue:StringEquals", TAG_KEYS, ENV_OR_COST), {TAG_KEYS: ["environment"]}, True
    ),
    "any-value-both-listed": Check(
        c("ForAnyValue:StringEquals", TAG_KEYS, ENV_OR_COST),
        {TAG_KEYS: ["environment", "cost-center"]},
        True,
    ),
    "any-value-one-of-two": Check(
        c("ForAnyValue:StringEquals", TAG_KEYS, ENV_OR_COST),
        {TAG_KEYS: ["environment", "dept"]},
        True,
    ),
    "any-value-none-listed": Check(
        c("ForAnyValue:StringEquals", TAG_KEYS, ENV_OR_COST), {TAG_KEYS: ["dept"]}, False
    ),
    "any-value-key-absent": Check(c("ForAnyValue:StringEquals", TAG_KEYS, ENV_OR_COST), {}, False),
    "any-value-if-exists-key-absent": Check(
        c("ForAnyValue:StringEqualsIfExists", TAG_KEYS, ["team"]), {}, False
    ),
    "all-values-each-listed": Check(
        ALL_VALUES_WITH_NULL, {TAG_KEYS: ["environment", "cost-center"]}, True
    ),
    "all-values-one-listed": Check(ALL_VALUES_WITH_NULL, {TAG_KEYS: ["cost-center"]}, True),
    "all-values-one-unlisted": Check(
        ALL_VALUES_WITH_NULL, {TAG_KEYS: ["environment", "dept"]}, False
    ),
    "all-values-absent-but-null-check": Check(ALL_VALUES_WITH_NULL, {}, False),
    "all-values-absent-is-true": Check(
        c("ForAllValues:StringEquals", TAG_KEYS, ENV_OR_COST), {}, True
    ),
    "all-values-empty-set-is-true": Check(
        c("ForAllValues:StringEquals", TAG_KEYS, ENV_OR_COST), {TAG_KEYS: []}, True
    ),
    "all-values-not-like-one-prefixed": Check(
        c("ForAllValues:StringNotLike", TAG_KEYS, "key1*"), {TAG_KEYS: ["key1:legal"]}, False
    ),
    "all-values-not-like-all-prefixed": Check(
        c("ForAllValues:StringNotLike", TAG_KEYS, "key1*"),
        {TAG_KEYS: ["key1:hr", "key1:personnel"]},
        False,
    ),
    "all-values-not-like-none-prefixed": Check(
        c("ForAllValues:StringNotLike", TAG_KEYS, "key1*"), {TAG_KEYS: ["key2:audit"]}, True
    ),
    "all-values-not-like-absent": Check(
        c("ForAllValues:StringNotLike", TAG_KEYS, "key1*"), {}, True
    ),
    "any-value-not-equals-one-unlisted": Check(
        c("ForAnyValue:StringNotEquals", TAG_KEYS, ["DataClass", "Owner"]),
        {TAG_KEYS: ["DataClass", "Dept"]},
        True,
    ),
    "any-value-not-equals-all-listed": Check(
        c("ForAnyValue:StringNotEquals", TAG_KEYS, ["DataClass", "Owner"]),
        {TAG_KEYS: ["DataClass"]},
        False,
    ),
    "any-value-like-amr": Check(
        c("ForAnyValue:StringLike", "cognito-identity.amazonaws.com:amr", "authenticated"),
        {"cognito-identity.amazonaws.com:amr": ["authenticated", "cognito-idp.example/pool,sub"]},
        True,
    ),
}

COMBINED = {
    "keys-are-anded-both": Check(
        {"StringEquals": {"s3:a": "1", "s3:b": "2"}}, {"s3:a": "1", "s3:b": "2"}, True
    ),
    "keys-are-anded-one-fails": Check(
        {"StringEquals": {"s3:a": "1", "s3:b": "2"}}, {"s3:a": "1", "s3:b": "3"}, False
    ),
    "operators-are-anded": Check(
        {"StringEquals": {"s3:a": "1"}, "Bool": {"aws:SecureTransport": "true"}},
        {"s3:a": "1", "aws:SecureTransport": "false"},
        False,
    ),
}


@checks(STRING | IF_EXISTS_AND_NULL | TYPED | ARN | SETS | COMBINED)
def test_condition_decides_whether_an_allow_applies(check: Check) -> None:
    assert statement_applies(check) is check.holds


DENY_CHECKS = {
    "deny-without-tls": Check(
        c("Bool", "aws:SecureTransport", "false"), {"aws:SecureTransport": "false"}, True
    ),
    "no-deny-with-tls": Check(
        c("Bool", "aws:SecureTransport", "false"), {"aws:SecureTransport": "true"}, False
    ),
    "negated-if-exists-deny-still-denies-missing-tag": Check(
        c("StringNotEqualsIfExists", "aws:ResourceTag/team", "blue"), {}, True
    ),
    "any-value-deny-needs-the-key": Check(
        c("ForAnyValue:StringEquals", TAG_KEYS, ["Project"]), {}, False
    ),
}


@checks(DENY_CHECKS)
def test_condition_decides_whether_a_deny_applies(check: Check) -> None:
    assert statement_applies(check, effect="Deny") is check.holds


SESSION = Principal(
    arn=f"arn:aws:iam::{ACCOUNT}:role/todo-authenticated",
    account_id=ACCOUNT,
    user_id="AROAEXAMPLE:alice",
    session_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/todo-authenticated/alice",
)
ROOT = Principal(
    arn=f"arn:aws:iam::{ACCOUNT}:root", account_id=ACCOUNT, user_id=ACCOUNT, is_root=True
)
GLOBAL_KEYS = {
    "principal-arn-of-session-is-role": Check(
        c("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/todo-*"), {}, True, SESSION
    ),
    "principal-arn-cannot-be-spoofed": Check(
        c("StringEquals", "aws:PrincipalArn", "arn:aws:iam::999999999999:role/admin"),
        {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/admin"},
        False,
        SESSION,
    ),
    "principal-account": Check(
        c("StringEquals", "aws:PrincipalAccount", ACCOUNT), {}, True, SESSION
    ),
    "userid-of-session": Check(c("StringLike", "aws:userid", "AROA*:alice"), {}, True, SESSION),
    "username-of-iam-user": Check(c("StringEquals", "aws:username", "alice"), {}, True),
    "username-absent-for-sessions": Check(c("Null", "aws:username", "true"), {}, True, SESSION),
    "principal-type-user": Check(c("StringEquals", "aws:PrincipalType", "User"), {}, True),
    "principal-type-assumed-role": Check(
        c("StringEquals", "aws:PrincipalType", "AssumedRole"), {}, True, SESSION
    ),
    "principal-type-root": Check(c("StringEquals", "aws:PrincipalType", "Account"), {}, True, ROOT),
    "username-from-principal-context": Check(
        c("StringEquals", "aws:username", "alice@example.com"),
        {},
        True,
        Principal(
            arn=SESSION.arn,
            account_id=ACCOUNT,
            user_id=SESSION.user_id,
            session_arn=SESSION.session_arn,
            context={"aws:username": "alice@example.com"},
        ),
    ),
}


@checks(GLOBAL_KEYS)
def test_evaluator_supplies_global_condition_keys(check: Check) -> None:
    assert statement_applies(check) is check.holds


def test_anonymous_callers_have_the_documented_user_id() -> None:
    bucket_policy = Policy.parse(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/${aws:userid}/*",
            },
        }
    )
    evaluator = PolicyEvaluator(lambda: NOW)

    assert evaluator.allowed(
        AuthorizationRequest(None, "s3:GetObject", "arn:aws:s3:::b/anonymous/x"), [bucket_policy]
    )
    assert not evaluator.allowed(
        AuthorizationRequest(None, "s3:GetObject", "arn:aws:s3:::b/other/x"), [bucket_policy]
    )


def test_naive_clock_is_read_as_utc() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"DateEquals": {"aws:EpochTime": NOW_EPOCH}},
        },
    }
    caller = Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:user/a",
        account_id=ACCOUNT,
        user_id="A",
        policies=(Policy.parse(document),),
    )
    naive = PolicyEvaluator(lambda: NOW.replace(tzinfo=None))

    assert naive.allowed(AuthorizationRequest(caller, "s3:GetObject", "arn:aws:s3:::b/k"))


@pytest.mark.parametrize("operator", sorted(OPERATORS - {"Null"}))
def test_every_operator_is_false_for_a_missing_key_unless_negated(operator: str) -> None:
    negated = "Not" in operator
    check = Check(c(operator, "s3:absent", "1"), {}, negated)

    assert statement_applies(check) is check.holds
