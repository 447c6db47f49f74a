"""A bucket's CORS configuration: S3's document read and checked, and kept on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from overcast import spec
from overcast.local.s3.cors_config import (
    FILE_NAME,
    CorsRule,
    FileCorsConfigurations,
    MemoryCorsConfigurations,
    configure_declared,
    parse_configuration,
    render_configuration,
)
from overcast.local.s3.errors import InvalidRequest, MalformedXML
from overcast.ports.objects.exceptions import NoSuchBucket, ObjectStoreUnavailable

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


def document(*rules: str) -> bytes:
    return f'<CORSConfiguration xmlns="{NAMESPACE}">{"".join(rules)}</CORSConfiguration>'.encode()


def rule(*elements: str) -> str:
    return f"<CORSRule>{''.join(elements)}</CORSRule>"


GET_ANYWHERE = rule("<AllowedMethod>GET</AllowedMethod>", "<AllowedOrigin>*</AllowedOrigin>")
UPLOADS = CorsRule(
    allowed_origins=("https://editor.example", "http://*.example.com"),
    allowed_methods=("PUT", "POST"),
    allowed_headers=("Content-Type", "x-amz-*"),
    expose_headers=("ETag",),
    max_age_seconds=3000,
    id="uploads",
)


def test_a_configuration_reads_back_as_it_was_written() -> None:
    rules = parse_configuration(render_configuration((UPLOADS, CorsRule(("*",), ("GET",)))))

    assert rules == (UPLOADS, CorsRule(("*",), ("GET",)))


def test_get_bucket_cors_writes_each_rules_members_in_the_api_models_order() -> None:
    body = render_configuration((UPLOADS,)).decode()

    order = ["<ID>", "<AllowedHeader>", "<AllowedMethod>", "<AllowedOrigin>", "<ExposeHeader>"]
    positions = [body.index(tag) for tag in [*order, "<MaxAgeSeconds>"]]
    assert positions == sorted(positions)
    assert f'<CORSConfiguration xmlns="{NAMESPACE}">' in body


def test_values_are_kept_as_sent_even_an_empty_origin() -> None:
    rules = parse_configuration(
        document(rule("<AllowedOrigin></AllowedOrigin>", "<AllowedMethod>GET</AllowedMethod>"))
    )

    assert rules == (CorsRule(("",), ("GET",)),)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(document(), id="no rule"),
        pytest.param(document(*[GET_ANYWHERE] * 101), id="101 rules"),
        pytest.param(document(rule("<AllowedMethod>GET</AllowedMethod>")), id="no origin"),
        pytest.param(document(rule("<AllowedOrigin>*</AllowedOrigin>")), id="no method"),
        pytest.param(document(GET_ANYWHERE, "<Other/>"), id="not a rule"),
        pytest.param(
            document(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>",
                          "<MaxAgeSeconds>soon</MaxAgeSeconds>")),
            id="max age not an integer",
        ),
        pytest.param(
            document(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>",
                          f"<ID>{'i' * 256}</ID>")),
            id="id over 255 characters",
        ),
        pytest.param(
            document(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>",
                          "<Unknown>x</Unknown>")),
            id="unknown element",
        ),
        pytest.param(b"<CORSConfiguration><CORSRule>", id="not well-formed"),
    ],
)  # fmt: skip
def test_a_document_outside_s3s_schema_is_malformed_xml(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        parse_configuration(body)


def test_a_hundred_rules_are_allowed() -> None:
    assert len(parse_configuration(document(*[GET_ANYWHERE] * 100))) == 100


@pytest.mark.parametrize(
    ("elements", "message"),
    [
        pytest.param(
            "<AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin>",
            "Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
            id="method",
        ),
        pytest.param(
            "<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>",
            "Unsupported method is get",
            id="lowercase method",
        ),
        pytest.param(
            "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*example*.com</AllowedOrigin>",
            'AllowedOrigin "*example*.com" can not have more than one wildcard.',
            id="origin",
        ),
        pytest.param(
            "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"
            "<AllowedHeader>x-*-*</AllowedHeader>",
            'AllowedHeader "x-*-*" can not have more than one wildcard.',
            id="header",
        ),
        pytest.param(
            "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"
            "<ExposeHeader>*</ExposeHeader>",
            "We currently do not support wildcard for ExposeHeader.",
            id="expose header",
        ),
        pytest.param(
            "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"
            "<ExposeHeader>ETag&#10;</ExposeHeader>",
            "is not a valid header name",
            id="expose header with a line break",
        ),
    ],
)
def test_a_rule_s3_refuses_is_an_invalid_request_saying_why(elements: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_configuration(document(rule(elements)))

    assert message in raised.value.message


def bucket_directories(root: Path) -> FileCorsConfigurations:
    return FileCorsConfigurations(lambda name: root / name)


def test_a_stored_configuration_survives_a_restart(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    bucket_directories(tmp_path).put("photos", (UPLOADS,))

    assert bucket_directories(tmp_path).get("photos") == (UPLOADS,)
    assert [path.name for path in (tmp_path / "photos").iterdir()] == [FILE_NAME]


def test_a_bucket_without_a_configuration_has_none(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()

    assert bucket_directories(tmp_path).get("photos") is None
    assert bucket_directories(tmp_path).get("missing") is None


def test_a_replaced_configuration_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    configurations = bucket_directories(tmp_path)
    configurations.put("photos", (UPLOADS,))
    assert configurations.get("photos") == (UPLOADS,)

    bucket_directories(tmp_path).put("photos", (CorsRule(("*",), ("GET",)),))

    assert configurations.get("photos") == (CorsRule(("*",), ("GET",)),)


def test_a_deleted_configuration_is_gone_and_deleting_none_is_fine(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    configurations = bucket_directories(tmp_path)
    configurations.put("photos", (UPLOADS,))

    configurations.delete("photos")
    configurations.delete("photos")

    assert configurations.get("photos") is None


def test_storing_for_a_bucket_that_is_gone_is_no_such_bucket(tmp_path: Path) -> None:
    with pytest.raises(NoSuchBucket):
        bucket_directories(tmp_path).put("gone", (UPLOADS,))


def test_a_damaged_file_is_a_failure_of_the_store_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / FILE_NAME).write_text("{not json")

    with pytest.raises(ObjectStoreUnavailable, match="CORS configuration of bucket 'photos'"):
        bucket_directories(tmp_path).get("photos")


def test_a_declared_bucket_gets_its_rules_and_an_undeclared_one_keeps_its_own() -> None:
    configurations = MemoryCorsConfigurations()
    configurations.put("kept", (UPLOADS,))
    declared = spec.CorsRule(("https://*.example",), ("PUT",), ("content-type",), ("ETag",), 60)

    configure_declared(configurations, "photos", (declared,))
    configure_declared(configurations, "kept", ())

    assert configurations.get("photos") == (
        CorsRule(("https://*.example",), ("PUT",), ("content-type",), ("ETag",), 60),
    )
    assert configurations.get("kept") == (UPLOADS,)


ANYWHERE: dict[str, object] = {"allowed_origins": ("*",), "allowed_methods": ("GET",)}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        pytest.param({"allowed_origins": ()}, "at least one", id="no origin"),
        pytest.param({"allowed_methods": ("PATCH",)}, "'PATCH'", id="method"),
        pytest.param({"allowed_origins": ("*.*",)}, "more than one", id="origin"),
        pytest.param({"allowed_headers": ("x-*-*",)}, "more than one", id="header"),
        pytest.param({"expose_headers": ("*",)}, "expose_headers", id="expose"),
        pytest.param({"max_age_seconds": -1}, "max_age_seconds", id="max age"),
    ],
)
def test_a_declared_rule_s3_would_refuse_is_refused_when_declared(
    changes: dict[str, object], problem: str
) -> None:
    with pytest.raises(spec.DeclarationError, match=problem):
        spec.CorsRule(**{**ANYWHERE, **changes})  # type: ignore[arg-type]


def test_a_bucket_may_declare_at_most_a_hundred_rules() -> None:
    anywhere = spec.CorsRule(("*",), ("GET",))
    spec.Bucket("photos", cors=(anywhere,) * 100)

    with pytest.raises(spec.DeclarationError, match="at most 100"):
        spec.Bucket("photos", cors=(anywhere,) * 101)


def test_a_bucket_name_that_is_a_path_never_reaches_outside_the_buckets(tmp_path: Path) -> None:
    root = tmp_path / "buckets"
    root.mkdir()
    (tmp_path / FILE_NAME).write_text('{"rules": []}')
    configurations = bucket_directories(root)

    assert configurations.get("..") is None
    with pytest.raises(NoSuchBucket):
        configurations.put("..", (UPLOADS,))
    configurations.delete("..")
    assert (tmp_path / FILE_NAME).read_text() == '{"rules": []}'
