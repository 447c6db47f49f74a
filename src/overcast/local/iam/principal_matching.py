"""Which callers a resource policy's ``Principal`` / ``NotPrincipal`` element names.

Callers are :class:`~overcast.local.iam.principals.Principal` values, or None for an
anonymous request. Three kinds, told apart by ``arn``:

- **IAM principals** (``arn:<partition>:iam::<account>:root|user/...|role/...`` or
  ``arn:<partition>:sts::<account>:assumed-role/...|federated-user/...``). For an
  assumed-role session ``arn`` is the role's ARN and ``session_arn`` the session's.
- **Service principals**: ``arn`` is the service principal name, e.g.
  ``cloudfront.amazonaws.com`` for CloudFront fetching from an S3 origin with origin
  access control (build one with :func:`service_principal`).
- **Federated principals**: ``arn`` is the identity provider, e.g.
  ``cognito-identity.amazonaws.com`` for ``AssumeRoleWithWebIdentity`` from an identity
  pool, as a role trust policy sees the caller (:func:`federated_principal`).

Matching ("AWS JSON policy elements: Principal" and "NotPrincipal"):

- ``"*"`` and ``{"AWS": "*"}`` name everyone, anonymous callers included.
- ``{"AWS": "123456789012"}`` or ``arn:aws:iam::123456789012:root`` names the account:
  every IAM principal of that account ("the permissions in the policy statement can be
  granted to all identities contained in that account").
- A user or role ARN names that user or role — for a role, every session of it; an
  assumed-role session ARN names that session only. No wildcards: "you cannot use a
  wildcard to match part of a principal name or ARN".
- ``{"Service": ...}`` and ``{"Federated": ...}`` name service and federated callers by
  name. ``CanonicalUser`` names no caller here (the local cloud has no S3 canonical ids).
- ``NotPrincipal`` leaves a caller out only when every identity AWS may check is listed:
  "AWS might validate the account first, then the role, and then the assumed-role user",
  so a session is left out only if its account, its role and the session are all listed
  (a user: its account and the user). Anyone else — anonymous callers included — is
  matched ("you might grant access to anonymous (unauthenticated) users").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from overcast.local.iam.policy import Principals
from overcast.local.iam.principals import Principal

_IAM_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):(?:iam|sts)::(?P<account>[^:]+):"
    r"(?:root$|user/|role/|assumed-role/|federated-user/)"
)


def service_principal(service: str) -> Principal:
    """An AWS service acting itself (``cloudfront.amazonaws.com``), as resource policies
    name it with ``{"Service": ...}``. It belongs to no account and has no policies."""
    return Principal(arn=service, account_id="", user_id=service)


def federated_principal(provider: str, context: Mapping[str, str] | None = None) -> Principal:
    """A web identity asking to assume a role, as ``{"Federated": provider}`` names it."""
    return Principal(arn=provider, account_id="", user_id=provider, context=dict(context or {}))


def is_iam(caller: Principal) -> bool:
    """Whether ``caller`` is an IAM principal (root, user, role or session) of an account."""
    return _IAM_ARN.match(caller.arn) is not None


def root_arn(caller: Principal) -> str:
    """``arn:<partition>:iam::<account>:root`` of an IAM caller's account."""
    found = _IAM_ARN.match(caller.arn)
    partition = found.group("partition") if found else "aws"
    return f"arn:{partition}:iam::{caller.account_id}:root"


def names(element: Principals, caller: Principal | None) -> bool:
    """Whether a ``Principal`` element names ``caller``."""
    if element.everyone or "*" in element.aws:
        return True
    if caller is None:
        return False
    if not is_iam(caller):
        return caller.arn in element.service or caller.arn in element.federated
    return not element.aws.isdisjoint(_identities(caller))


def leaves_out(element: Principals, caller: Principal | None) -> bool:
    """Whether a ``NotPrincipal`` element leaves ``caller`` out (the statement skips it)."""
    if element.everyone or "*" in element.aws:
        return True
    if caller is None:
        return False
    if not is_iam(caller):
        return caller.arn in element.service or caller.arn in element.federated
    account_listed = not element.aws.isdisjoint({caller.account_id, root_arn(caller)})
    own = {caller.arn, caller.session_arn} - {None, root_arn(caller)}
    return account_listed and own <= element.aws


def _identities(caller: Principal) -> set[str]:
    identities = {caller.arn, caller.account_id, root_arn(caller)}
    if caller.session_arn:
        identities.add(caller.session_arn)
    return identities
