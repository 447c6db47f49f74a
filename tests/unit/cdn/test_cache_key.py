"""The cache key holds what the policy names and nothing else; the origin gets what
CloudFront would send it."""

from __future__ import annotations

import pytest

from overcast.local.cdn.cache_key import (
    cache_key,
    origin_query,
    origin_request_headers,
    viewer_encoding,
)
from overcast.local.cdn.model import Headers, ViewerRequest, header, header_values
from overcast.spec_cdn import (
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    ApiOrigin,
    Behavior,
    CachePolicy,
    Names,
)

API = ApiOrigin()


def behavior(
    *,
    headers: tuple[str, ...] = (),
    query_strings: Names = (),
    cookies: Names = (),
    gzip: bool = True,
    brotli: bool = True,
    max_ttl: int = 31_536_000,
    forward_all_viewer: bool = False,
) -> Behavior:
    policy = CachePolicy(
        "Test",
        0,
        min(86_400, max_ttl),
        max_ttl,
        headers=headers,
        query_strings=query_strings,
        cookies=cookies,
        gzip=gzip,
        brotli=brotli,
    )
    return Behavior("*", API, policy, forward_all_viewer=forward_all_viewer)


def get(path: str = "/a.html", query: str = "", headers: Headers | None = None) -> ViewerRequest:
    return ViewerRequest("GET", path, query, headers or [])


def digest(b: Behavior, request: ViewerRequest) -> str:
    return cache_key(b, request).digest


def test_requests_differing_only_in_undeclared_parts_share_a_key() -> None:
    plain = behavior()
    first = get(query="utm=1", headers=[("Cookie", "session=a"), ("X-Trace", "1")])
    second = get(query="utm=2", headers=[("Cookie", "session=b"), ("X-Trace", "2")])

    assert digest(plain, first) == digest(plain, second)
    assert len(digest(plain, first)) == 64


def test_the_path_is_taken_raw_and_case_sensitive() -> None:
    plain = behavior()
    keys = {digest(plain, get(path)) for path in ("/a b", "/a%20b", "/A%20b", "/a%20B", "/a/./b")}
    assert len(keys) == 5
    assert cache_key(plain, get("/a%20b")).path == "/a%20b"


def test_declared_query_strings_split_the_key_in_order_sent() -> None:
    by_color = behavior(query_strings=("color",))

    red, blue = get(query="color=red&size=l"), get(query="color=blue&size=l")
    red_other_size = get(query="size=s&color=red")

    assert digest(by_color, red) != digest(by_color, blue)
    assert digest(by_color, red) == digest(by_color, red_other_size)
    # "The order of parameters matters in query strings."
    every = behavior(query_strings="all")
    assert digest(every, get(query="a=1&b=2")) != digest(every, get(query="b=2&a=1"))
    # Names and values are case-sensitive.
    assert digest(by_color, get(query="color=red")) != digest(by_color, get(query="Color=red"))
    assert digest(by_color, get(query="color=red")) != digest(by_color, get(query="color=Red"))


def test_declared_headers_split_the_key_by_value_whatever_the_names_case() -> None:
    by_language = behavior(headers=("Accept-Language",))

    english = get(headers=[("accept-language", "en")])
    english_again = get(headers=[("ACCEPT-LANGUAGE", "en"), ("X-Other", "1")])
    french = get(headers=[("Accept-Language", "fr")])
    absent = get()
    empty = get(headers=[("Accept-Language", "")])

    assert digest(by_language, english) == digest(by_language, english_again)
    assert len({digest(by_language, r) for r in (english, french, absent, empty)}) == 4


def test_declared_cookies_split_the_key_in_name_order() -> None:
    by_session = behavior(cookies=("session",))
    every = behavior(cookies="all")

    mine = get(headers=[("Cookie", "theme=dark; session=mine")])
    also_mine = get(headers=[("Cookie", "session=mine; theme=light")])
    yours = get(headers=[("Cookie", "session=yours")])

    assert digest(by_session, mine) == digest(by_session, also_mine)
    assert digest(by_session, mine) != digest(by_session, yours)
    assert digest(every, mine) != digest(every, also_mine)
    swapped = get(headers=[("Cookie", "session=mine"), ("Cookie", "theme=dark")])
    assert digest(every, mine) == digest(every, swapped)


@pytest.mark.parametrize(
    ("accept", "gzip", "brotli", "expected"),
    [
        ("gzip, deflate, br", True, True, "br"),
        ("gzip, deflate", True, True, "gzip"),
        ("br", True, True, "br"),
        ("deflate, sdch", True, True, ""),
        ("gzip, br", True, False, "gzip"),
        ("br", True, False, ""),
        ("gzip, br", False, True, "br"),
        ("gzip", False, False, ""),
        ("br;q=0, gzip", True, True, "gzip"),
        ("br;q=0.0, gzip;q=0", True, True, ""),
        ("BR;Q=0.5", True, True, "br"),
        ("br;q=oops", True, True, "br"),
        (None, True, True, ""),
    ],
)
def test_accept_encoding_is_normalised_into_the_key(
    accept: str | None, gzip: bool, brotli: bool, expected: str
) -> None:
    b = behavior(gzip=gzip, brotli=brotli)
    request = get(headers=[] if accept is None else [("Accept-Encoding", accept)])

    assert cache_key(b, request).encoding == expected
    assert viewer_encoding(b.cache_policy, request.headers) == expected


