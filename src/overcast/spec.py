"""Declarations: what a service is made of, written once in typed Python.

A service's ``service.py`` builds a :class:`Service` from these classes. The local
cloud (``overcast up``) wires embedded backends from it; the AWS deployer emits CDK
stacks from the very same objects. Nothing about a resource is written twice.

Every declaration checks itself when built and raises :class:`DeclarationError`
with a message that says what is wrong and how to fix it. The local cloud runs
further checks of its own at start-up (see ``overcast.local.cloud``) and refuses
to start a declaration it cannot honour.

This module is imported by Lambda handlers (to know their table's key schema), so
it stays light: standard library only, nothing at import time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal

KeyType = Literal["S", "N"]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]
AuthFlow = Literal[
    "USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH", "USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH"
]
# API Gateway's unauthorizedCacheControlHeaderStrategy values.
StreamView = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
UnauthorizedStrategy = Literal[
    "FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER"
]

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
# API Gateway resource path parts: literal segments, {param} and a final greedy {param+}.
_PATH_PART = re.compile(r"^(?:[A-Za-z0-9._~:@!$&'()*,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})$")
_HANDLER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_ASSETS = re.compile(r"^[A-Za-z_][\w.]*:[\w./-]+$")
# AWS region names: us-east-1, ap-southeast-2, us-gov-west-1, ...
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[1-9][0-9]?$")


class DeclarationError(ValueError):
    """A declaration is invalid, or the local cloud cannot honour it."""


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise DeclarationError(
            f"{kind} name {name!r} is invalid: use 1-63 lowercase letters, digits and "
            "hyphens, starting with a letter (it becomes part of AWS resource names)."
        )


@dataclass(frozen=True)
class Key:
    """One key attribute: its name and DynamoDB scalar type (``S`` string, ``N`` number)."""

    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class Index:
    """A global secondary index (projection ALL). Items lacking its keys are not in it."""

    name: str
    partition_key: Key
    sort_key: Key | None = None

    def __post_init__(self) -> None:
        _check_name("Index", self.name)


@dataclass(frozen=True)
class ReadCache:
    """A DAX-style read cache in front of a table: a DAX cluster and client on AWS, an
    in-process cache locally (see :mod:`overcast.ports.tables.cached`).

    TTLs are DAX's ``record-ttl-millis`` and ``query-ttl-millis`` (default 5 minutes
    each). DAX: with an item TTL of 0, items leave the item cache only by LRU eviction
    or a write through the cache; with a query TTL of 0, query results are not cached.
    ``max_items`` / ``max_queries`` bound each cache locally (LRU), as a DAX node's
    memory does. ``dax_parity=True`` keeps DAX's stale query cache after writes, and
    does not look for writes made by other processes, instead of Overcast's stronger
    guarantees.
    """

    item_ttl_seconds: float = 300.0
    query_ttl_seconds: float = 300.0
    max_items: int = 10_000
    max_queries: int = 1_000
    dax_parity: bool = False

    def __post_init__(self) -> None:
        if self.item_ttl_seconds < 0 or self.query_ttl_seconds < 0:
            raise DeclarationError("ReadCache TTLs must be 0 seconds or more, as in DAX.")
        if self.max_items < 1 or self.max_queries < 1:
            raise DeclarationError("ReadCache max_items and max_queries must be at least 1.")


@dataclass(frozen=True)
class Table:
    """A DynamoDB-style table: partition key, optional sort key, secondary indexes, and
    optionally a read cache (DAX).

    ``replica_regions`` makes it a DynamoDB global table (version 2019.11.21): on AWS
    the table is replicated, multi-active, to each listed region besides the region its
    stack is deployed in (see :mod:`overcast.aws.tables`). Locally it stays one SQLite
    table: replication is AWS's job, and one machine has one region.
    """

    name: str
    partition_key: Key
    sort_key: Key | None = None
    indexes: tuple[Index, ...] = ()
    read_cache: ReadCache | None = None
    # DynamoDB Streams: what each change record carries (None: no stream).
    stream: StreamView | None = None
    # Global table replicas: AWS region names such as "eu-west-1".
    replica_regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("Table", self.name)
        names = [index.name for index in self.indexes]
        if len(names) != len(set(names)):
            raise DeclarationError(f"Table {self.name!r} declares an index name twice: {names}.")
        self._check_replicas()

    def _check_replicas(self) -> None:
        for region in self.replica_regions:
            if not _REGION.match(region):
                raise DeclarationError(
                    f"Table {self.name!r}: replica region {region!r} is not an AWS region "
                    "name such as 'eu-west-1'."
                )
        if len(set(self.replica_regions)) != len(self.replica_regions):
            raise DeclarationError(f"Table {self.name!r} names a replica region twice.")
        # DynamoDB: a replica can be added only to a table whose stream carries "both the
        # new and the old images of the item" (CreateGlobalTable), and CloudFormation's
        # AWS::DynamoDB::GlobalTable requires a StreamSpecification with more than one
        # replica. Replication reads that stream; declaring it keeps the two worlds alike.
        if self.replica_regions and self.stream != "NEW_AND_OLD_IMAGES":
            raise DeclarationError(
                f"Table {self.name!r} has replicas, so DynamoDB needs its stream to carry new "
                'and old images: declare stream="NEW_AND_OLD_IMAGES".'
            )

    def index(self, name: str) -> Index:
        for index in self.indexes:
            if index.name == name:
                return index
        raise DeclarationError(f"Table {self.name!r} has no index {name!r}.")


@dataclass(frozen=True)
class PasswordPolicy:
    """Cognito's default password policy unless told otherwise."""

    minimum_length: int = 8
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_digits: bool = True
    require_symbols: bool = True

    def __post_init__(self) -> None:
        if not 6 <= self.minimum_length <= 99:
            raise DeclarationError("PasswordPolicy.minimum_length must be 6-99, as in Cognito.")


