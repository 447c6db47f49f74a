"""Listing parameters, continuation tokens and XML escaping of the S3 endpoint."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from overcast.local.s3 import xml
from overcast.local.s3.errors import InvalidArgument, MalformedXML
from overcast.local.s3.listing import ContinuationTokens, ListParameters


def test_a_token_gives_back_its_marker_after_a_restart(tmp_path: Path) -> None:
    key_path = tmp_path / "state" / "token-key"
    token = ContinuationTokens(key_path).issue("bucket", "photos/2030/ünï.jpg")
    assert ContinuationTokens(key_path).read("bucket", token) == "photos/2030/ünï.jpg"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


@pytest.mark.parametrize("tampering", ["flip", "truncate", "garbage", "other-bucket", "empty"])
def test_a_token_not_issued_for_this_bucket_is_refused(tmp_path: Path, tampering: str) -> None:
    tokens = ContinuationTokens(tmp_path / "key")
    token = tokens.issue("bucket", "some/key")
    forged = {
        "flip": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "truncate": token[:10],
        "garbage": "!!not base64!!",
        "other-bucket": tokens.issue("other", "some/key"),
        "empty": "",
    }[tampering]
    with pytest.raises(InvalidArgument) as raised:
        tokens.read("bucket", forged)
    assert raised.value.details["ArgumentName"] == "continuation-token"


def test_tokens_of_another_endpoint_are_refused(tmp_path: Path) -> None:
    token = ContinuationTokens(tmp_path / "one").issue("bucket", "k")
    with pytest.raises(InvalidArgument):
        ContinuationTokens(tmp_path / "two").read("bucket", token)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("a b/c", "a%20b/c"),
        ("a+b", "a%2Bb"),
        ("ü", "%C3%BC"),
        ("x*y(1)", "x*y%281%29"),
        ("%", "%25"),
    ],
)
def test_url_encoding_keeps_slashes_and_stars(value: str, encoded: str) -> None:
    parameters = ListParameters.read({"encoding-type": "url"})
    assert parameters.encode(value) == encoded
    assert ListParameters.read({}).encode(value) == value


@pytest.mark.parametrize(("given", "size"), [(None, 1000), ("0", 0), ("7", 7), ("100000", 1000)])
def test_max_keys_defaults_and_caps_at_1000(given: str | None, size: int) -> None:
    query = {} if given is None else {"max-keys": given}
    assert ListParameters.read(query).max_keys == size


def test_an_empty_delimiter_is_no_delimiter() -> None:
    assert ListParameters.read({"delimiter": ""}).delimiter is None


def test_xml_text_is_escaped_and_stripped_of_what_xml_cannot_carry() -> None:
    assert xml.element("Key", 'a<b>&"c"') == "<Key>a&lt;b&gt;&amp;&quot;c&quot;</Key>"
    assert xml.element("Resource", "/b/bad\x01key") == "<Resource>/b/bad\ufffdkey</Resource>"
    assert xml.element("IsTruncated", False) == "<IsTruncated>false</IsTruncated>"
    assert xml.element("Absent", None) == ""


def test_request_xml_is_read_with_or_without_s3s_namespace() -> None:
    bare = xml.parse(b"<Delete><Quiet>true</Quiet></Delete>", "Delete")
    spaced = xml.parse(
        b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet></Delete>',
        "Delete",
    )
    assert xml.child_text(bare, "Quiet") == xml.child_text(spaced, "Quiet") == "true"


@pytest.mark.parametrize(
    "body",
    [b"", b"<Delete>", b"<Other/>", b'<!DOCTYPE d [<!ENTITY e "x">]><Delete>&e;</Delete>'],
)
def test_bad_request_xml_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        xml.parse(body, "Delete")
