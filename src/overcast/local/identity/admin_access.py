"""Who may call the user pools' admin operations: IAM, as Cognito asks it.

Cognito authorizes ``Admin*`` operations with the caller's IAM permissions: the
action is ``cognito-idp:<Operation>`` and the resource the pool's ARN
(``arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>``). The account's
root credentials may do everything; a temporary session (a function role's, an
identity pool's) may do what its role's policies allow. Otherwise Cognito answers
``AccessDeniedException`` (HTTP 400) naming the caller, the action and the resource;
a session past its expiry is ``ExpiredTokenException`` (HTTP 400, "The security
token included in the request is expired").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from overcast.local.auth.sigv4 import Credentials
from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.principals import Session
from overcast.local.identity.errors import CognitoError

SessionLookup = Callable[[str], Session | None]


class AccessDenied(CognitoError):
    code = "AccessDeniedException"


class ExpiredToken(CognitoError):
    code = "ExpiredTokenException"
    default_message = "The security token included in the request is expired"


class AdminAccess:
    """Finds the session of an access key and decides its admin requests."""

    def __init__(
        self, lookup: SessionLookup, evaluator: PolicyEvaluator, clock: Callable[[], datetime]
    ) -> None:
        self._lookup = lookup
        self._evaluator = evaluator
        self._clock = clock

    def credentials(self, access_key_id: str) -> Credentials | None:
        """The credentials of ``access_key_id``, for the SigV4 verifier."""
        session = self._lookup(access_key_id)
        return None if session is None else session.credentials

    def authorize(self, access_key_id: str, operation: str, pool_arn: str) -> None:
        """Raise unless the key's session may call ``operation`` on the pool."""
        session = self._lookup(access_key_id)
        if session is None:  # revoked between the signature check and now
            raise AccessDenied("The security token included in the request is invalid.")
        if session.expired(self._clock()):
            raise ExpiredToken()
        action = f"cognito-idp:{operation}"
        request = AuthorizationRequest(session.principal, action, pool_arn)
        if not self._evaluator.allowed(request):
            caller = session.principal.session_arn or session.principal.arn
            raise AccessDenied(
                f"User: {caller} is not authorized to perform: {action} on resource: "
                f"{pool_arn} because no identity-based policy allows the {action} action"
            )
