"""Assuming a role with an identity pool's web identity, as STS does for Cognito.

Both ways to credentials end here: the enhanced flow
(``GetCredentialsForIdentity``, where Cognito calls STS on the user's behalf) and
the basic flow (``GetOpenIdToken`` then ``AssumeRoleWithWebIdentity``).

STS evaluates the role's trust policy for the action
``sts:AssumeRoleWithWebIdentity`` on the role, with the federated principal
``cognito-identity.amazonaws.com`` and the token's claims as the condition keys
``cognito-identity.amazonaws.com:aud`` (the pool id), ``...:sub`` (the identity id)
and ``...:amr`` (multi-valued: hence ``ForAnyValue:StringLike`` in the documented
trust policy). The session it then issues carries ``aud``, ``sub`` and ``amr`` as
policy variables, so ``${cognito-identity.amazonaws.com:sub}`` in the role's
policies names the caller's own folder.
"""

from __future__ import annotations

from dataclasses import dataclass

from overcast.local.federation.openid import AUTHENTICATED, PROVIDER, OpenIdClaims
from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.principal_matching import federated_principal
from overcast.local.iam.principals import Session
from overcast.local.iam.roles import Role
from overcast.local.iam.sessions import SessionStore

ACTION = "sts:AssumeRoleWithWebIdentity"
AUD_KEY = f"{PROVIDER}:aud"
SUB_KEY = f"{PROVIDER}:sub"
AMR_KEY = f"{PROVIDER}:amr"


@dataclass(frozen=True)
class WebIdentityTrust:
    """Checks roles' trust policies and issues sessions for web identities."""

    evaluator: PolicyEvaluator
    sessions: SessionStore
    account_id: str

    def trusts(self, role: Role, claims: OpenIdClaims) -> bool:
        """Whether ``role``'s trust policy lets this web identity assume it."""
        request = AuthorizationRequest(
            principal=federated_principal(PROVIDER),
            action=ACTION,
            resource=role.arn,
            context={
                AUD_KEY: claims.pool_id,
                SUB_KEY: claims.identity_id,
                AMR_KEY: list(claims.amr),
            },
            resource_account=self.account_id,
        )
        return self.evaluator.allowed(request, (role.trust_policy,))

    def assume(
        self, role: Role, claims: OpenIdClaims, *, session_name: str, duration_seconds: int
    ) -> Session:
        """A new session of ``role`` for the identity (trust already checked)."""
        amr = AUTHENTICATED if AUTHENTICATED in claims.amr else "unauthenticated"
        return self.sessions.issue(
            role,
            session_name=session_name,
            context={AUD_KEY: claims.pool_id, SUB_KEY: claims.identity_id, AMR_KEY: amr},
            duration_seconds=duration_seconds,
        )
