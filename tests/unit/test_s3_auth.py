"""S3 request authentication, checked against what botocore (the reference client) sends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from starlette.types import Message, Receive

from overcast.local.auth.sigv4 import Credentials
from overcast.local.iam.principals import Principal, Session
from overcast.local.s3.auth import Authentication, S3Authenticator, S3Request
from overcast.local.s3.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    ExpiredToken,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidRequest,
    InvalidToken,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)
from overcast.local.s3.payload import Payload

REGION = "us-east-1"
HTTP = "http://127.0.0.1:4566"
HTTPS = "https://127.0.0.1:4566"
ROOT_KEYS = Credentials("AKIAOVERCASTROOT0001", "s3cr3t/Key+With=Symbols")
TEMPORARY_KEYS = Credentials("ASIAOVERCASTTEMP0001", "temporary-secret", "the-session-token")
ROOT = Session(
    ROOT_KEYS,
    Principal("arn:aws:iam::000000000000:root", "000000000000", "000000000000", is_root=True),
)
ALICE = Session(
    TEMPORARY_KEYS,
    Principal("arn:aws:sts::000000000000:assumed-role/user/alice", "000000000000", "AROA:alice"),
    expires_at=datetime.now(UTC) + timedelta(hours=1),
)


def lookup(access_key_id: str) -> Session | None:
    return {s.credentials.access_key_id: s for s in (ROOT, ALICE)}.get(access_key_id)


def authenticator(
    *, skew: timedelta = timedelta(0), sessions: Callable[[str], Session | None] = lookup
) -> S3Authenticator:
    return S3Authenticator(sessions, region=REGION, clock=lambda: datetime.now(UTC) + skew)


def boto_credentials(keys: Credentials) -> BotoCredentials:
    return BotoCredentials(keys.access_key_id, keys.secret_access_key, keys.session_token)


def received(prepared: AWSPreparedRequest) -> S3Request:
    """The request as the ASGI server hands it over (the HTTP client adds ``host``)."""
    parts = urlsplit(prepared.url)
    headers = [("host", parts.netloc)]
    for name, value in prepared.headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        headers.append((name.lower(), text))
    return S3Request(prepared.method, parts.path, parts.query, headers, parts.scheme == "https")


def body_of(prepared: AWSPreparedRequest) -> bytes:
    body: Any = prepared.body
    if body is None:
        return b""
    data = body.read() if hasattr(body, "read") else body
    return data if isinstance(data, bytes) else str(data).encode()


def signed(
    method: str = "GET",
    url: str = HTTP + "/bucket/key",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    keys: Credentials = ROOT_KEYS,
    signer: type[SigV4Auth] = S3SigV4Auth,
    region: str = REGION,
) -> tuple[S3Request, bytes]:
    """A request signed by botocore's S3 signer, and its body."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    signer(boto_credentials(keys), "s3", region).add_auth(request)
    prepared = request.prepare()
    return received(prepared), body_of(prepared)


def presigned(
    url: str = HTTP + "/bucket/key", keys: Credentials = ROOT_KEYS, expires: int = 3600
) -> S3Request:
    request = AWSRequest(method="GET", url=url)
    S3SigV4QueryAuth(boto_credentials(keys), "s3", REGION, expires=expires).add_auth(request)
    return received(request.prepare())


class _Raw:
    def stream(self, **_: object) -> Iterator[bytes]:
        yield b""