@dataclass(frozen=True)
class UserPoolClient:
    """An app client of a user pool (public: no client secret)."""

    name: str
    auth_flows: tuple[AuthFlow, ...] = ("USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH")

    def __post_init__(self) -> None:
        _check_name("UserPoolClient", self.name)


@dataclass(frozen=True)
class UserPool:
    """A Cognito user pool: users sign up with their email address as username."""

    name: str
    clients: tuple[UserPoolClient, ...] = (UserPoolClient("web"),)
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    verification_subject: str = "Your verification code"
    verification_message: str = "Your verification code is {####}."
    from_address: str = "no-reply@overcast.local"
    id_token_minutes: int = 60
    access_token_minutes: int = 60
    refresh_token_days: int = 30

    def __post_init__(self) -> None:
        _check_name("UserPool", self.name)
        if "{####}" not in self.verification_message:
            raise DeclarationError(
                f"UserPool {self.name!r}: verification_message must contain the "
                "placeholder {####}, as Cognito requires."
            )
        # Cognito: ID and access tokens last 5 minutes to 1 day; refresh tokens 1 hour to 10 years.
        for minutes in (self.id_token_minutes, self.access_token_minutes):
            if not 5 <= minutes <= 24 * 60:
                raise DeclarationError("Token validity must be 5 minutes to 1 day, as in Cognito.")
        if not 1 <= self.refresh_token_days <= 3650:
            raise DeclarationError("Refresh token validity must be 1 to 3650 days, as in Cognito.")
        if not self.clients:
            raise DeclarationError(f"UserPool {self.name!r} needs at least one client.")

    def client(self, name: str) -> UserPoolClient:
        for client in self.clients:
            if client.name == name:
                return client
        raise DeclarationError(f"UserPool {self.name!r} has no client {name!r}.")


