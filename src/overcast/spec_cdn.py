"""CDN declarations: distributions, their behaviours, origins and cache policies.

These mirror CloudFront's model, so that the local edge (``overcast.local.cdn``) and
the CDK stacks (``overcast.aws``) are built from the same objects:

- A :class:`Distribution` has a default behaviour (path pattern ``*``) and ordered
  behaviours; CloudFront matches a request's path against the behaviours in order
  and uses the first match ("Cache behavior settings: Path pattern").
- A :class:`Behavior` sends matched requests to one origin under one cache policy.
- Origins: a bucket through origin access control (:class:`BucketOrigin`), the
  service's own API (:class:`ApiOrigin`), or any existing HTTP(S) app
  (:class:`HttpOrigin`, CloudFront's custom origin).
- A :class:`CachePolicy` holds the minimum, default and maximum TTL and what goes into
  the cache key; :data:`CACHING_OPTIMIZED` and :data:`CACHING_DISABLED` are CloudFront's
  managed policies of those names, with their documented settings.

Import these from :mod:`overcast.spec` (``spec.Distribution``); this module only keeps
``spec.py`` small. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from overcast.spec_base import DeclarationError, check_name

if TYPE_CHECKING:
    from overcast.spec import Bucket

# CloudFront: a cache policy's name is 1-128 letters, digits, hyphens and underscores.
_POLICY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# CloudFront: a path pattern is at most 255 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @
# : + & * ? (and & as &amp;); * and ? are the wildcards.
_PATH_PATTERN = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]{1,255}$")
# "Quotas: cache policies": at most 10 headers, 10 cookies, 10 query strings by name.
_MAX_KEY_NAMES = 10
ONE_YEAR_SECONDS = 31_536_000
ONE_DAY_SECONDS = 86_400
# CloudFront's custom error responses may be set for these status codes only.
ERROR_CODES = frozenset({400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504})

Names = tuple[str, ...] | Literal["all"]
AllowedMethods = Literal["GET_HEAD", "GET_HEAD_OPTIONS", "ALL"]


@dataclass(frozen=True)
class CachePolicy:
    """A CloudFront cache policy: TTL bounds and the cache key.

    TTLs follow CloudFront's rules ("Manage how long content stays in the cache"): the
    origin's ``Cache-Control: s-maxage``/``max-age`` (or ``Expires``) sets the TTL,
    clamped to ``[min_ttl_seconds, max_ttl_seconds]``; without either, the default TTL
    applies; ``no-store``/``no-cache``/``private`` are honoured only while the minimum
    TTL is 0. The cache key is the path plus the named headers, query strings and
    cookies (``"all"`` for every query string or cookie), plus the normalised
    ``Accept-Encoding`` when ``gzip``/``brotli`` are on.
    """

    name: str
    min_ttl_seconds: int = 0
    default_ttl_seconds: int = ONE_DAY_SECONDS
    max_ttl_seconds: int = ONE_YEAR_SECONDS
    headers: tuple[str, ...] = ()
    query_strings: Names = ()
    cookies: Names = ()
    gzip: bool = True
    brotli: bool = True
    # A CloudFront managed policy: referenced by name on AWS, never created.
    managed: bool = False

    def __post_init__(self) -> None:
        if not _POLICY_NAME.match(self.name):
            raise DeclarationError(
                f"Cache policy name {self.name!r} is invalid: use 1-128 letters, digits, "
                "hyphens and underscores."
            )
        if not 0 <= self.min_ttl_seconds <= self.default_ttl_seconds <= self.max_ttl_seconds:
            raise DeclarationError(
                f"Cache policy {self.name!r}: TTLs must satisfy 0 <= min <= default <= max "
                f"(got {self.min_ttl_seconds}, {self.default_ttl_seconds}, "
                f"{self.max_ttl_seconds}), as CloudFront requires."
            )
        for kind, names in (
            ("headers", self.headers),
            ("query strings", self.query_strings),
            ("cookies", self.cookies),
        ):
            if names != "all" and len(names) > _MAX_KEY_NAMES:
                raise DeclarationError(
                    f"Cache policy {self.name!r}: at most {_MAX_KEY_NAMES} {kind} in the "
                    "cache key (a CloudFront quota)."
                )
        if self.headers and self.max_ttl_seconds == 0:
            raise DeclarationError(
                f"Cache policy {self.name!r}: with caching disabled (max TTL 0) the cache key "
                "cannot name headers; CloudFront refuses such a policy."
            )

    @property
    def caches(self) -> bool:
        """Whether anything can be cached under this policy (max TTL above 0)."""
        return self.max_ttl_seconds > 0


# CloudFront's managed policies, with the settings its documentation lists
# ("Use managed cache policies").
CACHING_OPTIMIZED = CachePolicy(
    "CachingOptimized", 1, ONE_DAY_SECONDS, ONE_YEAR_SECONDS, managed=True
)
CACHING_DISABLED = CachePolicy("CachingDisabled", 0, 0, 0, gzip=False, brotli=False, managed=True)
MANAGED_CACHE_POLICIES = {policy.name: policy for policy in (CACHING_OPTIMIZED, CACHING_DISABLED)}


@dataclass(frozen=True)
class BucketOrigin:
    """A bucket of the service, read through origin access control: the bucket refuses
    anonymous reads, and its policy allows ``s3:GetObject`` only to CloudFront's service
    principal calling for this distribution (``aws:SourceArn``)."""

    bucket: Bucket


@dataclass(frozen=True)
class ApiOrigin:
    """The service's own API (its stage's path is the origin path)."""


@dataclass(frozen=True)
class HttpOrigin:
    """An existing HTTP(S) app, unchanged: CloudFront's custom origin.

    ``url`` is where it answers (``https://updates.example.com``); on AWS the domain is
    a deploy-time parameter with this default. Locally, ``local_command`` (if given) is
    started by ``overcast up`` as a process of its own, standing for the app's server
    (an EC2 instance); ``{python}`` (this Python), ``{port}`` (a free port) and
    ``{data_dir}`` (the cloud's data directory) in it are filled in, and the origin is
    then ``http://127.0.0.1:{port}``.
    """

    name: str
    url: str | None = None
    local_command: tuple[str, ...] = ()
    # CloudFront's origin response timeout: 30 s by default, 1-60 s.
    response_timeout_seconds: int = 30

    def __post_init__(self) -> None:
        check_name("HttpOrigin", self.name)
        if self.url is None and not self.local_command:
            raise DeclarationError(
                f"HttpOrigin {self.name!r}: give its url=, local_command=, or both."
            )
        if self.url is not None and urlsplit(self.url).scheme not in ("http", "https"):
            raise DeclarationError(
                f"HttpOrigin {self.name!r}: url {self.url!r} must be http(s)://."
            )
        if not 1 <= self.response_timeout_seconds <= 60:
            raise DeclarationError(
                f"HttpOrigin {self.name!r}: response timeout must be 1-60 s, as CloudFront's."
            )


Origin = BucketOrigin | ApiOrigin | HttpOrigin


@dataclass(frozen=True)
class Behavior:
    """Requests whose path matches ``path_pattern`` go to ``origin`` under
    ``cache_policy``. ``forward_all_viewer`` forwards every viewer header (but
    ``Host``), cookie and query string to the origin — CloudFront's managed origin
    request policy ``AllViewerExceptHostHeader`` — for APIs behind the distribution.
    """

    path_pattern: str
    origin: Origin
    cache_policy: CachePolicy = CACHING_OPTIMIZED
    forward_all_viewer: bool = False
    allowed_methods: AllowedMethods = "GET_HEAD"
    compress: bool = True

    def __post_init__(self) -> None:
        if not _PATH_PATTERN.match(self.path_pattern):
            raise DeclarationError(
                f"Path pattern {self.path_pattern!r} is invalid: up to 255 of A-Z a-z 0-9 "
                "_ - . $ / ~ \" ' @ : + & and the wildcards * and ?, as CloudFront allows."
            )


@dataclass(frozen=True)
class ErrorResponse:
    """A custom error response: how long the edge caches ``status`` from the origin
    (CloudFront's error caching minimum TTL, 10 s by default) and, optionally, the
    page (a path of this distribution) and status the viewer gets instead."""

    status: int
    ttl_seconds: int = 10
    page_path: str | None = None
    response_status: int | None = None

    def __post_init__(self) -> None:
        if self.status not in ERROR_CODES:
            raise DeclarationError(
                f"Custom error responses are for {sorted(ERROR_CODES)}, not {self.status}."
            )
        if self.ttl_seconds < 0:
            raise DeclarationError("An error response's TTL cannot be negative.")
        if self.page_path is not None and not self.page_path.startswith("/"):
            raise DeclarationError(f"Error page path {self.page_path!r} must start with '/'.")


@dataclass(frozen=True)
class Distribution:
    """A CloudFront distribution: behaviours in order, then the default (``*``)."""

    name: str
    default_behavior: Behavior
    behaviors: tuple[Behavior, ...] = ()
    default_root_object: str | None = "index.html"
    error_responses: tuple[ErrorResponse, ...] = ()
    # Origin Shield (AWS only): one more caching layer in front of the origin.
    origin_shield_region: str | None = None

    def __post_init__(self) -> None:
        check_name("Distribution", self.name)
        if self.default_behavior.path_pattern != "*":
            raise DeclarationError(
                f"Distribution {self.name!r}: the default behavior's pattern is '*'."
            )
        patterns = [behavior.path_pattern for behavior in self.behaviors]
        if len(patterns) != len(set(patterns)):
            raise DeclarationError(
                f"Distribution {self.name!r}: two behaviors have one path pattern."
            )
        statuses = [response.status for response in self.error_responses]
        if len(statuses) != len(set(statuses)):
            raise DeclarationError(
                f"Distribution {self.name!r}: two error responses for one status."
            )

    @property
    def all_behaviors(self) -> tuple[Behavior, ...]:
        """Every behaviour in CloudFront's order of matching: declared ones, then default."""
        return (*self.behaviors, self.default_behavior)

    @property
    def origins(self) -> tuple[Origin, ...]:
        """Each distinct origin, in the order behaviours first use it."""
        found: list[Origin] = []
        for behavior in self.all_behaviors:
            if behavior.origin not in found:
                found.append(behavior.origin)
        return tuple(found)
