"""What a request's signature tells S3's policies (s3:authType, s3:signatureversion,
s3:signatureAge, s3:x-amz-content-sha256), and a query decoded once for the signature
and the operation alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from overcast.local.s3.errors import InvalidArgument, SignatureDoesNotMatch
from overcast.local.s3.signing import AuthType, Form, Signing, signing_form
from tests.unit.test_s3_auth import (
    HTTP,
    authenticate,
    client_request,
    presigned,
)
from tests.unit.test_s3_sigv2 import default_presigned


def keys_of(signing: Signing | None) -> dict[str, str]:
    assert signing is not None
    return signing.condition_keys()


def test_a_header_signature_is_rest_header_sigv4_with_its_payload_hash() -> None:
    request, _ = client_request("get_object", Bucket="bucket", Key="k")

    keys = keys_of(authenticate(request).signing)

    assert keys["s3:authType"] == "REST-HEADER"
    assert keys["s3:signatureversion"] == "AWS4-HMAC-SHA256"
    assert keys["s3:x-amz-content-sha256"] == request.header("x-amz-content-sha256")
    assert "s3:signatureAge" not in keys  # S3: "This condition works for presigned URLs"


def test_a_sigv4_presigned_url_tells_its_age_in_milliseconds() -> None:
    request = presigned()

    fresh = keys_of(authenticate(request).signing)
    ten_minutes_on = keys_of(authenticate(request, skew=timedelta(minutes=10)).signing)

    assert fresh["s3:authType"] == "REST-QUERY-STRING"
    assert fresh["s3:signatureversion"] == "AWS4-HMAC-SHA256"
    assert fresh["s3:x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert 0 <= int(fresh["s3:signatureAge"]) < 5_000
    assert 600_000 <= int(ten_minutes_on["s3:signatureAge"]) < 605_000


def test_a_url_signed_ahead_of_the_servers_clock_is_zero_milliseconds_old() -> None:
    keys = keys_of(authenticate(presigned(), skew=-timedelta(minutes=5)).signing)

    assert keys["s3:signatureAge"] == "0"


def test_a_sigv2_url_is_signature_version_aws_and_always_zero_milliseconds_old() -> None:
    keys = keys_of(authenticate(default_presigned(), skew=timedelta(minutes=4)).signing)

    assert keys == {
        "s3:authType": "REST-QUERY-STRING",
        "s3:signatureversion": "AWS",
        "s3:signatureAge": "0",
    }


def test_an_anonymous_request_has_no_signature_keys() -> None:
    request = presigned()
    anonymous = replace(request, raw_query="")

    assert authenticate(anonymous).signing is None


@pytest.mark.parametrize(
    ("params", "authorization", "form"),
    [
        ({}, None, Form.ANONYMOUS),
        ({}, "AWS4-HMAC-SHA256 Credential=x", Form.HEADER),
        ({"X-Amz-Credential": "x"}, None, Form.QUERY_V4),
        ({"AWSAccessKeyId": "x"}, None, Form.QUERY_V2),
        ({"Signature": "x", "X-Amz-Signature": "y"}, None, Form.QUERY_V4),
        ({"Signature": "x"}, "AWS4-HMAC-SHA256 Credential=x", Form.HEADER),
    ],
)
def test_the_signing_form_follows_the_parameters_and_the_header(
    params: dict[str, str], authorization: str | None, form: Form
) -> None:
    assert signing_form(params, authorization) is form


def test_the_presigned_flag_follows_the_auth_type() -> None:
    assert Signing(AuthType.REST_QUERY_STRING, "AWS").presigned is True
    assert Signing(AuthType.REST_HEADER, "AWS4-HMAC-SHA256").presigned is False


# --- one decoding of the query ------------------------------------------------------------


def test_a_repeated_parameter_is_refused_before_any_signature_is_checked() -> None:
    request = presigned(HTTP + "/bucket/key?versionId=3")
    doubled = replace(request, raw_query=request.raw_query + "&versionId=4")

    with pytest.raises(InvalidArgument, match="'versionId' was given more than once"):
        authenticate(doubled)


def test_a_repeated_subresource_of_a_sigv2_url_is_refused() -> None:
    request = default_presigned(method="get_object", VersionId="null")
    doubled = replace(request, raw_query="versionId=other&" + request.raw_query)

    with pytest.raises(InvalidArgument, match="more than once"):
        authenticate(doubled)


def test_the_signature_covers_the_query_as_the_endpoint_decoded_it() -> None:
    request = presigned(HTTP + "/bucket/key?response-content-type=a%2Bb")
    as_served = [(n, "a b" if v == "a+b" else v) for n, v in request.query_pairs()]

    assert authenticate(request).presigned is True
    with pytest.raises(SignatureDoesNotMatch):
        authenticate(replace(request, query=as_served))


def test_a_literal_plus_in_the_query_is_a_plus_to_the_signature() -> None:
    request = presigned(HTTP + "/bucket/key?response-content-type=a%2Bb")
    literal = replace(request, raw_query=request.raw_query.replace("a%2Bb", "a+b"))

    assert dict(literal.query_pairs())["response-content-type"] == "a+b"
    assert authenticate(literal).presigned is True  # the same request, spelled otherwise
