"""CORS on the S3 endpoint, as an ASGI app over in-memory buckets: rule matching,
preflights, the headers of cross-origin answers, and the bucket CORS operations."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.principals import Principal, Session
from overcast.local.s3.app import S3Endpoint
from overcast.local.s3.auth import S3Authenticator
from overcast.local.s3.cors import find_rule, matches, requested_headers, rule_headers
from overcast.local.s3.cors_config import CorsRule, MemoryCorsConfigurations
from tests.unit.test_s3_app import ROOT, MemoryBuckets, call

EDITOR = "https://127.0.0.1:8443"
UPLOADS = CorsRule(
    allowed_origins=(EDITOR,),
    allowed_methods=("PUT", "POST"),
    allowed_headers=("Content-Type", "x-amz-*"),
    expose_headers=("ETag", "x-amz-request-id"),
    max_age_seconds=3000,
)
READS = CorsRule(allowed_origins=("*",), allowed_methods=("GET", "HEAD"))


class Cloud:
    """An endpoint over bucket ``photos`` and the CORS configurations it keeps."""

    def __init__(self, tmp_path: Path, *rules: CorsRule) -> None:
        self.buckets = MemoryBuckets("photos")
        self.cors = MemoryCorsConfigurations()
        if rules:
            self.cors.put("photos", rules)
        root = Principal(
            "arn:aws:iam::111122223333:root", "111122223333", "111122223333", is_root=True
        )
        sessions = {ROOT.access_key_id: Session(ROOT, root)}
        now = lambda: datetime.now(UTC)  # noqa: E731
        self.app = S3Endpoint(
            self.buckets,
            S3Authenticator(sessions.get, region="us-east-1", clock=now),
            PolicyEvaluator(now),
            bucket_policies=lambda name: [],
            account_id="111122223333",
            region="us-east-1",
            clock=now,
            uploads_root=tmp_path / "uploads",
            cors=self.cors,
        )


def preflight(cloud: Cloud, path: str, **headers: str) -> httpx.Response:
    names = {"origin": "Origin", "method": "Access-Control-Request-Method"}
    names["headers"] = "Access-Control-Request-Headers"
    sent = {names[name]: value for name, value in headers.items()}
    return call(cloud.app, "OPTIONS", path, headers=sent, signed=False)


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


# --- matching -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("http://*.example.com", "http://photos.example.com", True),
        ("http://*.example.com", "https://photos.example.com", False),
        ("http://*.example.com", "http://photos.example.com/", False),
        ("start*end", "startend", True),  # * matches nothing too
        ("start*end", "0start12end", False),  # anchored at both ends
        ("*", "null", True),
        ("https://Editor.example", "https://editor.example", False),  # origins: byte for byte
        ("x-amz-*", "x-amz-date", True),
        ("ab*ba", "aba", False),  # the prefix and suffix may not overlap
    ],
)
def test_one_wildcard_stands_for_any_run_of_characters(
    pattern: str, value: str, expected: bool
) -> None:
    assert matches(pattern, value) is expected


def test_the_first_rule_allowing_origin_method_and_every_header_applies() -> None:
    rules = (READS, UPLOADS)

    assert find_rule(rules, EDITOR, "GET") is READS
    assert find_rule(rules, EDITOR, "PUT", ["content-type", "x-amz-date"]) is UPLOADS
    assert find_rule(rules, EDITOR, "PUT", ["x-custom"]) is None
    assert find_rule(rules, "https://evil.example", "PUT") is None
    assert find_rule(rules, EDITOR, "DELETE") is None


def test_a_rule_without_allowed_headers_allows_no_requested_header() -> None:
    assert find_rule((READS,), EDITOR, "GET", ["content-type"]) is None
    assert find_rule((READS,), EDITOR, "GET", []) is READS


def test_requested_headers_are_read_lowercase_in_order() -> None:
    assert requested_headers("X-Amz-Date, content-type,,Authorization ") == [
        "x-amz-date",
        "content-type",
        "authorization",
    ]
    assert requested_headers(None) == []


def test_a_wildcard_rule_answers_any_origin_without_credentials() -> None:
    headers = dict(rule_headers(READS, EDITOR))

    assert headers[b"access-control-allow-origin"] == b"*"
    assert b"access-control-allow-credentials" not in headers
    assert headers[b"access-control-allow-methods"] == b"GET, HEAD"


# --- preflights ---------------------------------------------------------------------------


def test_an_allowed_preflight_is_answered_without_a_signature(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path, READS, UPLOADS)

    answer = preflight(
        cloud, "/photos/photo.jpg", origin=EDITOR, method="PUT", headers="Content-Type,X-Amz-Date"
    )

    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["access-control-allow-origin"] == EDITOR
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["access-control-allow-methods"] == "PUT, POST"
    assert answer.headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert answer.headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert answer.headers["access-control-max-age"] == "3000"
    assert answer.headers["vary"] == (
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    )
    assert answer.headers["x-amz-request-id"]


def test_a_preflight_no_rule_allows_is_forbidden_naming_method_and_resource(
    tmp_path: Path,
) -> None:
    cloud = Cloud(tmp_path, UPLOADS)

    answer = preflight(cloud, "/photos/photo.jpg", origin="https://evil.example", method="PUT")

    assert answer.status_code == 403
    assert "<Code>AccessForbidden</Code>" in answer.text
    assert "CORSResponse: This CORS request is not allowed." in answer.text
    assert "<Method>PUT</Method><ResourceType>OBJECT</ResourceType><RequestId>" in answer.text
    assert "access-control-allow-origin" not in answer.headers


def test_a_preflight_asking_for_a_header_no_rule_allows_is_forbidden(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path, UPLOADS)

    answer = preflight(cloud, "/photos", origin=EDITOR, method="POST", headers="x-custom")

    assert answer.status_code == 403
    assert "<ResourceType>BUCKET</ResourceType>" in answer.text


@pytest.mark.parametrize(
    ("configured", "headers", "status", "message"),
    [
        pytest.param(True, {"method": "PUT"}, 400, "Origin request header needed.", id="no origin"),
        pytest.param(False, {"origin": EDITOR}, 403, "CORS is not enabled for this bucket.",
                     id="no configuration"),
        pytest.param(True, {"origin": EDITOR}, 400, "Invalid Access-Control-Request-Method: null",
                     id="no method"),
    ],
)  # fmt: skip
def test_a_preflight_missing_what_s3_needs_is_refused_as_s3_does(
    tmp_path: Path, configured: bool, headers: dict[str, str], status: int, message: str
) -> None:
    cloud = Cloud(tmp_path, *([UPLOADS] if configured else []))

    answer = preflight(cloud, "/photos/k", **headers)

    assert answer.status_code == status
    assert message in answer.text


def test_a_preflight_to_a_missing_bucket_says_so(tmp_path: Path) -> None:
    answer = preflight(Cloud(tmp_path), "/nope/k", origin=EDITOR, method="PUT")

    assert answer.status_code == 403
    assert "CORSResponse: Bucket not found" in answer.text


# --- actual requests ----------------------------------------------------------------------


def test_an_allowed_cross_origin_answer_carries_the_rules_headers(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path, UPLOADS)

    answer = call(cloud.app, "PUT", "/photos/photo.jpg", body=b"jpeg", headers={"Origin": EDITOR})

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == EDITOR
    assert answer.headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert "access-control-allow-headers" not in answer.headers
    assert answer.headers["vary"].startswith("Origin")


def test_an_error_answer_carries_them_too_so_the_page_can_read_it(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path, UPLOADS)

    answer = call(
        cloud.app, "PUT", "/photos/k", body=b"x", headers={"Origin": EDITOR}, signed=False
    )

    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text
    assert answer.headers["access-control-allow-origin"] == EDITOR


def test_a_cross_origin_request_no_rule_allows_is_served_without_cors_headers(
    tmp_path: Path,
) -> None:
    cloud = Cloud(tmp_path, UPLOADS)

    answer = call(
        cloud.app, "PUT", "/photos/k", body=b"x", headers={"Origin": "https://evil.example"}
    )

    assert answer.status_code == 200  # CORS authorizes nothing: policies decide
    assert "access-control-allow-origin" not in answer.headers
    assert "vary" not in answer.headers


def test_the_request_method_header_decides_an_actual_requests_match(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path, READS)
    call(cloud.app, "PUT", "/photos/k", body=b"x")

    asked_put = call(
        cloud.app,
        "GET",
        "/photos/k",
        headers={"Origin": EDITOR, "Access-Control-Request-Method": "PUT"},
    )
    plain = call(cloud.app, "GET", "/photos/k", headers={"Origin": EDITOR})

    assert "access-control-allow-origin" not in asked_put.headers
    assert plain.headers["access-control-allow-origin"] == "*"


# --- PutBucketCors, GetBucketCors, DeleteBucketCors -------------------------------------


CONFIGURATION = (
    b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>"
    b"<AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>"
)


def test_put_then_get_then_delete_a_configuration(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)

    put = call(
        cloud.app,
        "PUT",
        "/photos?cors",
        body=CONFIGURATION,
        headers={"Content-MD5": md5(CONFIGURATION)},
    )
    got = call(cloud.app, "GET", "/photos?cors")
    deleted = call(cloud.app, "DELETE", "/photos?cors")
    after = call(cloud.app, "GET", "/photos?cors")

    assert put.status_code == 200
    assert cloud.cors.get("photos") is None
    assert (
        "<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>" in got.text
    )
    assert deleted.status_code == 204
    assert after.status_code == 404
    assert "<Code>NoSuchCORSConfiguration</Code>" in after.text
    assert "<BucketName>photos</BucketName>" in after.text


def test_put_bucket_cors_without_an_integrity_header_changes_nothing(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path, UPLOADS)

    answer = call(cloud.app, "PUT", "/photos?cors", body=CONFIGURATION)

    assert answer.status_code == 400
    assert "Missing required header for this request: Content-MD5" in answer.text
    assert cloud.cors.get("photos") == (UPLOADS,)


def test_an_anonymous_caller_may_neither_read_nor_change_a_configuration(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path, UPLOADS)

    for method in ("GET", "PUT", "DELETE"):
        answer = call(cloud.app, method, "/photos?cors", body=b"", signed=False)
        assert answer.status_code == 403, method
    assert cloud.cors.get("photos") == (UPLOADS,)


def test_a_deleted_and_created_again_bucket_starts_without_a_configuration(
    tmp_path: Path,
) -> None:
    cloud = Cloud(tmp_path, UPLOADS)

    assert call(cloud.app, "DELETE", "/photos").status_code == 204
    assert call(cloud.app, "PUT", "/photos").status_code == 200

    assert call(cloud.app, "GET", "/photos?cors").status_code == 404


def test_cors_of_an_object_is_not_a_subresource_s3_has(tmp_path: Path) -> None:
    answer = call(Cloud(tmp_path).app, "GET", "/photos/k?cors")

    assert answer.status_code == 501
