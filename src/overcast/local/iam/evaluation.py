"""IAM policy evaluation: may this caller do this action on this resource?

What it mirrors ("Policy evaluation logic", "Cross-account policy evaluation logic"):

- "By default, all requests are implicitly denied with the exception of the AWS
  account root user, which has full access." The root user is still subject to an
  explicit deny in a resource policy.
- "An explicit deny in any policy overrides any allows": a ``Deny`` statement that
  applies, in the caller's identity policies or in a resource policy naming the caller,
  ends evaluation with :attr:`Decision.EXPLICIT_DENY`.
- Within one account, "If an action is allowed by an identity-based policy, a
  resource-based policy, or both, then AWS allows the action." Across accounts (the
  request's ``resource_account`` is not the caller's), both must allow it.
- An anonymous request (principal None) has no identity policies: only a resource
  policy statement that names everyone (``"*"``, ``{"AWS": "*"}``, or a
  ``NotPrincipal``) can allow it. Service and federated callers (see
  :mod:`~overcast.local.iam.principal_matching`) are likewise allowed by resource
  policies.
- A role's trust policy is the resource policy of ``sts:AssumeRole*``, and "IAM role
  trust policies and KMS key policies are exceptions to this logic, because they must
  explicitly allow access for principals": for those actions an identity policy alone
  never allows.
- A statement applies when its principal element names the caller (statements in
  resource policies that name no one apply to no one), its ``Action``/``NotAction``
  names the action (case-insensitive), its ``Resource``/``NotResource`` names the
  resource (case-sensitive; an absent element names any), and its conditions hold.
- Policy variables are substituted in ``Resource``/``NotResource`` and condition
  values, never in ``Action``; a resource entry whose variable has no value names no
  resource ("will not match any resource").

Condition keys the evaluator supplies itself (overriding what a request says):
``aws:CurrentTime`` (ISO 8601, UTC) and ``aws:EpochTime`` from the injected clock;
for IAM callers ``aws:PrincipalArn`` (the role's ARN for a session),
``aws:PrincipalAccount``, ``aws:userid``, ``aws:PrincipalType`` and, for IAM users,
``aws:username`` (a principal's ``context`` may set it, or any other key, itself);
for anonymous callers ``aws:userid`` is ``anonymous`` and ``aws:PrincipalType``
``Anonymous`` (the documented values for S3's anonymous requests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from overcast.local.iam.conditions import conditions_hold
from overcast.local.iam.context import ContextKeys, ContextValue
from overcast.local.iam.policy import Effect, Policy, Statement
from overcast.local.iam.principal_matching import is_iam, leaves_out, names, root_arn
from overcast.local.iam.principals import Principal
from overcast.local.iam.variables import Pattern, substitute
from overcast.local.iam.wildcards import matches_action, matches_resource

Substitute = Callable[[str], Pattern | None]

_ASSUME_ROLE = "sts:assumerole"  # sts:AssumeRole, ...WithWebIdentity, ...WithSAML


class Decision(Enum):
    """The outcome of evaluating a request."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class AuthorizationRequest:
    """One request to authorize.

    ``principal`` None is an anonymous caller; ``context`` holds the request's condition
    keys (``s3:prefix``, ``aws:SecureTransport``, ``aws:SourceArn``, ...);
    ``resource_account`` is the account that owns the resource, when it matters.
    """

    principal: Principal | None
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    resource_account: str | None = None


