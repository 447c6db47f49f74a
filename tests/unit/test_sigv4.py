"""SigV4 verification, checked against botocore's signer (the reference implementation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from overcast.local.auth import canonical
from overcast.local.auth.signature import SignatureClaim, SignedParts, calculate, parse_credential
from overcast.local.auth.sigv4 import (
    Credentials,
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    PayloadHashMismatch,
    SignatureExpired,
    SignedRequest,
    SigV4Verifier,
    UnrecognizedClient,
)

ROOT = Credentials("AKIAOVERCASTROOT0001", "s3cr3t/Key+With=Symbols")
TEMPORARY = Credentials("ASIAOVERCASTTEMP0001", "temporary-secret", session_token="the-token")
BASE = "http://127.0.0.1:4566"


def lookup(access_key_id: str) -> Credentials | None:
    return {c.access_key_id: c for c in (ROOT, TEMPORARY)}.get(access_key_id)


def verifier(
    *, skew: timedelta = timedelta(0), service: str = "cognito-idp", s3: bool = False
) -> SigV4Verifier:
    return SigV4Verifier(
        lookup,
        service=service,
        region="us-east-1",
        clock=lambda: datetime.now(UTC) + skew,
        double_encode_path=not s3,
        allow_unsigned_payload=s3,
    )


def signed(
    method: str = "POST",
    url: str = BASE + "/",
    body: bytes = b'{"UserPoolId": "us-east-1_abc"}',
    headers: dict[str, str] | None = None,
    credentials: Credentials = ROOT,
    service: str = "cognito-idp",
    signer: Callable[..., SigV4Auth] = SigV4Auth,
) -> SignedRequest:
    """Sign with botocore and return the request as a server receives it."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    boto = BotoCredentials(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    signer(boto, service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    sent = [("Host", parts.netloc), *prepared.headers.items()]
    return SignedRequest(method, parts.path, parts.query, sent, prepared.body or b"")


def with_header(request: SignedRequest, name: str, value: str) -> SignedRequest:
    kept = [(k, v) for k, v in request.headers if k.lower() != name.lower()]
    return replace(request, headers=[*kept, (name, value)])


def test_a_request_signed_by_botocore_is_accepted_with_its_credentials() -> None:
    request = signed(headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.AdminGetUser"})

    verified = verifier().verify(request)

    assert verified.credentials == ROOT
    assert verified.service == "cognito-idp"
    assert verified.region == "us-east-1"


def test_query_parameters_and_an_encoded_path_are_canonicalised_as_aws_does() -> None:
    url = BASE + "/some%20path/caf%C3%A9/./x/../item?b=2&a=two%20words&a=1&empty&tilde=~x"

    verified = verifier(service="execute-api").verify(
        signed("GET", url, b"", service="execute-api")
    )

    assert verified.credentials == ROOT


def test_s3_paths_are_signed_as_sent_and_the_payload_hash_header_is_used() -> None:
    request = signed(
        "PUT",
        BASE + "/bucket/photos/a%20b%2Bc.jpg",
        b"jpeg bytes",
        service="s3",
        signer=S3SigV4Auth,
    )

    verified = verifier(service="s3", s3=True).verify(request)

    assert verified.payload_hash == request.header("x-amz-content-sha256")


def test_unsigned_payload_is_accepted_only_where_the_endpoint_allows_it() -> None:
    request = signed(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}, service="s3")

    assert verifier(service="s3", s3=True).verify(request).payload_hash == "UNSIGNED-PAYLOAD"
    with pytest.raises(InvalidSignature):
        verifier(service="s3").verify(request)


def test_a_payload_hash_header_that_does_not_match_the_body_is_rejected() -> None:
    request = signed("PUT", BASE + "/bucket/key", b"original", service="s3", signer=S3SigV4Auth)

    with pytest.raises(PayloadHashMismatch):
        verifier(service="s3", s3=True).verify(replace(request, body=b"tampered"))


def test_a_tampered_body_is_rejected() -> None:
    request = signed(body=b'{"Username": "alice@example.com"}')

    with pytest.raises(InvalidSignature, match="does not match") as caught:
        verifier().verify(replace(request, body=b'{"Username": "mallory@example.com"}'))

    assert "The Canonical String for this request should have been" in caught.value.message


def test_a_tampered_signed_header_is_rejected() -> None:
    target = "AWSCognitoIdentityProviderService.AdminGetUser"
    request = signed(headers={"X-Amz-Target": target})

    tampered = with_header(
        request, "X-Amz-Target", "AWSCognitoIdentityProviderService.AdminDeleteUser"
    )
    with pytest.raises(InvalidSignature):
        verifier().verify(tampered)


def test_a_tampered_query_string_is_rejected() -> None:
    request = signed("GET", BASE + "/things?owner=alice", b"", service="execute-api")

    with pytest.raises(InvalidSignature):
        verifier(service="execute-api").verify(replace(request, query="owner=mallory"))


def test_an_unsigned_header_may_be_added_in_transit() -> None:
    request = with_header(signed(), "X-Forwarded-For", "10.0.0.1")

    assert verifier().verify(request).credentials == ROOT


