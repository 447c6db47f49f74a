"""The local API Gateway: REST API + Lambda proxy integration, built from small parts.

``routes`` (resource tree) -> ``events`` (proxy event) -> ``authorizer`` (Cognito) ->
``responses`` (gateway errors, proxy response mapping) with ``cors`` and
``accesslog``, tied together by ``app.Gateway``.
"""

from overcast.local.gateway.app import Gateway
from overcast.local.gateway.authorizer import CognitoAuthorizer

__all__ = ["CognitoAuthorizer", "Gateway"]