def test_viewers_normalised_alike_share_a_key_and_others_do_not() -> None:
    b = behavior()
    chrome = get(headers=[("Accept-Encoding", "gzip, deflate, br, zstd")])
    curl_br = get(headers=[("Accept-Encoding", "br")])
    curl_gzip = get(headers=[("Accept-Encoding", "gzip")])
    plain = get()

    assert digest(b, chrome) == digest(b, curl_br)
    assert len({digest(b, r) for r in (chrome, curl_gzip, plain)}) == 3


def test_the_origin_gets_only_what_the_key_holds() -> None:
    b = behavior(headers=("Accept-Language",), cookies=("session",), query_strings=("v",))
    request = get(
        query="v=2&utm=x",
        headers=[
            ("Host", "edge.example"),
            ("Accept-Language", "fr"),
            ("Authorization", "Bearer secret"),
            ("Cookie", "tracking=1; session=abc"),
            ("User-Agent", "curl"),
            ("Accept-Encoding", "gzip, br"),
        ],
    )

    sent = origin_request_headers(b, request)

    assert sent == [
        ("Accept-Language", "fr"),
        ("Cookie", "session=abc"),
        ("Accept-Encoding", "br,gzip"),
    ]
    assert origin_query(b, request) == "v=2"


@pytest.mark.parametrize(
    ("accept", "gzip", "brotli", "expected"),
    [
        ("gzip, deflate, br", True, True, ["br,gzip"]),
        ("gzip, deflate", True, True, ["gzip"]),
        ("gzip, br", False, True, ["br"]),
        ("deflate", True, True, ["identity"]),
        (None, True, True, []),
    ],
)
def test_the_origin_gets_the_normalised_accept_encoding(
    accept: str | None, gzip: bool, brotli: bool, expected: list[str]
) -> None:
    b = behavior(gzip=gzip, brotli=brotli)
    request = get(headers=[] if accept is None else [("Accept-Encoding", accept)])

    assert header_values(origin_request_headers(b, request), "accept-encoding") == expected


def test_a_caching_policy_without_compressed_objects_asks_the_origin_for_identity() -> None:
    # Nothing in the key tells a gzip body from a plain one: the origin must send plain.
    b = behavior(gzip=False, brotli=False)
    request = get(headers=[("Accept-Encoding", "gzip")])
    assert header(origin_request_headers(b, request), "accept-encoding") is None


def test_all_viewer_forwards_everything_but_host_and_hop_by_hop_headers() -> None:
    b = Behavior("/api/*", API, CACHING_DISABLED, forward_all_viewer=True)
    request = ViewerRequest(
        "POST",
        "/api/todos",
        "a=1&b=2",
        [
            ("Host", "edge.example"),
            ("Authorization", "Bearer token"),
            ("Cookie", "a=1; b=2"),
            ("Content-Type", "application/json"),
            ("Connection", "keep-alive, X-Private"),
            ("X-Private", "hop"),
            ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"),
            ("Transfer-Encoding", "chunked"),
            ("Upgrade", "h2c"),
            ("Proxy-Authorization", "Basic x"),
            ("Accept-Encoding", "gzip"),
        ],
    )

    sent = origin_request_headers(b, request)

    assert sent == [
        ("Authorization", "Bearer token"),
        ("Cookie", "a=1; b=2"),
        ("Content-Type", "application/json"),
        ("Accept-Encoding", "gzip"),
    ]
    assert origin_query(b, request) == "a=1&b=2"


def test_all_viewer_withholds_authorization_from_a_get_that_may_be_cached() -> None:
    # CloudFront: Authorization reaches the origin of a caching behaviour only through
    # the cache key, so a cached answer never depends on an unkeyed token.
    caching = Behavior("/api/*", API, CACHING_OPTIMIZED, forward_all_viewer=True)
    keyed = behavior(headers=("Authorization",), forward_all_viewer=True)
    token = [("Authorization", "Bearer token")]

    assert header(origin_request_headers(caching, get(headers=token)), "authorization") is None
    post = ViewerRequest("POST", "/api/x", headers=token)
    assert header(origin_request_headers(caching, post), "authorization") == "Bearer token"
    assert header(origin_request_headers(keyed, get(headers=token)), "authorization") == (
        "Bearer token"
    )


def test_hop_by_hop_headers_named_in_the_key_are_still_not_forwarded() -> None:
    b = behavior(headers=("Connection", "X-Version"))
    request = get(headers=[("Connection", "close"), ("X-Version", "3")])
    assert origin_request_headers(b, request) == [("X-Version", "3")]


def test_query_strings_all_forwards_them_as_sent() -> None:
    b = behavior(query_strings="all")
    assert origin_query(b, get(query="b=2&a=1&&c")) == "b=2&a=1&c"
    assert origin_query(behavior(), get(query="b=2")) == ""
