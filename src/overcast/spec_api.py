"""API declarations: a REST API (API Gateway, Lambda proxy integration), its routes,
CORS and caches.

- An :class:`Api` holds :class:`Route` s (``METHOD /path/{param}`` served by a function,
  optionally behind a Cognito authorizer), its :class:`Cors` preflight settings and its
  stages (:mod:`overcast.spec_stages`).
- A :class:`StageCache` is API Gateway's stage cache; a :class:`RouteCache` sets one GET
  method's cache key and TTL. An API refuses a cached route whose key would mix up
  callers (:data:`CALLER`) or resources (its path parameters).

Import these from :mod:`overcast.spec` (``spec.Api``); this module only keeps
``spec.py`` small. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from overcast.spec_base import DeclarationError, check_name
from overcast.spec_stages import STAGE_NAME, Stage, check_stages

if TYPE_CHECKING:
    from overcast.spec import Function
    from overcast.spec_identity import CognitoAuthorizer

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]
# API Gateway's unauthorizedCacheControlHeaderStrategy values.
UnauthorizedStrategy = Literal[
    "FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER"
]
# API Gateway resource path parts: literal segments, {param} and a final greedy {param+}.
_PATH_PART = re.compile(r"^(?:[A-Za-z0-9._~:@!$&'()*,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})$")


# API Gateway's cache cluster sizes (``cacheClusterSize``), in GB.
CACHE_CLUSTER_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")
# API Gateway: "The default TTL value for API caching is 300 seconds. The maximum TTL
# value is 3600 seconds. TTL=0 means caching is disabled."
MAX_CACHE_TTL_SECONDS = 3600
# The cache key parameter that makes a cached response its caller's own: API Gateway
# keys on the token; the local gateway also keys on the caller the authorizer verified.
CALLER = "method.request.header.Authorization"
_CACHE_KEY = re.compile(
    r"^method\.request\.(path|querystring|header)\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)$"
)


def _check_cache_ttl(owner: str, seconds: int) -> None:
    if isinstance(seconds, bool) or not 0 <= seconds <= MAX_CACHE_TTL_SECONDS:
        raise DeclarationError(
            f"{owner}: a cache TTL must be 0-{MAX_CACHE_TTL_SECONDS} seconds, as in API Gateway "
            "(0 disables caching)."
        )


@dataclass(frozen=True)
class StageCache:
    """API Gateway's stage cache (REST API caching) for the API's stage.

    Once declared, every GET method is cached for ``ttl_seconds`` unless its route says
    otherwise (:class:`RouteCache`); other methods are never cached. ``size_gb`` is the
    cache cluster size (locally, the bound for the cache's memory, at most 512 MiB).
    A client's ``Cache-Control: max-age=0`` refreshes its entry only if the caller may
    invalidate: with ``require_authorization`` (API Gateway's default) only a caller
    allowed to (``execute-api:InvalidateCache`` on AWS; locally, a caller the route's
    authorizer verified); anyone else gets ``unauthorized_strategy``: a 403, or the
    header is ignored, with a ``Warning`` response header (API Gateway's default) or
    without one.
    """

    ttl_seconds: int = 300
    size_gb: str = "0.5"
    require_authorization: bool = True
    unauthorized_strategy: UnauthorizedStrategy = "SUCCEED_WITH_RESPONSE_HEADER"

    def __post_init__(self) -> None:
        _check_cache_ttl("StageCache", self.ttl_seconds)
        if self.size_gb not in CACHE_CLUSTER_SIZES:
            raise DeclarationError(
                f"StageCache size_gb {self.size_gb!r} is not an API Gateway cache size; "
                f"use one of {', '.join(CACHE_CLUSTER_SIZES)}."
            )


@dataclass(frozen=True)
class RouteCache:
    """One GET method's cache settings: its cache key and, if it differs, its TTL.

    ``key_parameters`` are API Gateway's cache key parameters, by its own names:
    ``method.request.path.<name>``, ``method.request.querystring.<name>``,
    ``method.request.header.<Name>`` (:data:`CALLER` keys by the caller). As on API
    Gateway, nothing else is in the key: requests that differ only in something
    undeclared share an entry. ``ttl_seconds=None`` takes the stage's; 0 disables.
    """

    key_parameters: tuple[str, ...] = ()
    ttl_seconds: int | None = None

    def __post_init__(self) -> None:
        if self.ttl_seconds is not None:
            _check_cache_ttl("RouteCache", self.ttl_seconds)
        for parameter in self.key_parameters:
            if not _CACHE_KEY.match(parameter):
                raise DeclarationError(
                    f"RouteCache: cache key parameter {parameter!r} must look like "
                    "'method.request.path.<name>', 'method.request.querystring.<name>' or "
                    "'method.request.header.<Name>', as API Gateway names them."
                )
        lowered = [_key_identity(parameter) for parameter in self.key_parameters]
        if len(lowered) != len(set(lowered)):
            raise DeclarationError(
                f"RouteCache: a cache key parameter is declared twice: {lowered}."
            )


def _key_identity(parameter: str) -> str:
    # Header names are case-insensitive; path and query string names are not.
    kind, _, name = parameter.removeprefix("method.request.").partition(".")
    return f"{kind}.{name.lower() if kind == 'header' else name}"


@dataclass(frozen=True)
class Route:
    """``METHOD /path/{param}`` served by a function, optionally behind an authorizer.

    ``cache`` sets a GET method's stage cache key and TTL (the API must declare a
    :class:`StageCache`).
    """

    method: HttpMethod
    path: str
    function: Function
    authorizer: CognitoAuthorizer | None = None
    cache: RouteCache | None = None

    def __post_init__(self) -> None:
        if self.path != "/" and (not self.path.startswith("/") or self.path.endswith("/")):
            raise DeclarationError(
                f"Route path {self.path!r} must start with '/' and not end with one."
            )
        parts = self.path.strip("/").split("/") if self.path != "/" else []
        for position, part in enumerate(parts):
            if not _PATH_PART.match(part):
                raise DeclarationError(f"Route path {self.path!r}: segment {part!r} is invalid.")
            if part.endswith("+}") and position != len(parts) - 1:
                raise DeclarationError(
                    f"Route path {self.path!r}: a greedy {part} must be the last segment."
                )
        if self.cache is not None:
            self._check_cache(self.cache)

    @property
    def key(self) -> str:
        """API Gateway's route key, e.g. ``GET /todos/{id}``."""
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> tuple[str, ...]:
        """The names of the path's ``{param}`` and ``{param+}`` parts."""
        return tuple(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\+?\}", self.path))

    def _check_cache(self, cache: RouteCache) -> None:
        if self.method != "GET":
            raise DeclarationError(
                f"Route {self.key!r}: only GET methods can be cached (API Gateway's default). "
                "A cached write would not run; remove its cache=."
            )
        for parameter in cache.key_parameters:
            kind, _, name = parameter.removeprefix("method.request.").partition(".")
            if kind == "path" and name not in self.path_parameters:
                raise DeclarationError(
                    f"Route {self.key!r}: cache key parameter {parameter!r} names no path "
                    f"parameter of {self.path!r}."
                )

    def keys_by_caller(self) -> bool:
        """Whether the route's cache key holds the caller (:data:`CALLER`)."""
        caller = _key_identity(CALLER)
        return self.cache is not None and any(
            _key_identity(parameter) == caller for parameter in self.cache.key_parameters
        )


@dataclass(frozen=True)
class Cors:
    """CORS as API Gateway's preflight (OPTIONS) configuration declares it."""

    allow_origins: tuple[str, ...] = ("*",)
    allow_methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    allow_headers: tuple[str, ...] = (
        "Content-Type",
        "X-Amz-Date",
        "Authorization",
        "X-Api-Key",
        "X-Amz-Security-Token",
        "If-Match",
    )
    expose_headers: tuple[str, ...] = ("ETag",)
    max_age_seconds: int = 600
    allow_credentials: bool = False

    def __post_init__(self) -> None:
        if self.allow_credentials and "*" in self.allow_origins:
            raise DeclarationError(
                "Cors: allow_credentials cannot be combined with allow_origins '*'; "
                "browsers reject it. List the origins explicitly."
            )


@dataclass(frozen=True)
class Api:
    """A REST API (API Gateway REST API, Lambda proxy integration) and its stages.

    Without ``stages`` the API has one stage, ``stage``. With ``stages`` (see
    :class:`Stage`) every one of them is served side by side, each with its own handler
    code, stage variables and cache, and ``stage`` names the default one (whose URL is
    the API's). ``cache`` is the cache of every stage that declares none of its own.
    """

    name: str
    routes: tuple[Route, ...]
    stage: str = "v1"
    cors: Cors | None = None
    # API Gateway's default (and, without a quota raise, maximum) integration timeout.
    integration_timeout_seconds: float = 29.0
    binary_media_types: tuple[str, ...] = ()
    cache: StageCache | None = None
    stages: tuple[Stage, ...] = ()

    def __post_init__(self) -> None:
        check_name("Api", self.name)
        if not STAGE_NAME.match(self.stage):
            raise DeclarationError(f"Api {self.name!r}: stage {self.stage!r} is invalid.")
        if self.stages:
            check_stages(self.name, self.stage, self.stages, self.functions)
        keys = [route.key for route in self.routes]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise DeclarationError(f"Api {self.name!r} declares routes twice: {duplicates}.")
        if not 0 < self.integration_timeout_seconds <= 29:
            raise DeclarationError(
                f"Api {self.name!r}: integration timeout must be within (0, 29] seconds."
            )

        self._check_one_declaration_per_name()
        for route in self.routes:
            self._check_caching(route)

    @property
    def functions(self) -> tuple[Function, ...]:
        return tuple({route.function.name: route.function for route in self.routes}.values())

    @property
    def all_stages(self) -> tuple[Stage, ...]:
        """Every stage served: the declared ``stages``, or the one ``stage``."""
        return self.stages or (Stage(self.stage),)

    @property
    def default_stage(self) -> Stage:
        """The stage named ``stage``: the one whose URL is the API's."""
        return next(stage for stage in self.all_stages if stage.name == self.stage)

    def cache_for(self, stage: Stage | None = None) -> StageCache | None:
        """``stage``'s cache (default: the default stage's): its own, else the API's."""
        stage = stage or self.default_stage
        return stage.cache if stage.cache is not None else self.cache

    def cache_ttl(self, route: Route, stage: Stage | None = None) -> int:
        """How long ``stage``'s cache (default: the default stage's) keeps ``route``'s
        responses; 0 when it does not cache them.

        API Gateway: with a stage cache "only GET methods have caching enabled by default".
        """
        cache = self.cache_for(stage)
        if cache is None or route.method != "GET":
            return 0
        if route.cache is not None and route.cache.ttl_seconds is not None:
            return route.cache.ttl_seconds
        return cache.ttl_seconds

    def _check_caching(self, route: Route) -> None:
        """Refuse a cached route whose key would mix up callers or resources."""
        if route.cache is not None and all(
            self.cache_for(stage) is None for stage in self.all_stages
        ):
            raise DeclarationError(
                f"Api {self.name!r}: route {route.key!r} declares cache settings, but the API "
                "has no stage cache; declare Api(cache=StageCache()) or remove the route's cache=."
            )
        ttl = max(self.cache_ttl(route, stage) for stage in self.all_stages)
        if not ttl:
            return
        keyed = {
            _key_identity(parameter) for parameter in (route.cache or RouteCache()).key_parameters
        }
        for name in route.path_parameters:
            if f"path.{name}" not in keyed:
                raise DeclarationError(
                    f"Api {self.name!r}: route {route.key!r} is cached, but its cache key lacks "
                    f"the path parameter {name!r}. API Gateway keys by the declared parameters "
                    f"only, so every {route.path} would share one cached response. Fix: add "
                    f"'method.request.path.{name}' to the route's RouteCache(key_parameters=...)."
                )
        if route.authorizer is not None and not route.keys_by_caller():
            raise DeclarationError(
                f"Api {self.name!r}: route {route.key!r} is behind an authorizer and cached, but "
                "its cache key does not hold the caller. API Gateway leaves the Authorization "
                "header out of the cache key unless told, so the first caller's response would "
                f"be served to every other user of the same request for up to {ttl} s: one "
                "user's data leaked to another. Fix: add overcast.spec.CALLER "
                f"({CALLER!r}) to the route's RouteCache(key_parameters=...), or turn its "
                "caching off with RouteCache(ttl_seconds=0)."
            )

    def _check_one_declaration_per_name(self) -> None:
        """Two routes naming different functions, or authorizers, alike would be ambiguous."""
        functions: dict[str, Function] = {}
        authorizers: dict[str, CognitoAuthorizer] = {}
        for route in self.routes:
            if functions.setdefault(route.function.name, route.function) != route.function:
                raise DeclarationError(
                    f"Api {self.name!r}: two different functions are named "
                    f"{route.function.name!r}; give each its own name."
                )
            if route.authorizer is None:
                continue
            pool = route.authorizer.user_pool.name
            if authorizers.setdefault(pool, route.authorizer) != route.authorizer:
                raise DeclarationError(
                    f"Api {self.name!r}: routes authorize with user pool {pool!r} in two "
                    "different ways; declare one CognitoAuthorizer and share it."
                )
