"""Policy documents are parsed as IAM reads them, and malformed ones are refused with a
message that says what is wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from overcast.local.iam.conditions import OPERATORS
from overcast.local.iam.policy import (
    CURRENT_VERSION,
    LEGACY_VERSION,
    Effect,
    MalformedPolicy,
    Policy,
    Principals,
)
from overcast.policies import identity_pool_trust_policy, user_folder_policy


def document(**statement: Any) -> dict[str, Any]:
    """A one-statement identity policy, overridden by ``statement`` (None removes)."""
    base: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    base.update(statement)
    return {
        "Version": "2012-10-17",
        "Statement": [{k: v for k, v in base.items() if v is not None}],
    }


def test_user_folder_policy_parses_into_its_two_statements() -> None:
    policy = Policy.parse(user_folder_policy("photos"))

    listing, objects = policy.statements
    assert listing.sid == "ListYourFolder"
    assert listing.actions == ("s3:ListBucket",)
    assert listing.resources == ("arn:aws:s3:::photos",)
    assert listing.conditions[0].test == "StringLike"
    assert listing.conditions[0].key == "s3:prefix"
    assert objects.effect is Effect.ALLOW
    assert "s3:PutObject" in objects.actions
    assert objects.resources == ("arn:aws:s3:::photos/${cognito-identity.amazonaws.com:sub}/*",)
    assert policy.has_variables


def test_trust_policy_parses_without_resource_and_with_a_federated_principal() -> None:
    policy = Policy.parse(identity_pool_trust_policy("us-east-1:pool"))

    (statement,) = policy.statements
    assert statement.resources is None
    assert statement.principals == Principals(
        federated=frozenset({"cognito-identity.amazonaws.com"})
    )
    amr = next(c for c in statement.conditions if c.key.endswith(":amr"))
    assert (amr.qualifier, amr.test, amr.if_exists) == ("ForAnyValue", "StringLike", False)


def test_json_text_with_a_single_statement_object_parses() -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::b"},
        }
    )

    (statement,) = Policy.parse(text).statements

    assert statement.effect is Effect.DENY
    assert (statement.actions, statement.not_action) == (("iam:*",), True)
    assert (statement.resources, statement.not_resource) == (("arn:aws:s3:::b",), True)


def test_policy_without_version_is_read_as_2008_without_variables() -> None:
    body = document()
    del body["Version"]

    policy = Policy.parse(body)

    assert policy.version == LEGACY_VERSION
    assert not policy.has_variables


def test_condition_numbers_and_booleans_become_their_json_text() -> None:
    body = document(
        Condition={
            "NumericLessThanEquals": {"s3:max-keys": 10},
            "Bool": {"aws:SecureTransport": [True, False]},
        }
    )

    numeric, boolean = Policy.parse(body).statements[0].conditions

    assert numeric.values == ("10",)
    assert boolean.values == ("true", "false")


@pytest.mark.parametrize(
    ("operator", "qualifier", "test", "if_exists"),
    [
        ("StringEqualsIfExists", None, "StringEquals", True),
        ("ForAllValues:StringLike", "ForAllValues", "StringLike", False),
        ("ForAnyValue:ArnNotLikeIfExists", "ForAnyValue", "ArnNotLike", True),
        ("NotIpAddress", None, "NotIpAddress", False),
        ("DateGreaterThanEqualsIfExists", None, "DateGreaterThanEquals", True),
        ("Null", None, "Null", False),
    ],
    ids=["if-exists", "for-all-values", "qualified-and-if-exists", "negated", "date", "null"],
)
def test_condition_operators_are_split_into_qualifier_test_and_if_exists(
    operator: str, qualifier: str | None, test: str, if_exists: bool
) -> None:
    (condition,) = (
        Policy.parse(document(Condition={operator: {"k:k": "v"}})).statements[0].conditions
    )

    assert (condition.qualifier, condition.test, condition.if_exists) == (
        qualifier,
        test,
        if_exists,
    )


@pytest.mark.parametrize("operator", sorted(OPERATORS - {"Null"}))
def test_every_known_operator_parses_with_if_exists_and_set_qualifiers(operator: str) -> None:
    for name in (operator, operator + "IfExists", "ForAnyValue:" + operator):
        assert Policy.parse(document(Condition={name: {"k:k": "v"}})).statements[0].conditions


def test_resource_policy_statements_parse_principals_by_type() -> None:
    body = document(
        Principal={
            "AWS": ["123456789012", "arn:aws:iam::123456789012:role/r"],
            "Service": "s.amazonaws.com",
        }
    )

    principals = Policy.parse(body).statements[0].principals

    assert principals == Principals(
        aws=frozenset({"123456789012", "arn:aws:iam::123456789012:role/r"}),
        service=frozenset({"s.amazonaws.com"}),
    )


MALFORMED: list[tuple[str, Any, str]] = [
    ("not-json", "{not json", "Syntax errors in policy"),
    ("not-an-object", "[1, 2]", "must be a JSON object"),
    ("bad-version", {**document(), "Version": "2012-10-18"}, "Version '2012-10-18' is not valid"),
    ("unknown-top-element", {**document(), "Statment": []}, "unknown element 'Statment'"),
    ("no-statement", {"Version": CURRENT_VERSION}, "has no Statement"),
    ("empty-statement-list", {"Version": CURRENT_VERSION, "Statement": []}, "non-empty list"),
    ("statement-not-object", {"Version": CURRENT_VERSION, "Statement": ["x"]}, "JSON object"),
    ("unknown-statement-element", document(Actions="s3:*"), "unknown element 'Actions'"),
    ("effect-lower-case", document(Effect="allow"), "must be 'Allow' or 'Deny'"),
    ("no-effect", document(Effect=None), "must be 'Allow' or 'Deny'"),
    ("no-action", document(Action=None), "must have Action or NotAction"),
    ("action-and-not-action", document(NotAction="s3:*"), "both Action and NotAction"),
    ("action-without-vendor", document(Action="GetObject"), "prefaced by a vendor"),
    ("action-empty-list", document(Action=[]), "string or a list of strings"),
    ("action-not-string", document(Action=[1]), "string or a list of strings"),
    (
        "no-resource-in-identity-policy",
        document(Resource=None),
        "must have Resource or NotResource",
    ),
    ("resource-and-not-resource", document(NotResource="*"), "both Resource and NotResource"),
    ("resource-not-arn", document(Resource="bucket/key"), 'must be in ARN format or "*"'),
    (
        "principal-and-not-principal",
        document(Principal="*", NotPrincipal="*"),
        "both Principal and NotPrincipal",
    ),
    ("principal-unknown-type", document(Principal={"User": "x"}), "unknown type 'User'"),
    (
        "principal-wildcard-arn",
        document(Principal={"AWS": "arn:aws:iam::1:role/*"}),
        "Invalid principal",
    ),
    ("principal-not-arn", document(Principal={"AWS": "bob"}), "Invalid principal"),
    ("principal-empty", document(Principal={}), "Invalid principal"),
    ("sid-not-string", document(Sid=3), "Sid"),
    ("unknown-operator", document(Condition={"StringEqualz": {"k:k": "v"}}), "StringEqualz"),
    ("unknown-qualifier", document(Condition={"ForSome:StringLike": {"k:k": "v"}}), "ForSome"),
    ("null-if-exists", document(Condition={"NullIfExists": {"k:k": "true"}}), "Null takes no"),
    ("binary-unsupported", document(Condition={"BinaryEquals": {"k:k": "QQ=="}}), "not supported"),
    ("condition-not-object", document(Condition=["StringLike"]), "must be a JSON object"),
    ("condition-keys-not-object", document(Condition={"StringLike": "x"}), "map keys to values"),
    (
        "condition-value-object",
        document(Condition={"StringLike": {"k:k": {"a": 1}}}),
        "strings, num",
    ),
    (
        "mixed-identity-and-resource-statements",
        {
            "Version": CURRENT_VERSION,
            "Statement": [
                document()["Statement"][0],
                {**document()["Statement"][0], "Principal": "*"},
            ],
        },
        "mixes both",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"),
    [(body, message) for _, body, message in MALFORMED],
    ids=[m[0] for m in MALFORMED],
)
def test_malformed_documents_are_refused_with_what_is_wrong(body: Any, message: str) -> None:
    with pytest.raises(MalformedPolicy) as refused:
        Policy.parse(body)

    assert message in str(refused.value)
    assert isinstance(refused.value, ValueError)


def test_error_names_the_statement_by_sid() -> None:
    body = document(Sid="ReadPhotos", Effect="Permit")

    with pytest.raises(MalformedPolicy, match="statement 'ReadPhotos'"):
        Policy.parse(body)
