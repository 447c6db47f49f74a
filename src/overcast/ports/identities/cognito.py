"""The identity directory over Cognito Identity's ``GetId``, locally and on AWS alike.

``GetId`` is an unsigned call of Cognito Identity's JSON 1.1 protocol
(``X-Amz-Target: AWSCognitoIdentityService.GetId``), so a plain HTTPS POST speaks it
to AWS's regional endpoint and to the local cloud's alike; no SDK is needed.
The login is ``{"cognito-idp.<region>.amazonaws.com/<user pool id>": <ID token>}``.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

from overcast.ports.identities.base import IdentityDirectory
from overcast.ports.identities.exceptions import IdentityRefused, IdentityUnavailable

_TIMEOUT_SECONDS = 5.0
_REFUSALS = frozenset({"NotAuthorizedException", "ResourceNotFoundException"})


class CognitoIdentityDirectory(IdentityDirectory):
    """Identities of the identity pool ``identity_pool_id``, whose users sign in to
    ``user_pool_id``. ``endpoint`` defaults to AWS's regional endpoint."""

    def __init__(
        self,
        identity_pool_id: str,
        user_pool_id: str,
        *,
        region: str,
        endpoint: str | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        super().__init__()
        self._pool_id = identity_pool_id
        self._provider = f"cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self._endpoint = endpoint or f"https://cognito-identity.{region}.amazonaws.com/"
        self._tls = ssl.create_default_context(cafile=ca_bundle)

    def _get_id(self, id_token: str) -> str:
        body = json.dumps(
            {"IdentityPoolId": self._pool_id, "Logins": {self._provider: id_token}}
        ).encode()
        request = urllib.request.Request(
            self._endpoint,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSCognitoIdentityService.GetId",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS, context=self._tls) as r:
                answer = json.loads(r.read())
        except urllib.error.HTTPError as error:
            raise _translated(error) from error
        except (OSError, ValueError) as error:
            raise IdentityUnavailable(f"Cognito Identity did not answer: {error}") from error
        identity_id = answer.get("IdentityId") if isinstance(answer, dict) else None
        if not isinstance(identity_id, str):
            raise IdentityUnavailable("Cognito Identity answered GetId without an IdentityId.")
        return identity_id


def _translated(error: urllib.error.HTTPError) -> Exception:
    try:
        detail = json.loads(error.read())
        kind = str(detail.get("__type", "")).rpartition("#")[2]
        message = str(detail.get("message") or detail.get("Message") or kind)
    except ValueError:
        kind, message = "", f"HTTP {error.code}"
    if kind in _REFUSALS:
        return IdentityRefused(message)
    return IdentityUnavailable(f"Cognito Identity failed: {kind or error.code}: {message}")
