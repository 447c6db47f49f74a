"""The endpoint tells SQS, SNS and STS apart: SQS by its target, a form POST by the
service its signature is scoped to or, unsigned, by its Action (body replayed intact)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overcast.local.aws_endpoint import AwsEndpoint

FORM = "application/x-www-form-urlencoded"
SIGNED_SNS = "AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/sns/aws4_request, X"
SIGNED_STS = "AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/sts/aws4_request, X"
SIGNED_S3 = "AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/s3/aws4_request, X"


def reader(name: str, seen: list[tuple[str, bytes]]) -> ASGIApp:
    """An app that records its name and the whole body it reads."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        seen.append((name, body))

    return app


@pytest.mark.parametrize(
    ("headers", "chunks", "api"),
    [
        ({"x-amz-target": "AmazonSQS.SendMessage"}, [b"{}"], "sqs"),
        ({"content-type": FORM, "authorization": SIGNED_SNS}, [b"Action=Publish"], "sns"),
        ({"content-type": FORM, "authorization": SIGNED_STS}, [b"Action=Publish"], "sts"),
        ({"content-type": FORM}, [b"Version=2010-03-31&Act", b"ion=Publish&Message=hi"], "sns"),
        ({"content-type": FORM}, [b"Action=ListTopics"], "sns"),
        ({"content-type": FORM}, [b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"], "sts"),
        ({"content-type": FORM}, [b"Action=PublishNothing"], "sts"),
    ],
    ids=["sqs", "signed-sns", "signed-sts", "unsigned-sns-chunked", "unsigned-sns",
         "unsigned-sts", "lookalike-action"],
)  # fmt: skip
def test_each_messaging_request_reaches_its_api_with_its_whole_body(
    headers: dict[str, str], chunks: list[bytes], api: str
) -> None:
    seen: list[tuple[str, bytes]] = []
    endpoint = AwsEndpoint(
        sts=reader("sts", seen), sqs=reader("sqs", seen), sns=reader("sns", seen)
    )
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        return None

    asyncio.run(endpoint(scope, receive, send))

    assert seen == [(api, b"".join(chunks))]


def _serve(endpoint: AwsEndpoint, scope: Scope, chunks: list[bytes]) -> None:
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        return None

    asyncio.run(endpoint(scope, receive, send))


def test_an_unsigned_form_body_over_the_buffering_limit_reaches_its_api_intact() -> None:
    seen: list[tuple[str, bytes]] = []
    endpoint = AwsEndpoint(sts=reader("sts", seen), sns=reader("sns", seen))
    chunks = [b"Action=Publish&Message="] + [b"x" * 256 * 1024] * 6  # 1.5 MiB in all
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", FORM.encode())],
    }

    _serve(endpoint, scope, chunks)

    assert seen == [("sns", b"".join(chunks))]


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/uploads", {"content-type": "multipart/form-data; boundary=b"}),
        ("POST", "/uploads", {"content-type": FORM}),
        ("GET", "/sns/Action=Publish", {}),
        ("PUT", "/sns/key", {"authorization": SIGNED_S3}),
        ("POST", "/sns", {"content-type": FORM, "authorization": SIGNED_S3}),
    ],
    ids=["presigned-post-upload", "form-post-to-bucket", "bucket-sns-get", "bucket-sns-put",
         "bucket-sns-post"],
)  # fmt: skip
def test_s3_requests_still_reach_s3(method: str, path: str, headers: dict[str, str]) -> None:
    seen: list[tuple[str, bytes]] = []
    endpoint = AwsEndpoint(s3=reader("s3", seen), sts=reader("sts", seen), sns=reader("sns", seen))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
    }

    _serve(endpoint, scope, [b"Action=Publish&key=user/photo.jpg"])

    assert seen == [("s3", b"Action=Publish&key=user/photo.jpg")]