def client_request(
    operation: str, *, endpoint: str = HTTPS, keys: Credentials = ROOT_KEYS, **params: Any
) -> tuple[S3Request, bytes]:
    """What a boto3 S3 client sends for ``operation``, captured before it reaches a socket."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
        config=Config(s3={"addressing_style": "path"}),
    )
    captured: list[AWSPreparedRequest] = []

    def before_send(request: AWSPreparedRequest, **_: object) -> AWSResponse:
        captured.append(request)
        return AWSResponse(request.url, 200, {}, _Raw())

    client.meta.events.register("before-send.s3.*", before_send)
    getattr(client, operation)(**params)
    return received(captured[0]), body_of(captured[0])


def receive_of(*bodies: bytes) -> Receive:
    """An ASGI ``receive`` delivering ``bodies`` as consecutive ``http.request`` messages."""
    messages: list[Message] = [
        {"type": "http.request", "body": body, "more_body": index < len(bodies) - 1}
        for index, body in enumerate(bodies or (b"",))
    ]

    async def receive() -> Message:
        return messages.pop(0)

    return receive


def drain(payload: Payload, *bodies: bytes) -> bytes:
    async def run() -> bytes:
        return b"".join([piece async for piece in payload.chunks(receive_of(*bodies))])

    return asyncio.run(run())


def with_header(request: S3Request, name: str, value: str | None) -> S3Request:
    kept = [(k, v) for k, v in request.headers if k != name]
    return replace(request, headers=kept if value is None else [*kept, (name, value)])


def authenticate(request: S3Request, **options: Any) -> Authentication:
    return authenticator(**options).authenticate(request)


# --- header-signed requests ---------------------------------------------------------


def test_a_get_signed_by_botocore_is_authenticated_as_its_session() -> None:
    request, _ = client_request("get_object", Bucket="bucket", Key="photos/cat.jpg")

    authentication = authenticate(request)

    assert authentication.session == ROOT
    assert authentication.presigned is False


def test_a_put_with_a_signed_payload_is_accepted_and_its_body_checked() -> None:
    request, body = signed("PUT", HTTP + "/bucket/notes.txt", b"my notes")
    assert request.header("x-amz-content-sha256") != "UNSIGNED-PAYLOAD"

    authentication = authenticate(request)

    assert drain(authentication.payload, body) == b"my notes"
    with pytest.raises(XAmzContentSHA256Mismatch) as caught:
        drain(authenticate(request).payload, b"my nites")
    assert caught.value.details["ClientComputedContentSHA256"] == request.header(
        "x-amz-content-sha256"
    )


def test_a_key_with_encoded_characters_is_signed_over_the_path_as_sent() -> None:
    request, body = client_request(
        "put_object", endpoint=HTTP, Bucket="bucket", Key="a b+c/ü ~x.txt", Body=b"x"
    )
    assert "%20" in request.raw_path
    assert "%2B" in request.raw_path

    authentication = authenticate(request)

    assert authentication.session == ROOT
    assert drain(authentication.payload, body) == b"x"


def test_temporary_credentials_are_authenticated_with_their_token() -> None:
    request, _ = client_request("list_objects_v2", keys=TEMPORARY_KEYS, Bucket="bucket")

    assert authenticate(request).session == ALICE


def test_a_temporary_key_without_its_token_is_not_a_known_key() -> None:
    request, _ = signed(keys=replace(TEMPORARY_KEYS, session_token=None))

    with pytest.raises(InvalidAccessKeyId) as caught:
        authenticate(request)

    assert caught.value.details["AWSAccessKeyId"] == TEMPORARY_KEYS.access_key_id


def test_a_wrong_session_token_is_an_invalid_token() -> None:
    request, _ = signed(keys=replace(TEMPORARY_KEYS, session_token="someone-elses-token"))

    with pytest.raises(InvalidToken) as caught:
        authenticate(request)

    assert caught.value.details["Token-0"] == "someone-elses-token"
    assert caught.value.status == 400


def test_a_token_sent_with_long_term_keys_is_an_invalid_token() -> None:
    with pytest.raises(InvalidToken):
        authenticate(signed(keys=replace(ROOT_KEYS, session_token="made-up"))[0])


def test_an_expired_session_has_an_expired_token() -> None:
    expired = replace(ALICE, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    request, _ = signed(keys=TEMPORARY_KEYS)

    with pytest.raises(ExpiredToken, match=r"The provided token has expired\."):
        authenticate(
            request,
            sessions=lambda key: expired if key == expired.credentials.access_key_id else None,
        )


def test_an_unknown_access_key_is_invalid() -> None:
    request, _ = signed(keys=Credentials("AKIAUNKNOWN000000000", "whatever"))

    with pytest.raises(InvalidAccessKeyId) as caught:
        authenticate(request)

    assert caught.value.status == 403
    assert caught.value.details == {"AWSAccessKeyId": "AKIAUNKNOWN000000000"}


def test_a_signature_made_with_the_wrong_secret_does_not_match() -> None:
    request, _ = signed(keys=replace(ROOT_KEYS, secret_access_key="not-the-secret"))

    with pytest.raises(SignatureDoesNotMatch) as caught:
        authenticate(request)

    details = caught.value.details
    assert details["AWSAccessKeyId"] == ROOT_KEYS.access_key_id
    assert details["CanonicalRequest"].startswith("GET\n/bucket/key\n")
    assert details["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert details["StringToSignBytes"].startswith("41 57 53 34")  # "AWS4"


def test_a_tampered_signature_does_not_match_and_says_which_was_provided() -> None:
    request, _ = signed()
    header = request.header("authorization") or ""
    forged = header[:-4] + ("0000" if not header.endswith("0000") else "1111")

    with pytest.raises(SignatureDoesNotMatch) as caught:
        authenticate(with_header(request, "authorization", forged))

    assert caught.value.details["SignatureProvided"] == forged.rsplit("=", 1)[1]


def test_a_tampered_signed_header_does_not_match() -> None:
    request, _ = signed("PUT", headers={"x-amz-meta-owner": "alice"})

    with pytest.raises(SignatureDoesNotMatch):
        authenticate(with_header(request, "x-amz-meta-owner", "mallory"))


def test_an_unsigned_amz_header_added_in_transit_is_denied() -> None:
    request, _ = signed()

    with pytest.raises(AccessDenied) as caught:
        authenticate(with_header(request, "x-amz-meta-extra", "sneaky"))

    assert caught.value.details["HeadersNotSigned"] == "x-amz-meta-extra"


def test_a_request_more_than_fifteen_minutes_off_is_too_skewed() -> None:
    request, _ = signed()

    with pytest.raises(RequestTimeTooSkewed) as caught:
        authenticate(request, skew=timedelta(minutes=16))

    assert caught.value.details["RequestTime"] == request.header("x-amz-date")
    assert caught.value.details["MaxAllowedSkewMilliseconds"] == "900000"
    assert authenticate(request, skew=-timedelta(minutes=14)).session == ROOT


def test_credentials_scoped_to_another_region_are_told_the_expected_one() -> None:
    request, _ = signed(region="eu-west-1")

    with pytest.raises(AuthorizationHeaderMalformed) as caught:
        authenticate(request)

    assert caught.value.message == (
        "The authorization header is malformed; the region 'eu-west-1' is wrong; "
        "expecting 'us-east-1'"
    )
    assert caught.value.details == {"Region": "us-east-1"}


def test_a_request_without_a_payload_hash_header_is_invalid() -> None:
    # The generic SigV4 signer does not add x-amz-content-sha256; S3 requires it.
    request, _ = signed(signer=SigV4Auth)

    with pytest.raises(
        InvalidRequest, match="Missing required header for this request: x-amz-content-sha256"
    ):
        authenticate(request)


def test_a_payload_hash_header_that_is_no_hash_is_an_invalid_argument() -> None:
    request, _ = signed(headers={"x-amz-content-sha256": "not-a-hash"}, signer=SigV4Auth)

    with pytest.raises(InvalidArgument) as caught:
        authenticate(request)

    assert caught.value.details["ArgumentName"] == "x-amz-content-sha256"


def test_an_authorization_scheme_other_than_sigv4_is_refused() -> None:
    request, _ = signed()

    with pytest.raises(InvalidArgument, match="Unsupported Authorization Type") as caught:
        authenticate(with_header(request, "authorization", "Bearer abc"))
    assert caught.value.details["ArgumentValue"] == "Bearer abc"
    with pytest.raises(InvalidRequest, match="Please use AWS4-HMAC-SHA256"):
        authenticate(with_header(request, "authorization", "AWS AKIAOVERCASTROOT0001:c2ln"))


def test_a_malformed_credential_is_a_malformed_authorization_header() -> None:
    request, _ = signed()
    header = (request.header("authorization") or "").replace("/us-east-1/s3", "/us-east-1")

    with pytest.raises(AuthorizationHeaderMalformed, match="the Credential is mal-formed"):
        authenticate(with_header(request, "authorization", header))


def test_an_authorization_header_without_a_signature_is_malformed() -> None:
    request, _ = signed()
    header = request.header("authorization") or ""

    with pytest.raises(AuthorizationHeaderMalformed, match="three components"):
        authenticate(with_header(request, "authorization", header[: header.index(", Signature")]))


def test_credentials_for_another_service_are_malformed() -> None:
    request = AWSRequest(method="GET", url=HTTP + "/bucket/key")
    S3SigV4Auth(boto_credentials(ROOT_KEYS), "dynamodb", REGION).add_auth(request)

    with pytest.raises(AuthorizationHeaderMalformed, match='incorrect service "dynamodb"'):
        authenticate(received(request.prepare()))


def test_a_request_without_any_signature_is_anonymous() -> None:
    request = S3Request("GET", "/bucket/key", "", [("host", "127.0.0.1:4566")], secure=False)

    authentication = authenticate(request)

    assert authentication.session is None
    assert authentication.presigned is False
    assert drain(authentication.payload, b"") == b""


# --- presigned URLs -----------------------------------------------------------------


def presigned_url(keys: Credentials = ROOT_KEYS, expires: int = 300) -> S3Request:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=HTTP,
        region_name=REGION,
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": "bucket", "Key": "photos/a cat.jpg"}, ExpiresIn=expires
    )
    parts = urlsplit(url)
    return S3Request("GET", parts.path, parts.query, [("host", parts.netloc)], secure=False)


def test_a_presigned_url_from_generate_presigned_url_is_authenticated() -> None:
    authentication = authenticate(presigned_url())

    assert authentication.session == ROOT
    assert authentication.presigned is True


def test_a_presigned_url_made_with_temporary_credentials_carries_its_token() -> None:
    request = presigned_url(TEMPORARY_KEYS)

    assert "X-Amz-Security-Token=" in request.raw_query
    assert authenticate(request).session == ALICE


def test_a_presigned_url_signed_by_the_query_signer_is_authenticated() -> None:
    assert authenticate(presigned(HTTP + "/bucket/a%20b?versionId=3")).presigned is True


def test_an_expired_presigned_url_is_denied_with_its_expiry() -> None:
    request = presigned(expires=60)

    with pytest.raises(AccessDenied, match="Request has expired") as caught:
        authenticate(request, skew=timedelta(seconds=61))

    assert caught.value.details["X-Amz-Expires"] == "60"
    assert set(caught.value.details) == {"X-Amz-Expires", "Expires", "ServerTime"}


def test_a_presigned_url_from_the_future_is_not_yet_valid() -> None:
    with pytest.raises(AccessDenied, match="Request is not yet valid"):
        authenticate(presigned(), skew=-timedelta(minutes=16))


def test_a_presigned_url_valid_for_more_than_a_week_is_refused() -> None:
    with pytest.raises(AuthorizationQueryParametersError, match="less than a week"):
        authenticate(presigned(expires=604801))
    assert authenticate(presigned(expires=604800)).presigned is True


def test_a_presigned_url_with_a_tampered_query_does_not_match() -> None:
    request = presigned(HTTP + "/bucket/key?versionId=3")

    with pytest.raises(SignatureDoesNotMatch):
        authenticate(
            replace(request, raw_query=request.raw_query.replace("versionId=3", "versionId=4"))
        )


def test_a_presigned_url_for_another_key_does_not_match() -> None:
    request = presigned(HTTP + "/bucket/alice/photo.jpg")

    with pytest.raises(SignatureDoesNotMatch):
        authenticate(replace(request, raw_path="/bucket/bob/photo.jpg"))


def test_a_presigned_url_missing_a_parameter_is_refused() -> None:
    request = presigned()
    query = "&".join(p for p in request.raw_query.split("&") if not p.startswith("X-Amz-Expires"))

    with pytest.raises(AuthorizationQueryParametersError, match="requires the X-Amz-Algorithm"):
        authenticate(replace(request, raw_query=query))


def test_a_presigned_url_for_another_region_is_told_the_expected_one() -> None:
    request = presigned()
    query = request.raw_query.replace("%2Fus-east-1%2F", "%2Feu-west-1%2F")

    with pytest.raises(AuthorizationQueryParametersError, match="expecting 'us-east-1'"):
        authenticate(replace(request, raw_query=query))


def test_both_a_header_and_a_query_signature_is_refused() -> None:
    request = with_header(presigned(), "authorization", "AWS4-HMAC-SHA256 Credential=x")

    with pytest.raises(InvalidArgument, match="Only one auth mechanism allowed"):
        authenticate(request)
