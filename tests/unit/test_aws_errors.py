"""The shared error scaffolding: each API's SigV4 failures are its own, AWS-worded."""

from __future__ import annotations

import pytest

from overcast.local import aws_errors
from overcast.local.auth import sigv4
from overcast.local.aws_errors import JSON_CODES, AwsError, SignatureErrors, error_class
from overcast.local.dynamodb import errors as dynamodb
from overcast.local.sqs import errors as sqs
from overcast.local.sts import errors as sts


class ShopError(AwsError):
    """An API of the test's own."""


class OtherError(AwsError):
    """Another API, to tell the two apart."""


def test_a_made_error_class_is_of_its_api_and_named_after_its_code() -> None:
    # given an error class made for one API
    # when it is raised without a message
    # then it is that API's error (not another's), with its code, status and wording
    NoSuchThing = error_class(ShopError, "NoSuchThing", 404, "No such thing.")
    with pytest.raises(ShopError) as raised:
        raise NoSuchThing()
    assert not isinstance(raised.value, OtherError)
    assert (NoSuchThing.__name__, raised.value.code, raised.value.status) == (
        "NoSuchThing",
        "NoSuchThing",
        404,
    )
    assert (raised.value.message, raised.value.fault) == ("No such thing.", "Sender")
    assert NoSuchThing("Not here.").message == "Not here."


@pytest.mark.parametrize(
    ("failure", "code", "status", "message"),
    [
        (sigv4.MissingAuthenticationToken("-"), "MissingAuthenticationToken", 403,
         aws_errors.MISSING_TOKEN_MESSAGE),
        (sigv4.IncompleteSignature("Bad header"), "IncompleteSignature", 400, "Bad header"),
        (sigv4.UnrecognizedClient("-"), "InvalidClientTokenId", 403,
         aws_errors.INVALID_TOKEN_MESSAGE),
        (sigv4.SignatureExpired("Too old"), "SignatureDoesNotMatch", 403, "Too old"),
    ],
)  # fmt: skip
def test_a_signature_failure_becomes_the_apis_own_query_error(
    failure: sigv4.SignatureError, code: str, status: int, message: str
) -> None:
    # given the SigV4 errors of one query-protocol API
    signature = SignatureErrors(ShopError)
    # when a signature check fails
    error = signature.from_signature_error(failure)
    # then the API answers its own error, coded and worded as AWS does
    assert isinstance(error, ShopError)
    assert (error.code, error.status, error.message) == (code, status, message)


def test_json_apis_answer_coral_shapes_with_their_own_statuses() -> None:
    # given DynamoDB (400 for every SigV4 failure) and SQS (query compatible)
    unknown = sigv4.UnrecognizedClient("-")
    # when an unknown access key signs a request
    from_dynamodb = dynamodb.from_signature_error(unknown)
    from_sqs = sqs.from_signature_error(unknown)
    # then both name the coral shape; DynamoDB says 400, SQS 403 and its query code
    assert from_dynamodb.type == "com.amazon.coral.service#UnrecognizedClientException"
    assert from_dynamodb.status == 400
    assert isinstance(from_sqs, sqs.SqsError)
    assert (from_sqs.type, from_sqs.status, from_sqs.query_code) == (
        "com.amazon.coral.service#UnrecognizedClientException",
        403,
        "InvalidClientTokenId",
    )
    assert SignatureErrors(ShopError, JSON_CODES).expired.code == "ExpiredTokenException"


def test_expired_credentials_stay_each_apis_own_error() -> None:
    # given the ExpiredToken of STS and of SQS, made by the same helper
    expired = sts.ExpiredToken()
    # when STS raises its own
    # then SQS's handler would not catch it, and it keeps STS's code and wording
    assert isinstance(expired, sts.StsError)
    assert not isinstance(expired, sqs.SqsError)
    assert (expired.code, expired.status) == ("ExpiredToken", 403)
    assert expired.message == aws_errors.EXPIRED_TOKEN_MESSAGE
