"""IAM policy documents, parsed and checked the way IAM checks one before storing it.

The grammar mirrored ("IAM JSON policy element reference", "Grammar of the IAM JSON
policy language"):

- ``Version`` is ``2012-10-17`` or ``2008-10-17``; without one, a policy is read as
  ``2008-10-17`` (where "variables ... are treated as literal strings"). ``Id`` is
  optional. ``Statement`` is one statement object or a list of them.
- A statement has an ``Effect`` of ``Allow`` or ``Deny`` (case-sensitive), ``Action``
  or ``NotAction`` ("Statements must include either an Action or NotAction element";
  not both), ``Resource`` or ``NotResource`` (not both), optionally ``Principal`` or
  ``NotPrincipal`` (not both), ``Condition`` and ``Sid``. Other elements are errors.
- Identity policies name no principal and must have ``Resource``/``NotResource``.
  Resource policies name one in every statement; role trust policies omit
  ``Resource`` (the role is the resource), so a statement with a principal may too.
  A document mixing the two kinds is refused.
- "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc." and a
  resource "must be in ARN format or ``*``" (IAM's own messages).
- A principal is ``"*"`` or an object whose keys are ``AWS`` (``"*"``, an account id,
  or an ARN — "you cannot use a wildcard to match part of a principal name or ARN"),
  ``Service``, ``Federated`` or ``CanonicalUser``.
- A ``Condition`` maps known operators (optionally ``ForAllValues:`` / ``ForAnyValue:``
  qualified, optionally ``...IfExists`` — "except the Null condition") to keys and
  values. Numbers and booleans in condition values are read as their JSON text
  (``10`` is ``"10"``, ``true`` is ``"true"``).

Errors are :class:`MalformedPolicy`, whose message says what is wrong and where, as
IAM's ``MalformedPolicyDocument`` does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from overcast.local.iam.conditions import FOR_ALL_VALUES, FOR_ANY_VALUE, NULL, OPERATORS

CURRENT_VERSION = "2012-10-17"
LEGACY_VERSION = "2008-10-17"
_VERSIONS = (CURRENT_VERSION, LEGACY_VERSION)
_POLICY_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction"}
    | {"Resource", "NotResource", "Condition"}
)
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_QUALIFIERS = (FOR_ALL_VALUES, FOR_ANY_VALUE)
_IF_EXISTS = "IfExists"
_UNSUPPORTED_OPERATORS = frozenset({"BinaryEquals"})


class MalformedPolicy(ValueError):
    """The document is not a valid IAM policy; the message says why."""


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Principals:
    """A ``Principal`` or ``NotPrincipal`` element: who a statement names.

    ``everyone`` is ``"*"``; the sets hold the values listed under each type.
    """

    everyone: bool = False
    aws: frozenset[str] = frozenset()
    service: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    canonical_user: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Condition:
    """One key under one operator, e.g. ``ForAnyValue:StringLike`` on ``...:amr``."""

    operator: str  # as written
    test: str  # the operator without qualifier or IfExists, e.g. "StringLike"
    qualifier: str | None  # "ForAllValues", "ForAnyValue" or None
    if_exists: bool
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """A statement; ``resources`` None when the element is absent (trust policies)."""

    effect: Effect
    actions: tuple[str, ...]
    resources: tuple[str, ...] | None = None
    principals: Principals | None = None
    conditions: tuple[Condition, ...] = ()
    not_action: bool = False
    not_resource: bool = False
    not_principal: bool = False
    sid: str | None = None


@dataclass(frozen=True)
class Policy:
    """A parsed, valid policy document."""

    statements: tuple[Statement, ...]
    version: str = CURRENT_VERSION
    id: str | None = None

    @property
    def has_variables(self) -> bool:
        """Whether ``${...}`` are policy variables here (only in ``2012-10-17``)."""
        return self.version == CURRENT_VERSION

    @classmethod
    def parse(cls, document: str | Mapping[str, Any]) -> Policy:
        """Parse and validate ``document`` (JSON text or already decoded)."""
        body = _load(document)
        _only(body, _POLICY_ELEMENTS, "policy")
        version = body.get("Version", LEGACY_VERSION)
        if version not in _VERSIONS:
            raise MalformedPolicy(
                f"The policy Version {version!r} is not valid; use {CURRENT_VERSION!r}."
            )
        policy_id = body.get("Id")
        if policy_id is not None and not isinstance(policy_id, str):
            raise MalformedPolicy("The policy Id must be a string.")
        statements = _statements(body.get("Statement"))
        _one_kind(statements)
        return cls(statements, version, policy_id)


def _load(document: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise MalformedPolicy(f"Syntax errors in policy: {error}.") from error
    if not isinstance(document, Mapping):
        raise MalformedPolicy("Syntax errors in policy: the document must be a JSON object.")
    return document


def _only(element: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(element) - allowed)
    if unknown:
        raise MalformedPolicy(
            f"Syntax errors in policy: unknown element {unknown[0]!r} in {where}."
        )


def _statements(raw: Any) -> tuple[Statement, ...]:
    if raw is None:
        raise MalformedPolicy("The policy has no Statement.")
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list) or not items:
        raise MalformedPolicy("Statement must be a statement object or a non-empty list of them.")
    return tuple(_statement(item, index) for index, item in enumerate(items))


def _one_kind(statements: tuple[Statement, ...]) -> None:
    naming = {statement.principals is not None for statement in statements}
    if len(naming) > 1:
        raise MalformedPolicy(
            "Either every statement names a Principal (a resource policy) or none does "
            "(an identity policy); this policy mixes both."
        )


def _statement(raw: Any, index: int) -> Statement:
    if not isinstance(raw, Mapping):
        raise MalformedPolicy(f"Statement {index + 1} must be a JSON object.")
    sid = raw.get("Sid")
    where = f"statement {sid!r}" if isinstance(sid, str) else f"statement {index + 1}"
    _only(raw, _STATEMENT_ELEMENTS, where)
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicy(f"The Sid of {where} must be a string.")
    principals, not_principal = _principals(raw, where)
    actions, not_action = _exclusive(raw, "Action", where)
    resources, not_resource = _exclusive(raw, "Resource", where, required=principals is None)
    for action in actions or ():
        _check_action(action)
    for resource in resources or ():
        _check_resource(resource)
    return Statement(
        effect=_effect(raw.get("Effect"), where),
        actions=actions or (),
        resources=resources,
        principals=principals,
        conditions=_conditions(raw.get("Condition"), where),
        not_action=not_action,
        not_resource=not_resource,
        not_principal=not_principal,
        sid=sid,
    )


def _effect(raw: Any, where: str) -> Effect:
    for effect in Effect:
        if raw == effect.value:
            return effect
    raise MalformedPolicy(f"The Effect of {where} must be 'Allow' or 'Deny', not {raw!r}.")


def _exclusive(
    raw: Mapping[str, Any], name: str, where: str, *, required: bool = True
) -> tuple[tuple[str, ...] | None, bool]:
    negated_name = "Not" + name
    if name in raw and negated_name in raw:
        raise MalformedPolicy(f"{where.capitalize()} has both {name} and {negated_name}.")
    if name not in raw and negated_name not in raw:
        if required:
            raise MalformedPolicy(f"{where.capitalize()} must have {name} or {negated_name}.")
        return None, False
    negated = negated_name in raw
    element = negated_name if negated else name
    return _strings(raw[element], f"{element} of {where}"), negated


def _strings(raw: Any, what: str) -> tuple[str, ...]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise MalformedPolicy(f"{what[0].upper()}{what[1:]} must be a string or a list of strings.")
    return tuple(values)


def _check_action(action: str) -> None:
    vendor, colon, name = action.partition(":")
    if action != "*" and not (vendor and colon and name):
        raise MalformedPolicy(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.: "
            f"{action!r}."
        )


def _check_resource(resource: str) -> None:
    if resource != "*" and not resource.startswith("arn:"):
        raise MalformedPolicy(f'Resource {resource} must be in ARN format or "*".')


def _principals(raw: Mapping[str, Any], where: str) -> tuple[Principals | None, bool]:
    if "Principal" in raw and "NotPrincipal" in raw:
        raise MalformedPolicy(f"{where.capitalize()} has both Principal and NotPrincipal.")
    negated = "NotPrincipal" in raw
    element = raw.get("NotPrincipal" if negated else "Principal")
    if element is None:
        return None, False
    if element == "*":
        return Principals(everyone=True), negated
    if not isinstance(element, Mapping) or not element:
        raise MalformedPolicy(f"Invalid principal in policy ({where}): {element!r}.")
    unknown = sorted(set(element) - set(_PRINCIPAL_TYPES))
    if unknown:
        raise MalformedPolicy(
            f"Invalid principal in policy ({where}): unknown type {unknown[0]!r}."
        )
    listed = {
        kind: frozenset(_strings(element[kind], f"principal {kind} of {where}"))
        for kind in _PRINCIPAL_TYPES
        if kind in element
    }
    for value in listed.get("AWS", frozenset()):
        _check_aws_principal(value, where)
    return Principals(
        aws=listed.get("AWS", frozenset()),
        service=listed.get("Service", frozenset()),
        federated=listed.get("Federated", frozenset()),
        canonical_user=listed.get("CanonicalUser", frozenset()),
    ), negated


def _check_aws_principal(value: str, where: str) -> None:
    if value == "*" or value.isdigit():
        return
    if not value.startswith("arn:") or "*" in value or "?" in value:
        raise MalformedPolicy(f"Invalid principal in policy ({where}): {value!r}.")


def _conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise MalformedPolicy(f"The Condition of {where} must be a JSON object.")
    conditions: list[Condition] = []
    for operator_name, keys in raw.items():
        qualifier, test, if_exists = _operator(operator_name, where)
        if not isinstance(keys, Mapping) or not keys:
            raise MalformedPolicy(f"Condition {operator_name} of {where} must map keys to values.")
        for key, values in keys.items():
            conditions.append(
                Condition(
                    operator_name, test, qualifier, if_exists, key, _values(values, key, where)
                )
            )
    return tuple(conditions)


def _operator(name: str, where: str) -> tuple[str | None, str, bool]:
    qualifier, colon, rest = name.rpartition(":")
    if colon and qualifier not in _QUALIFIERS:
        raise MalformedPolicy(
            f"Invalid condition qualifier {qualifier!r} in {where}: "
            "use ForAllValues or ForAnyValue."
        )
    if_exists = rest.endswith(_IF_EXISTS) and rest != _IF_EXISTS
    test = rest.removesuffix(_IF_EXISTS) if if_exists else rest
    if test in _UNSUPPORTED_OPERATORS:
        raise MalformedPolicy(f"Condition operator {test} ({where}) is not supported locally.")
    if test not in OPERATORS:
        raise MalformedPolicy(f"Unknown condition operator {name!r} in {where}.")
    if test == NULL and (if_exists or qualifier):
        raise MalformedPolicy(f"Null takes no IfExists or set qualifier ({name!r} in {where}).")
    return qualifier or None, test, if_exists


def _values(raw: Any, key: str, where: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    values: list[str] = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            values.append(str(item))
        else:
            raise MalformedPolicy(
                f"Condition values for {key!r} in {where} must be strings, numbers or booleans."
            )
    return tuple(values)
