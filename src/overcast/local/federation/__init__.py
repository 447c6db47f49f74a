"""Cognito identity pools for the local cloud: identities, OpenID tokens, credentials.

The composition class is :class:`overcast.local.federation.provider.Federation`
(not re-exported here: STS imports this package's token modules, and Federation
imports STS).
"""