class PolicyEvaluator:
    """Decides requests against the caller's identity policies and resource policies."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock

    def allowed(
        self, request: AuthorizationRequest, resource_policies: Sequence[Policy] = ()
    ) -> bool:
        """Whether the decision is :attr:`Decision.ALLOW`."""
        return self.evaluate(request, resource_policies) is Decision.ALLOW

    def evaluate(
        self, request: AuthorizationRequest, resource_policies: Sequence[Policy] = ()
    ) -> Decision:
        """The decision for ``request`` under the caller's policies and ``resource_policies``."""
        keys = self._keys(request)
        caller = request.principal
        identity = set(_effects(caller.policies if caller else (), request, keys, resource=False))
        granted = set(_effects(resource_policies, request, keys, resource=True))
        if Effect.DENY in identity or Effect.DENY in granted:
            return Decision.EXPLICIT_DENY
        by_resource = Effect.ALLOW in granted
        if caller is None:
            return Decision.ALLOW if by_resource else Decision.IMPLICIT_DENY
        by_identity = caller.is_root or Effect.ALLOW in identity
        if _cross_account(caller, request):
            allowed = by_identity and by_resource
        elif _needs_trust(request.action):
            allowed = by_resource
        else:
            allowed = by_identity or by_resource
        return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY

    def _keys(self, request: AuthorizationRequest) -> ContextKeys:
        now = self._clock()
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        clock_keys = {
            "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(now.timestamp())),
        }
        caller = request.principal
        own = caller.context if caller else {}
        return ContextKeys.of(request.context, _caller_keys(caller), own, clock_keys)


def _needs_trust(action: str) -> bool:
    return action.lower().startswith(_ASSUME_ROLE)


def _cross_account(caller: Principal, request: AuthorizationRequest) -> bool:
    owner = request.resource_account
    return owner is not None and is_iam(caller) and caller.account_id != owner


def _effects(
    policies: Sequence[Policy], request: AuthorizationRequest, keys: ContextKeys, *, resource: bool
) -> Iterator[Effect]:
    for policy in policies:
        variables = _substituter(keys) if policy.has_variables else None
        for statement in policy.statements:
            if _applies(statement, request, keys, variables, resource=resource):
                yield statement.effect


def _substituter(keys: ContextKeys) -> Substitute:
    def substituted(template: str) -> Pattern | None:
        return substitute(template, keys.scalar)

    return substituted


def _applies(
    statement: Statement,
    request: AuthorizationRequest,
    keys: ContextKeys,
    variables: Substitute | None,
    *,
    resource: bool,
) -> bool:
    return (
        _names_caller(statement, request.principal, resource=resource)
        and _names_action(statement, request.action)
        and _names_resource(statement, request.resource, variables)
        and conditions_hold(statement.conditions, keys, variables)
    )


def _names_caller(statement: Statement, caller: Principal | None, *, resource: bool) -> bool:
    element = statement.principals
    if element is None:
        return not resource  # identity policies apply to their own principal only
    if statement.not_principal:
        return not leaves_out(element, caller)
    return names(element, caller)


def _names_action(statement: Statement, action: str) -> bool:
    named = any(matches_action(pattern, action) for pattern in statement.actions)
    return named != statement.not_action


def _names_resource(statement: Statement, resource: str, variables: Substitute | None) -> bool:
    if statement.resources is None:
        return True
    patterns = (
        [variables(entry) for entry in statement.resources]
        if variables is not None
        else [((entry, True),) for entry in statement.resources]
    )
    named = any(matches_resource(p, resource) for p in patterns if p is not None)
    return named != statement.not_resource


def _caller_keys(caller: Principal | None) -> dict[str, str]:
    """The global condition keys that describe the caller (IAM "Principal key values")."""
    if caller is None:
        return {"aws:userid": "anonymous", "aws:PrincipalType": "Anonymous"}
    if not is_iam(caller):
        return {}
    keys = {
        "aws:PrincipalArn": caller.arn,
        "aws:PrincipalAccount": caller.account_id,
        "aws:userid": caller.user_id,
        "aws:PrincipalType": _principal_type(caller),
    }
    _, user_marker, user_path = caller.arn.partition(":user/")
    if user_marker and not caller.session_arn:
        keys["aws:username"] = user_path.rsplit("/", 1)[-1]
    return keys


def _principal_type(caller: Principal) -> str:
    if caller.is_root or caller.arn == root_arn(caller):
        return "Account"
    if caller.session_arn or ":assumed-role/" in caller.arn:
        return "AssumedRole"
    if ":federated-user/" in caller.arn:
        return "FederatedUser"
    return "User"