@dataclass(frozen=True)
class CognitoAuthorizer:
    """API Gateway's Cognito user pool authorizer: requires a valid ID token.

    The token comes from the ``Authorization`` header (``Bearer`` prefix optional).
    Verified tokens are cached for ``ttl_seconds`` (API Gateway's default: 300).
    """

    user_pool: UserPool
    ttl_seconds: int = 300

    def __post_init__(self) -> None:
        if not 0 <= self.ttl_seconds <= 3600:
            raise DeclarationError("Authorizer TTL must be 0-3600 seconds, as in API Gateway.")


@dataclass(frozen=True)
class IdentityPool:
    """A Cognito identity pool: users signed in to ``user_pool`` exchange their ID token
    for temporary AWS credentials of the pool's authenticated role.

    Guests (unauthenticated identities) are not supported. The role's permissions
    come from the declarations that name the pool, e.g. a :class:`Bucket` with
    ``user_folders=`` this pool.
    """

    name: str
    user_pool: UserPool

    def __post_init__(self) -> None:
        _check_name("IdentityPool", self.name)


CorsMethod = Literal["GET", "PUT", "HEAD", "POST", "DELETE"]
_CORS_METHODS = frozenset({"GET", "PUT", "HEAD", "POST", "DELETE"})
MAX_CORS_RULES = 100  # S3: "You can add up to 100 rules to the configuration."


