"""Path patterns pick behaviours as CloudFront's do; invalidation paths are checked and
matched by CloudFront's rules."""

from __future__ import annotations

import pytest

from overcast.local.cdn.paths import (
    InvalidInvalidationPath,
    UnsafePath,
    behavior_for,
    check_invalidation_path,
    invalidation_matches,
    matches_path_pattern,
    normalized_path,
)
from overcast.spec_cdn import CACHING_DISABLED, ApiOrigin, Behavior, Distribution, HttpOrigin

API = ApiOrigin()
APP = HttpOrigin("app", url="http://127.0.0.1:9")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*", "/", True),
        ("*", "/any/thing.js", True),
        ("/images/*.jpg", "/images/cat.jpg", True),
        ("/images/*.jpg", "/images/2024/cat.jpg", True),  # * crosses '/'
        ("/images/*.jpg", "/images/cat.JPG", False),  # case-sensitive
        ("/images/*.jpg", "/images/cat.jpeg", False),
        ("images/*.jpg", "/images/cat.jpg", True),  # leading '/' optional
        ("*.jpg", "/deep/down/cat.jpg", True),
        ("/api/*", "/api", False),
        ("/api/*", "/api/", True),
        ("/api*", "/api", True),
        ("/v?/*", "/v1/x", True),
        ("/v?/*", "/v10/x", False),  # ? is exactly one character
        ("/v?/*", "/v/x", False),
        ("/a.b", "/aXb", False),  # '.' is literal
        ("/a+b/$x", "/a+b/$x", True),
        ("/exact.html", "/exact.html", True),
        ("/exact.html", "/exact.html/more", False),
    ],
)
def test_path_patterns(pattern: str, path: str, expected: bool) -> None:
    assert matches_path_pattern(pattern, path) is expected


def test_the_first_matching_behaviour_wins_then_the_default() -> None:
    api = Behavior("/api/*", API, CACHING_DISABLED)
    api_docs = Behavior("/api/docs/*", APP)
    images = Behavior("*.png", APP)
    default = Behavior("*", APP)
    site = Distribution("site", default, (api, api_docs, images))

    assert behavior_for(site, "/api/todos") is api
    assert behavior_for(site, "/api/docs/index.html") is api  # listed first
    assert behavior_for(site, "/api/logo.png") is api
    assert behavior_for(site, "/img/logo.png") is images
    assert behavior_for(site, "/index.html") is default


@pytest.mark.parametrize(
    "path",
    ["/images/image1.jpg", "/images/image*", "/images/*", "/*", "/", "/a%20b.html", "/a?v=1"],
)
def test_valid_invalidation_paths_are_accepted_as_given(path: str) -> None:
    assert check_invalidation_path(path) == path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("images/image1.jpg", "begin with '/'"),
        ("", "begin with '/'"),
        ("/images/*/image1.jpg", "last character"),
        ("/**", "last character"),
        ("/" + "a" * 4000, "4000"),
        ("/a b.html", "URL-encode"),
        ("/caf\u00e9.html", "URL-encode"),
        ("/a\nb", "URL-encode"),
    ],
)
def test_invalid_invalidation_paths_fail_with_cloudfronts_error(path: str, reason: str) -> None:
    with pytest.raises(InvalidInvalidationPath) as raised:
        check_invalidation_path(path)

    assert str(raised.value) == "Your request contains one or more invalid invalidation paths."
    assert raised.value.code == "InvalidArgument"
    assert reason in raised.value.reason
    assert isinstance(raised.value, ValueError)


def test_the_longest_path_cloudfront_accepts() -> None:
    path = "/" + "a" * 3999
    assert check_invalidation_path(path) == path


@pytest.mark.parametrize(
    ("invalidation", "object_path", "expected"),
    [
        ("/images/*", "/images/a.png", True),
        ("/images/*", "/images/2024/a.png", True),
        ("/images/*", "/images", False),
        ("/images*", "/images", True),
        ("/images*", "/images-old/a.png", True),
        ("/images/image*", "/images/image1.jpg", True),
        ("/images/logo.*", "/images/logo.png", True),
        ("/images/logo.*", "/images/logos.png", False),
        ("/*", "/anything/at/all", True),
        ("/a", "/a", True),
        ("/a", "/a/", False),
        ("/a", "/ab", False),
        ("/Images/a.png", "/images/a.png", False),  # case-sensitive
        ("/a%20b", "/a%20b", True),  # compared as encoded
        ("/a%20b", "/a b", False),
        ("/a?v=1", "/a", True),  # every query-string variant of /a
        ("/a?v=*", "/a", True),
        ("/a?v=*", "/ab", False),
        ("/[x]*", "/[x]/y", True),
    ],
)
def test_invalidation_matching(invalidation: str, object_path: str, expected: bool) -> None:
    assert invalidation_matches(invalidation, object_path) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/", "/"),
        ("/a/b.txt", "/a/b.txt"),
        ("/a/../count", "/count"),
        ("/a/./b/../c", "/a/c"),
        ("/..", "/"),
        ("/../otherbucket/secret.txt", "/otherbucket/secret.txt"),
        ("/../../x", "/x"),
        ("/a/%2e%2E/count", "/count"),  # encoded dots are dots
        ("/a/%2e/b", "/a/b"),
        ("/a/..", "/"),
        ("/a/b/..", "/a/"),
        ("/a/.hidden/..x", "/a/.hidden/..x"),  # not dot segments
        ("/a%20b//c", "/a%20b//c"),  # the rest stays as sent
        ("relative/../x", "/x"),
    ],
)
def test_dot_segments_are_removed_as_rfc_3986_says(raw: str, expected: str) -> None:
    assert normalized_path(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["/..%2Fotherbucket/secret.txt", "/a/..%2f..%2fx", "/%2e%2e%2Fx", "/.%2F..%2Fx", "/a/..%5Cx"],
)
def test_dot_segments_hidden_behind_an_encoded_slash_are_refused(raw: str) -> None:
    with pytest.raises(UnsafePath):
        normalized_path(raw)