def test_a_signature_made_with_the_wrong_secret_is_rejected() -> None:
    forged = Credentials(ROOT.access_key_id, "not-the-secret")

    with pytest.raises(InvalidSignature):
        verifier().verify(signed(credentials=forged))


def test_an_unknown_access_key_is_an_unrecognized_client() -> None:
    stranger = Credentials("AKIAUNKNOWN000000000", "whatever")

    with pytest.raises(UnrecognizedClient, match="security token included in the request"):
        verifier().verify(signed(credentials=stranger))


def test_temporary_credentials_need_their_session_token() -> None:
    request = signed(credentials=TEMPORARY)
    assert verifier().verify(request).credentials == TEMPORARY

    without_token = replace(
        request,
        headers=[(k, v) for k, v in request.headers if k.lower() != "x-amz-security-token"],
    )
    with pytest.raises(UnrecognizedClient):
        verifier().verify(without_token)
    with pytest.raises(UnrecognizedClient):
        verifier().verify(with_header(request, "X-Amz-Security-Token", "someone-elses"))


def test_an_unsigned_request_is_missing_its_authentication_token() -> None:
    request = SignedRequest("POST", "/", "", [("Host", "127.0.0.1")], b"{}")

    with pytest.raises(MissingAuthenticationToken, match="Missing Authentication Token"):
        verifier().verify(request)


def test_an_authorization_header_without_a_signature_is_incomplete() -> None:
    request = signed()
    header = request.header("authorization") or ""
    truncated = header[: header.index(", Signature=")]

    with pytest.raises(IncompleteSignature, match="requires 'Signature' parameter"):
        verifier().verify(with_header(request, "Authorization", truncated))


def test_a_request_without_a_date_is_incomplete() -> None:
    request = signed()
    undated = replace(
        request, headers=[(k, v) for k, v in request.headers if k.lower() != "x-amz-date"]
    )

    with pytest.raises(IncompleteSignature, match="X-Amz-Date"):
        verifier().verify(undated)


def test_a_signature_older_than_fifteen_minutes_has_expired() -> None:
    with pytest.raises(SignatureExpired, match=r"Signature expired: .* - 15 min"):
        verifier(skew=timedelta(minutes=16)).verify(signed())


def test_a_signature_from_the_future_is_not_yet_current() -> None:
    with pytest.raises(SignatureExpired, match="Signature not yet current"):
        verifier(skew=-timedelta(minutes=16)).verify(signed())


def test_a_signature_within_the_allowed_skew_is_accepted() -> None:
    assert verifier(skew=timedelta(minutes=14)).verify(signed()).credentials == ROOT


def test_credentials_scoped_to_another_service_or_region_are_rejected() -> None:
    with pytest.raises(InvalidSignature, match="correct service: 'cognito-idp'"):
        verifier().verify(signed(service="dynamodb"))
    with pytest.raises(InvalidSignature, match="valid region"):
        SigV4Verifier(
            lookup, service="cognito-idp", region="eu-west-1", clock=lambda: datetime.now(UTC)
        ).verify(signed())


def test_the_signature_matches_the_aws_test_suite_get_vanilla_vector() -> None:
    # From the AWS SigV4 test suite: secret "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    # 20150830T123600Z, us-east-1, service "service", GET / with host and x-amz-date.
    key = canonical.signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "service"
    )
    signed_headers = ["host", "x-amz-date"]
    headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]
    request = canonical.canonical_request(
        "GET",
        "/",
        "",
        canonical.canonical_headers(headers, signed_headers),
        signed_headers,
        canonical.EMPTY_SHA256,
    )
    to_sign = canonical.string_to_sign(
        "20150830T123600Z", "20150830/us-east-1/service/aws4_request", request
    )

    assert (
        canonical.signature(key, to_sign)
        == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_a_query_string_signature_is_recomputed_by_the_same_calculation() -> None:
    # botocore's presigner for a non-S3 service: the path is double-encoded and the
    # canonical query holds every parameter but X-Amz-Signature; the payload is the
    # empty body's hash.
    request = AWSRequest(method="GET", url=BASE + "/some%20path/item?owner=alice")
    SigV4QueryAuth(
        BotoCredentials(ROOT.access_key_id, ROOT.secret_access_key), "execute-api", "us-east-1"
    ).add_auth(request)
    parts = urlsplit(request.prepare().url)
    params = dict(canonical.query_pairs(parts.query))
    credential = parse_credential(params["X-Amz-Credential"])
    assert credential is not None
    claim = SignatureClaim(
        credential,
        tuple(params["X-Amz-SignedHeaders"].split(";")),
        params["X-Amz-Signature"],
        params["X-Amz-Date"],
    )
    key = canonical.signing_key(ROOT.secret_access_key, credential.date, "us-east-1", "execute-api")
    sent = SignedParts("GET", parts.path, parts.query, [("Host", parts.netloc)])

    calculation = calculate(claim, sent, canonical.EMPTY_SHA256, key, presigned=True)

    assert calculation.matches(claim.signature)
    assert "X-Amz-Signature" not in calculation.canonical_request
    tampered = replace(sent, query=parts.query.replace("owner=alice", "owner=bob"))
    assert not calculate(claim, tampered, canonical.EMPTY_SHA256, key, presigned=True).matches(
        claim.signature
    )