@dataclass(frozen=True)
class CorsRule:
    """One rule of a bucket's CORS configuration, as S3's ``CORSRule``.

    S3 answers a browser's cross-origin request with the first rule whose origins match
    its ``Origin`` (one ``*`` wildcard each, ``*`` alone for every origin), whose methods
    hold its method, and whose ``allowed_headers`` (one ``*`` each) cover every header
    its preflight asks for. ``expose_headers`` are response headers scripts may read
    (``ETag`` after an upload); ``max_age_seconds`` is how long a browser keeps the
    preflight's answer.
    """

    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[CorsMethod, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None

    def __post_init__(self) -> None:
        if not self.allowed_origins or not self.allowed_methods:
            raise DeclarationError("CorsRule needs at least one allowed origin and method.")
        unsupported = sorted(set(self.allowed_methods) - _CORS_METHODS)
        if unsupported:
            raise DeclarationError(
                f"CorsRule: method {unsupported[0]!r} is not one S3 allows in CORS rules "
                "(GET, PUT, HEAD, POST, DELETE)."
            )
        for value in (*self.allowed_origins, *self.allowed_headers):
            if value.count("*") > 1:
                raise DeclarationError(f"CorsRule: {value!r} has more than one '*', as S3 refuses.")
        if any("*" in header for header in self.expose_headers):
            raise DeclarationError("CorsRule: S3 allows no '*' in expose_headers.")
        if self.max_age_seconds is not None and self.max_age_seconds < 0:
            raise DeclarationError("CorsRule: max_age_seconds must be 0 or more.")


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket. With ``user_folders``, each signed-in identity of that identity
    pool may list, read, write and delete objects under ``<identity id>/`` and
    nothing else (AWS's per-user-folder policy on the pool's authenticated role).
    With ``cors``, browsers on other origins may call it (the bucket's CORS
    configuration: up to 100 rules, the first match applies).
    """

    name: str
    user_folders: IdentityPool | None = None
    # Files deployed into the bucket, as CDK's BucketDeployment does (without pruning):
    # "package:folder", a folder inside an importable package. ``overcast up`` uploads
    # them at each start; objects the folder does not hold are left alone.
    assets: str | None = None
    cors: tuple[CorsRule, ...] = ()

    def __post_init__(self) -> None:
        _check_name("Bucket", self.name)
        if len(self.cors) > MAX_CORS_RULES:
            raise DeclarationError(
                f"Bucket {self.name!r}: S3 allows at most {MAX_CORS_RULES} CORS rules."
            )
        if self.assets is not None and not _ASSETS.match(self.assets):
            raise DeclarationError(
                f"Bucket {self.name!r}: assets {self.assets!r} must look like "
                "'package.module:folder'."
            )


@dataclass(frozen=True)
class Function:
    """A Lambda function: ``handler`` is ``"package.module:function"``."""

    name: str
    handler: str
    tables: tuple[Table, ...] = ()
    user_pools: tuple[UserPool, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    identity_pools: tuple[IdentityPool, ...] = ()
    # Distributions the function may invalidate (cloudfront:CreateInvalidation).
    distributions: tuple[Distribution, ...] = ()
    # Topics the function may publish to, queues it may send to.
    topics: tuple[Topic, ...] = ()
    queues: tuple[Queue, ...] = ()
    # The SES identity the function sends mail from (None: it sends none).
    mail: MailIdentity | None = None
    timeout_seconds: int = 29
    memory_mb: int = 256

    def __post_init__(self) -> None:
        _check_name("Function", self.name)
        if not _HANDLER.match(self.handler):
            raise DeclarationError(
                f"Function {self.name!r}: handler {self.handler!r} must look like "
                "'package.module:function'."
            )
        if not 1 <= self.timeout_seconds <= 900:
            raise DeclarationError("Function timeout must be 1-900 seconds, as in Lambda.")


@dataclass(frozen=True)
class StreamTrigger:
    """Lambda's event source mapping on a table's stream: batches of change records.

    Defaults and limits are Lambda's (``CreateEventSourceMapping`` for DynamoDB
    Streams): batch size 100 (1-10000), batching window 0-300 s, retries -1
    (until the record expires) or 0-10000, record age -1 or 60-604800 s.
    ``filter_patterns`` are Lambda's filter criteria, JSON patterns matched against
    each record (e.g. ``'{"eventName": ["INSERT"]}'``), at most 5. With ``on_failure``,
    records of batches that fail for good are kept (AWS: an on-failure destination)
    and can be listed and redriven.
    """

    table: Table
    function: Function
    batch_size: int = 100
    batching_window_seconds: float = 0
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    bisect_batch_on_function_error: bool = False
    report_batch_item_failures: bool = False
    filter_patterns: tuple[str, ...] = ()
    on_failure: bool = True

    def __post_init__(self) -> None:
        where = f"StreamTrigger {self.table.name!r} -> {self.function.name!r}"
        if self.table.stream is None:
            raise DeclarationError(f"{where}: table {self.table.name!r} declares no stream=.")
        if not 1 <= self.batch_size <= 10_000:
            raise DeclarationError(f"{where}: batch_size must be 1-10000, as in Lambda.")
        if not 0 <= self.batching_window_seconds <= 300:
            raise DeclarationError(f"{where}: the batching window must be 0-300 s, as in Lambda.")
        if not -1 <= self.maximum_retry_attempts <= 10_000:
            raise DeclarationError(f"{where}: maximum_retry_attempts must be -1 or 0-10000.")
        age = self.maximum_record_age_seconds
        if age != -1 and not 60 <= age <= 604_800:
            raise DeclarationError(f"{where}: maximum_record_age_seconds must be -1 or 60-604800.")
        if len(self.filter_patterns) > 5:
            raise DeclarationError(f"{where}: Lambda allows at most 5 filter patterns.")
        for pattern in self.filter_patterns:
            try:
                parsed = json.loads(pattern)
            except ValueError as exc:
                raise DeclarationError(f"{where}: filter {pattern!r} is not JSON: {exc}") from exc
            if not isinstance(parsed, dict):
                raise DeclarationError(f"{where}: filter {pattern!r} must be a JSON object.")


@dataclass(frozen=True)
class ObjectCreatedTrigger:
    """An S3 event notification: objects created in ``bucket`` whose key starts with
    ``prefix`` and ends with ``suffix`` invoke ``function`` asynchronously.

    Asynchronous invocation as Lambda runs it: up to ``maximum_retry_attempts`` (0-2,
    default 2) retries, events older than ``maximum_event_age_seconds`` (60-21600)
    dropped, then the on-failure destination. A function that writes into the same
    bucket must not match its own output: S3 would invoke it again, recursively.
    """

    bucket: Bucket
    function: Function
    prefix: str = ""
    suffix: str = ""
    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: int = 21_600

    def __post_init__(self) -> None:
        where = f"ObjectCreatedTrigger {self.bucket.name!r} -> {self.function.name!r}"
        if not 0 <= self.maximum_retry_attempts <= 2:
            raise DeclarationError(f"{where}: maximum_retry_attempts must be 0-2, as in Lambda.")
        if not 60 <= self.maximum_event_age_seconds <= 21_600:
            raise DeclarationError(f"{where}: maximum_event_age_seconds must be 60-21600.")

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)

    def overlaps(self, other: ObjectCreatedTrigger | ObjectCreatedNotification) -> bool:
        """S3 refuses two notification configurations that can match one key."""
        return key_filters_overlap(self, other)


def key_filters_overlap(
    one: ObjectCreatedTrigger | ObjectCreatedNotification,
    other: ObjectCreatedTrigger | ObjectCreatedNotification,
) -> bool:
    """Whether two notification configurations of a bucket can match one key.

    S3 refuses such a pair for one event type, whatever their destinations (a function,
    a topic, a queue): "Notification configurations that use Filter cannot define
    filtering rules with overlapping prefixes, overlapping suffixes, or prefix and
    suffix overlapping."
    """
    prefixes = one.prefix.startswith(other.prefix) or other.prefix.startswith(one.prefix)
    suffixes = one.suffix.endswith(other.suffix) or other.suffix.endswith(one.suffix)
    return one.bucket == other.bucket and prefixes and suffixes


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
        from overcast.spec_stages import STAGE_NAME, check_stages

        _check_name("Api", self.name)
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


@dataclass(frozen=True)
class Service:
    """A deployable unit: its API, functions, tables and user pools."""

    name: str
    api: Api | None = None
    tables: tuple[Table, ...] = ()
    user_pools: tuple[UserPool, ...] = ()
    identity_pools: tuple[IdentityPool, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    functions: tuple[Function, ...] = ()
    stream_triggers: tuple[StreamTrigger, ...] = ()
    object_triggers: tuple[ObjectCreatedTrigger, ...] = ()
    distributions: tuple[Distribution, ...] = ()
    topics: tuple[Topic, ...] = ()
    queues: tuple[Queue, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    queue_triggers: tuple[QueueTrigger, ...] = ()
    # Objects created in a bucket, notified to a topic or a queue (S3 event notifications).
    object_notifications: tuple[ObjectCreatedNotification, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        _check_name("Service", self.name)
        for kind, names in (
            ("table", [table.name for table in self.tables]),
            ("user pool", [pool.name for pool in self.user_pools]),
            ("identity pool", [pool.name for pool in self.identity_pools]),
            ("bucket", [bucket.name for bucket in self.buckets]),
            ("function", [function.name for function in self.all_functions]),
            ("distribution", [distribution.name for distribution in self.distributions]),
            ("topic", [topic.name for topic in self.topics]),
            ("queue", [queue.name for queue in self.queues]),
        ):
            if len(names) != len(set(names)):
                raise DeclarationError(f"Service {self.name!r} declares a {kind} name twice.")
        self._check_references()

    @property
    def all_functions(self) -> tuple[Function, ...]:
        """Functions declared directly, reached through the API's routes, and triggered."""
        found: dict[str, Function] = {function.name: function for function in self.functions}
        triggered = [trigger.function for trigger in self.stream_triggers] + [
            trigger.function for trigger in self.object_triggers
        ]
        triggered += [trigger.function for trigger in self.queue_triggers]
        for function in (*(self.api.functions if self.api else ()), *triggered):
            if found.setdefault(function.name, function) != function:
                raise DeclarationError(
                    f"Service {self.name!r}: two different functions are named {function.name!r}."
                )
        return tuple(found.values())

    def _check_references(self) -> None:
        for function in self.all_functions:
            for table in function.tables:
                if table not in self.tables:
                    raise DeclarationError(
                        f"Service {self.name!r}: function {function.name!r} uses table "
                        f"{table.name!r}, which the service does not declare in tables=."
                    )
            for pool in function.user_pools:
                if pool not in self.user_pools:
                    raise DeclarationError(
                        f"Service {self.name!r}: function {function.name!r} uses user pool "
                        f"{pool.name!r}, which the service does not declare in user_pools=."
                    )
        for function in self.all_functions:
            self._check_declared(f"function {function.name!r}", "buckets", function.buckets)
            self._check_declared(
                f"function {function.name!r}", "identity_pools", function.identity_pools
            )
        for stream in self.stream_triggers:
            self._check_declared("a stream trigger", "tables", (stream.table,))
        self._check_object_notifications()
        for identities in self.identity_pools:
            self._check_declared(
                f"identity pool {identities.name!r}", "user_pools", (identities.user_pool,)
            )
        for bucket in self.buckets:
            if bucket.user_folders is not None:
                self._check_declared(
                    f"bucket {bucket.name!r}", "identity_pools", (bucket.user_folders,)
                )
            if len(self.bucket_name(bucket)) > 63:
                raise DeclarationError(
                    f"Service {self.name!r}: bucket name {self.bucket_name(bucket)!r} is "
                    "longer than S3's 63 characters; shorten the service or bucket name."
                )
        self._check_distributions()
        self._check_messaging()
        for route in self.api.routes if self.api else ():
            if route.authorizer and route.authorizer.user_pool not in self.user_pools:
                raise DeclarationError(
                    f"Service {self.name!r}: route {route.key!r} is authorized by user pool "
                    f"{route.authorizer.user_pool.name!r}, which the service does not declare."
                )

    def _check_object_notifications(self) -> None:
        """Triggers and notifications name declared resources, and S3's overlap rule holds
        across all of one bucket's (a function, a topic or a queue alike)."""
        configurations: tuple[ObjectCreatedTrigger | ObjectCreatedNotification, ...] = (
            *self.object_triggers,
            *self.object_notifications,
        )
        for notification in self.object_notifications:
            target = notification.target
            kind = "topics" if isinstance(target, Topic) else "queues"
            self._check_declared("an object notification", kind, (target,))
        for position, trigger in enumerate(configurations):
            self._check_declared("an object trigger or notification", "buckets", (trigger.bucket,))
            for other in configurations[position + 1 :]:
                if trigger.overlaps(other):
                    raise DeclarationError(
                        f"Service {self.name!r}: two object triggers or notifications of bucket "
                        f"{trigger.bucket.name!r} overlap (prefixes {trigger.prefix!r} and "
                        f"{other.prefix!r}, suffixes {trigger.suffix!r} and {other.suffix!r}); "
                        "S3 refuses configurations that can match one key."
                    )

    def _check_distributions(self) -> None:
        for function in self.all_functions:
            self._check_declared(
                f"function {function.name!r}", "distributions", function.distributions
            )
        for distribution in self.distributions:
            for origin in distribution.origins:
                if isinstance(origin, BucketOrigin):
                    self._check_declared(
                        f"distribution {distribution.name!r}", "buckets", (origin.bucket,)
                    )
                elif isinstance(origin, ApiOrigin) and self.api is None:
                    raise DeclarationError(
                        f"Service {self.name!r}: distribution {distribution.name!r} has the "
                        "API as an origin, but the service declares no api=."
                    )

    def _check_declared(self, user: str, field_name: str, used: tuple[object, ...]) -> None:
        declared: tuple[object, ...] = getattr(self, field_name)
        for resource in used:
            if resource not in declared:
                name = getattr(resource, "name", "?")
                raise DeclarationError(
                    f"Service {self.name!r}: {user} uses {name!r}, which the service does "
                    f"not declare in {field_name}=."
                )

    def _check_messaging(self) -> None:
        for function in self.all_functions:
            self._check_declared(f"function {function.name!r}", "topics", function.topics)
            self._check_declared(f"function {function.name!r}", "queues", function.queues)
        for queue in self.queues:
            if queue.dead_letter is not None:
                self._check_declared(f"queue {queue.name!r}", "queues", (queue.dead_letter.queue,))
            # SQS: a queue name has up to 80 characters, ".fifo" included.
            if len(self.queue_name(queue)) > 80:
                raise DeclarationError(
                    f"Service {self.name!r}: queue name {self.queue_name(queue)!r} is longer "
                    "than SQS's 80 characters; shorten the service or queue name."
                )
        for subscription in self.subscriptions:
            self._check_declared("a subscription", "topics", (subscription.topic,))
            self._check_declared("a subscription", "queues", (subscription.queue,))
        pairs = [(sub.topic.name, sub.queue.name) for sub in self.subscriptions]
        if len(pairs) != len(set(pairs)):
            raise DeclarationError(
                f"Service {self.name!r} subscribes a queue to the same topic twice."
            )
        for trigger in self.queue_triggers:
            self._check_declared("a queue trigger", "queues", (trigger.queue,))

    def queue_name(self, queue: Queue) -> str:
        """The queue's SQS name: ``<service>-<queue>`` (``.fifo`` added for FIFO queues)."""
        return queue_name(self.name, queue)

    def topic_name(self, topic: Topic) -> str:
        """The topic's SNS name: ``<service>-<topic>`` (``.fifo`` added for FIFO topics)."""
        return topic_name(self.name, topic)

    def bucket_name(self, bucket: Bucket) -> str:
        """The bucket's S3 name: ``<service>-<bucket>`` (S3 bucket names are global)."""
        return f"{self.name}-{bucket.name}"


