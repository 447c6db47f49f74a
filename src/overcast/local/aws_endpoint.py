"""One HTTPS endpoint for every AWS API the local cloud speaks, as LocalStack's edge port.

Clients point every SDK at the same URL (``AWS_ENDPOINT_URL``), so the endpoint
tells the APIs apart by what each protocol puts on the wire:

- ``X-Amz-Target: AWSCognitoIdentityProviderService.*`` → user pools (JSON 1.1);
  ``AWSCognitoIdentityService.*`` → identity pools (JSON 1.1); ``AmazonSQS.*`` → SQS
  (JSON 1.0); ``DynamoDB_20120810.*`` → DynamoDB (JSON 1.0).
- ``POST /`` with a form body (``Action=...``) → the query protocol of SNS or STS. S3
  has no ``POST /`` operation, so this never shadows S3. A request signed for service
  ``sns`` (its ``Authorization`` credential scope) goes to SNS, any other signed one to
  STS; an unsigned one goes by its ``Action``: SNS's actions to SNS (which answers
  ``MissingAuthenticationToken`` as SNS does), the rest to STS (whose
  ``AssumeRoleWithWebIdentity`` is unsigned).
- ``GET /<user pool id>/.well-known/*`` → the user pool's JWKS and OIDC discovery.
  A pool id contains ``_``, which no S3 bucket name may, so it shadows no bucket.
- ``/_overcast/*`` → the local cloud's own admin API (``_`` again keeps it clear of
  every valid bucket name).
- ``/2020-05-31/distribution[/...]`` signed for service ``cloudfront`` (its
  ``Authorization`` credential scope), or not signed at all → CloudFront's REST-XML API,
  so an unsigned call gets CloudFront's ``MissingAuthenticationToken``. ``2020-05-31``
  is a valid bucket name: requests signed for S3 (header or presigned URL) still reach
  S3; only anonymous S3 reads of keys ``distribution/...`` of such a bucket are shadowed.
- ``/2015-03-31/functions[/...]`` signed for service ``lambda``, or not signed at all →
  Lambda's REST-JSON API (``Invoke``, ``ListFunctions``, ``GetFunction``), by the same
  rule as CloudFront's: ``2015-03-31`` is a valid bucket name, and only anonymous S3
  requests for keys ``functions/...`` of such a bucket are shadowed.
- anything else → S3 (path-style).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overcast.local.sns.actions import SNS_ACTIONS

ADMIN_PREFIX = "/_overcast/"
CLOUDFRONT_PATH = "/2020-05-31/distribution"
LAMBDA_PATH = "/2015-03-31/functions"
_FORM = b"application/x-www-form-urlencoded"
_CLOUDFRONT_SCOPE = re.compile(rb"Credential=[^/,]*/[^/,]*/[^/,]*/cloudfront/")
_LAMBDA_SCOPE = re.compile(rb"Credential=[^/,]*/[^/,]*/[^/,]*/lambda/")
_SNS_SCOPE = re.compile(rb"Credential=[^/,]*/[^/,]*/[^/,]*/sns/")
_SNS_ACTION = re.compile(rb"(?:^|&)Action=(" + b"|".join(SNS_ACTIONS) + rb")(?:&|$)")
_PRESIGNED = (b"X-Amz-Credential=", b"AWSAccessKeyId=")


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b'{"message": "This API is not served by the local cloud."}'
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class AwsEndpoint:
    """Routes each request to the API it belongs to; unset APIs answer 404."""

    cognito_idp: ASGIApp = _not_found
    cognito_identity: ASGIApp = _not_found
    sts: ASGIApp = _not_found
    s3: ASGIApp = _not_found
    admin: ASGIApp = _not_found
    cloudfront: ASGIApp = _not_found
    sqs: ASGIApp = _not_found
    sns: ASGIApp = _not_found
    dynamodb: ASGIApp = _not_found
    lambda_: ASGIApp = _not_found  # set once the services' invokers exist (cloud.py)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        await self._route(scope)(scope, receive, send)

    def _route(self, scope: Scope) -> ASGIApp:
        headers = dict(scope["headers"])
        target = headers.get(b"x-amz-target", b"")
        if target.startswith(b"AWSCognitoIdentityProviderService."):
            return self.cognito_idp
        if target.startswith(b"AWSCognitoIdentityService."):
            return self.cognito_identity
        if target.startswith(b"AmazonSQS."):
            return self.sqs
        if target.startswith(b"DynamoDB_20120810."):
            return self.dynamodb
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX):
            return self.admin
        query = scope.get("query_string", b"")
        if _signed_for(path, CLOUDFRONT_PATH, _CLOUDFRONT_SCOPE, headers, query):
            return self.cloudfront
        if _signed_for(path, LAMBDA_PATH, _LAMBDA_SCOPE, headers, query):
            return self.lambda_
        if path == "/" and scope["method"] in ("OPTIONS", "POST"):
            if headers.get(b"content-type", b"").startswith(_FORM):
                return self._query_protocol(headers, scope.get("query_string", b""))
            return self.cognito_idp  # CORS preflight, and JSON calls without a target
        first = path[1:].partition("/")[0]
        if "_" in first:
            return self.cognito_idp  # /<pool id>/.well-known/...
        return self.s3

    def _query_protocol(self, headers: dict[bytes, bytes], query: bytes) -> ASGIApp:
        authorization = headers.get(b"authorization")
        if authorization is not None:
            return self.sns if _SNS_SCOPE.search(authorization) else self.sts
        if _SNS_ACTION.search(query):
            return self.sns
        return _ByAction(self.sns, self.sts)


@dataclass
class _ByAction:
    """An unsigned form ``POST``: read the body, then hand it to SNS if its ``Action`` is
    one of SNS's, else to STS (replaying the body to the app chosen)."""

    sns: ASGIApp
    sts: ASGIApp
    limit: int = 1024 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []
        size, more = 0, True
        while more and size <= self.limit:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            more = message["type"] == "http.request" and message.get("more_body", False)
        body = b"".join(m.get("body", b"") for m in messages)
        app = self.sns if _SNS_ACTION.search(body) else self.sts
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await app(scope, replay, send)


def _signed_for(
    path: str, prefix: str, scope: re.Pattern[bytes], headers: dict[bytes, bytes], query: bytes
) -> bool:
    """Whether a request under ``prefix`` is for the REST API there (its credential
    ``scope``, or unsigned and not presigned) rather than for S3."""
    if path != prefix and not path.startswith(prefix + "/"):
        return False
    authorization = headers.get(b"authorization")
    if authorization is None:
        return not any(marker in query for marker in _PRESIGNED)
    return scope.search(authorization) is not None


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
