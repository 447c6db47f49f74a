"""How long the edge keeps an origin response: CloudFront's expiration table, row by row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from overcast.local.cdn.model import Headers
from overcast.local.cdn.ttl import cache_control, cache_ttl
from overcast.spec_cdn import CACHING_DISABLED, CACHING_OPTIMIZED, CachePolicy

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
# The documentation's usual policy: min 0, default 1 day, max 1 year.
OPEN = CachePolicy("Open", 0, 86_400, 31_536_000)
FLOORED = CachePolicy("Floored", 3600, 86_400, 31_536_000)
CAPPED = CachePolicy("Capped", 0, 300, 3600)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def cc(value: str) -> Headers:
    return [("Cache-Control", value)]


@pytest.mark.parametrize(
    ("policy", "headers", "expected"),
    [
        # "The origin adds a Cache-Control max-age directive": the lesser of it and max TTL.
        (OPEN, cc("max-age=600"), 600),
        (CAPPED, cc("max-age=86400"), 3600),
        # Minimum TTL > 0: clamped up to the minimum.
        (FLOORED, cc("max-age=600"), 3600),
        (FLOORED, cc("max-age=7200"), 7200),
        # "The origin does not add a Cache-Control max-age directive": the default TTL.
        (OPEN, [], 86_400),
        (CAPPED, [("Content-Type", "text/html")], 300),
        # s-maxage is for CloudFront, max-age for browsers.
        (OPEN, cc("max-age=60, s-maxage=900"), 900),
        (OPEN, cc("s-maxage=900, max-age=60"), 900),
        (CAPPED, cc("public, s-maxage=90000"), 3600),
        # Only directives that set no duration: the default TTL.
        (OPEN, cc("public, must-revalidate"), 86_400),
        # no-cache/no-store/private: honoured at min 0, else the minimum TTL.
        (OPEN, cc("no-store"), 0),
        (OPEN, cc("no-cache"), 0),
        (OPEN, cc("private, max-age=600"), 0),
        (FLOORED, cc("no-store"), 3600),
        (FLOORED, cc("private, max-age=60000"), 3600),
        (CACHING_OPTIMIZED, cc("no-cache"), 1),
        # Directive names are case-insensitive; several Cache-Control fields combine.
        (OPEN, cc("Max-Age=120"), 120),
        (OPEN, [("cache-control", "public"), ("Cache-Control", "max-age=45")], 45),
        (OPEN, cc('max-age="30"'), 30),
        (OPEN, cc('no-cache="Set-Cookie, X-Foo", max-age=600'), 0),
        # Malformed durations count as absent: the default TTL applies.
        (OPEN, cc("max-age=abc"), 86_400),
        (OPEN, cc("max-age=-5"), 86_400),
        (OPEN, cc("max-age="), 86_400),
        (OPEN, cc("max-age=1.5"), 86_400),
        (OPEN, cc("s-maxage=bad, max-age=70"), 70),
        # A huge value is clamped to the maximum, never an overflow.
        (OPEN, cc("max-age=99999999999999999999999"), 31_536_000),
        (OPEN, cc("max-age=0"), 0),
        (FLOORED, cc("max-age=0"), 3600),
    ],
)
def test_a_200_is_kept_as_the_expiration_table_says(
    policy: CachePolicy, headers: Headers, expected: float
) -> None:
    assert cache_ttl(policy, 200, headers, NOW) == expected


def test_expires_counts_from_the_responses_date() -> None:
    # Given an origin that says the object expires in 20 minutes
    headers = [("Date", http_date(NOW)), ("Expires", http_date(NOW + timedelta(minutes=20)))]

    # Then the edge keeps it 20 minutes, or less under a lower maximum TTL
    assert cache_ttl(OPEN, 200, headers, NOW) == 1200
    assert cache_ttl(CachePolicy("Short", 0, 60, 600), 200, headers, NOW) == 600


def test_expires_without_a_date_counts_from_now() -> None:
    headers = [("Expires", http_date(NOW + timedelta(seconds=90)))]
    assert cache_ttl(OPEN, 200, headers, NOW) == 90


def test_expires_in_the_past_is_zero_then_the_minimum() -> None:
    headers = [("Expires", http_date(NOW - timedelta(days=1)))]

    assert cache_ttl(OPEN, 200, headers, NOW) == 0
    assert cache_ttl(FLOORED, 200, headers, NOW) == 3600


def test_max_age_wins_over_expires() -> None:
    # "If you specify values both for Cache-Control max-age and for Expires, CloudFront
    # uses only the value of Cache-Control max-age."
    headers = [("Cache-Control", "max-age=30"), ("Expires", http_date(NOW + timedelta(hours=5)))]
    assert cache_ttl(OPEN, 200, headers, NOW) == 30


@pytest.mark.parametrize("expires", ["0", "yesterday", "", "Mon, 99 Foo 2026 99:99:99 GMT"])
def test_an_unreadable_expires_counts_as_absent(expires: str) -> None:
    assert cache_ttl(OPEN, 200, [("Expires", expires)], NOW) == 86_400


def test_an_unreadable_date_falls_back_to_now() -> None:
    headers = [("Date", "garbage"), ("Expires", http_date(NOW + timedelta(seconds=300)))]
    assert cache_ttl(OPEN, 200, headers, NOW) == 300


def test_caching_disabled_keeps_nothing_whatever_the_origin_says() -> None:
    for status in (200, 301, 404, 503):
        assert cache_ttl(CACHING_DISABLED, status, cc("max-age=3600"), NOW) == 0


@pytest.mark.parametrize("status", [200, 203, 204, 206, 300, 301, 302, 303, 410])
def test_statuses_cached_under_the_policy(status: int) -> None:
    assert cache_ttl(OPEN, status, cc("max-age=120"), NOW) == 120
    assert cache_ttl(OPEN, status, [], NOW) == 86_400


@pytest.mark.parametrize("status", [307, 308])
def test_temporary_and_permanent_redirects_need_a_cache_control_header(status: int) -> None:
    # "CloudFront caches 307 and 308 responses only when you include the Cache-Control header"
    assert cache_ttl(OPEN, status, [("Location", "/elsewhere")], NOW) == 0
    assert cache_ttl(OPEN, status, cc("max-age=120"), NOW) == 120
    assert cache_ttl(OPEN, status, cc("public"), NOW) == 86_400


@pytest.mark.parametrize("status", [201, 202, 304, 401, 409, 416, 429, 505])
def test_other_statuses_are_not_cached(status: int) -> None:
    assert cache_ttl(OPEN, status, cc("max-age=600"), NOW) == 0


@pytest.mark.parametrize("status", [404, 405, 414, 500, 501, 502, 503, 504])
def test_errors_cloudfront_always_caches_stay_ten_seconds_by_default(status: int) -> None:
    assert cache_ttl(OPEN, status, [], NOW) == 10
    # "If the origin adds other Cache-Control directives": the error caching minimum TTL.
    assert cache_ttl(OPEN, status, cc("no-store"), NOW) == 10


def test_an_error_is_kept_for_the_greater_of_its_max_age_and_the_error_minimum() -> None:
    assert cache_ttl(OPEN, 404, cc("max-age=300"), NOW) == 300
    assert cache_ttl(OPEN, 404, cc("max-age=3"), NOW) == 10
    assert cache_ttl(OPEN, 503, cc("max-age=3"), NOW, {503: 0}) == 3


def test_an_errors_max_age_cannot_exceed_the_maximum_ttl() -> None:
    assert cache_ttl(CAPPED, 404, cc("s-maxage=86400"), NOW) == 3600


def test_a_declared_error_ttl_replaces_the_ten_second_default() -> None:
    assert cache_ttl(OPEN, 404, [], NOW, {404: 60}) == 60
    assert cache_ttl(OPEN, 500, [], NOW, {404: 60}) == 10
    assert cache_ttl(OPEN, 502, [], NOW, {502: 0}) == 0


def test_an_error_with_expires_is_kept_until_then() -> None:
    headers = [("Date", http_date(NOW)), ("Expires", http_date(NOW + timedelta(minutes=2)))]
    assert cache_ttl(OPEN, 404, headers, NOW) == 120


@pytest.mark.parametrize("status", [400, 403, 412, 415])
def test_some_client_errors_are_cached_only_with_max_age(status: int) -> None:
    assert cache_ttl(OPEN, status, [], NOW) == 0
    assert cache_ttl(OPEN, status, [("Expires", http_date(NOW + timedelta(hours=1)))], NOW) == 0
    assert cache_ttl(OPEN, status, cc("max-age=60"), NOW) == 60
    assert cache_ttl(OPEN, status, cc("s-maxage=1"), NOW) == 10


def test_416_is_never_cached_even_with_a_declared_ttl() -> None:
    # "CloudFront doesn't cache status code 416 responses"
    assert cache_ttl(OPEN, 416, cc("max-age=600"), NOW, {416: 300}) == 0


def test_a_naive_now_is_taken_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    headers = [("Expires", http_date(NOW + timedelta(seconds=42)))]
    assert cache_ttl(OPEN, 200, headers, naive) == 42


def test_cache_control_parsing_keeps_the_first_of_a_repeated_directive() -> None:
    directives = cache_control(cc('max-age=10, Max-Age=20, no-cache, community="UCI"'))
    assert directives == {"max-age": "10", "no-cache": None, "community": "UCI"}