# The CDN's declarations live in their own module; they are part of this one's API.
from overcast.spec_cdn import CACHING_DISABLED as CACHING_DISABLED  # noqa: E402
from overcast.spec_cdn import CACHING_OPTIMIZED as CACHING_OPTIMIZED  # noqa: E402
from overcast.spec_cdn import MANAGED_CACHE_POLICIES as MANAGED_CACHE_POLICIES  # noqa: E402
from overcast.spec_cdn import ApiOrigin as ApiOrigin  # noqa: E402
from overcast.spec_cdn import Behavior as Behavior  # noqa: E402
from overcast.spec_cdn import BucketOrigin as BucketOrigin  # noqa: E402
from overcast.spec_cdn import CachePolicy as CachePolicy  # noqa: E402
from overcast.spec_cdn import Distribution as Distribution  # noqa: E402
from overcast.spec_cdn import ErrorResponse as ErrorResponse  # noqa: E402
from overcast.spec_cdn import HttpOrigin as HttpOrigin  # noqa: E402
from overcast.spec_cdn import Origin as Origin  # noqa: E402

# And the mail identities functions send from.
from overcast.spec_mail import MailIdentity as MailIdentity  # noqa: E402

# So do the messaging declarations (topics, queues, subscriptions, queue triggers).
from overcast.spec_messaging import DeadLetter as DeadLetter  # noqa: E402
from overcast.spec_messaging import (  # noqa: E402
    ObjectCreatedNotification as ObjectCreatedNotification,
)
from overcast.spec_messaging import Queue as Queue  # noqa: E402
from overcast.spec_messaging import QueueTrigger as QueueTrigger  # noqa: E402
from overcast.spec_messaging import Subscription as Subscription  # noqa: E402
from overcast.spec_messaging import Topic as Topic  # noqa: E402
from overcast.spec_messaging import queue_name as queue_name  # noqa: E402
from overcast.spec_messaging import topic_name as topic_name  # noqa: E402

# And the API stages (versions side by side).
from overcast.spec_stages import Stage as Stage  # noqa: E402
