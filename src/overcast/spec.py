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

The declarations are spread over sibling modules by topic (``spec_tables``,
``spec_identity``, ``spec_api``, ``spec_stages``, ``spec_triggers``, ``spec_messaging``,
``spec_cdn``, ``spec_mail``, and ``spec_checks`` for a service's cross-checks); import
them all from here (``spec.Table``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from overcast.spec_base import HANDLER, check_name
from overcast.spec_base import DeclarationError as DeclarationError

_ASSETS = re.compile(r"^[A-Za-z_][\w.]*:[\w./-]+$")


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
        check_name("Bucket", self.name)
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
    # Services whose API the function calls (synchronously, through their gateway and
    # with its caller's token: see ``overcast.runtime.services``). It learns each one's
    # URL as ``OVERCAST_RESOURCE_API_<SERVICE>``, and gets no access to their resources.
    calls: tuple[str, ...] = ()
    timeout_seconds: int = 29
    memory_mb: int = 256

    def __post_init__(self) -> None:
        check_name("Function", self.name)
        if not HANDLER.match(self.handler):
            raise DeclarationError(
                f"Function {self.name!r}: handler {self.handler!r} must look like "
                "'package.module:function'."
            )
        if not 1 <= self.timeout_seconds <= 900:
            raise DeclarationError("Function timeout must be 1-900 seconds, as in Lambda.")
        for called in self.calls:
            check_name(f"Function {self.name!r}: called service", called)
        if len(self.calls) != len(set(self.calls)):
            raise DeclarationError(f"Function {self.name!r} names a called service twice.")


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
        from overcast.spec_checks import check_references

        check_name("Service", self.name)
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
        check_references(self)

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

    def queue_name(self, queue: Queue) -> str:
        """The queue's SQS name: ``<service>-<queue>`` (``.fifo`` added for FIFO queues)."""
        return queue_name(self.name, queue)

    def topic_name(self, topic: Topic) -> str:
        """The topic's SNS name: ``<service>-<topic>`` (``.fifo`` added for FIFO topics)."""
        return topic_name(self.name, topic)

    def bucket_name(self, bucket: Bucket) -> str:
        """The bucket's S3 name: ``<service>-<bucket>`` (S3 bucket names are global)."""
        return f"{self.name}-{bucket.name}"


# The declarations of the sibling modules, by topic: they are part of this module's API.
from overcast.spec_api import CACHE_CLUSTER_SIZES as CACHE_CLUSTER_SIZES  # noqa: E402
from overcast.spec_api import CALLER as CALLER  # noqa: E402
from overcast.spec_api import MAX_CACHE_TTL_SECONDS as MAX_CACHE_TTL_SECONDS  # noqa: E402
from overcast.spec_api import Api as Api  # noqa: E402
from overcast.spec_api import Cors as Cors  # noqa: E402
from overcast.spec_api import HttpMethod as HttpMethod  # noqa: E402
from overcast.spec_api import Route as Route  # noqa: E402
from overcast.spec_api import RouteCache as RouteCache  # noqa: E402
from overcast.spec_api import StageCache as StageCache  # noqa: E402
from overcast.spec_api import UnauthorizedStrategy as UnauthorizedStrategy  # noqa: E402
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
from overcast.spec_identity import AuthFlow as AuthFlow  # noqa: E402
from overcast.spec_identity import CognitoAuthorizer as CognitoAuthorizer  # noqa: E402
from overcast.spec_identity import IdentityPool as IdentityPool  # noqa: E402
from overcast.spec_identity import PasswordPolicy as PasswordPolicy  # noqa: E402
from overcast.spec_identity import UserPool as UserPool  # noqa: E402
from overcast.spec_identity import UserPoolClient as UserPoolClient  # noqa: E402
from overcast.spec_mail import MailIdentity as MailIdentity  # noqa: E402
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
from overcast.spec_stages import Stage as Stage  # noqa: E402
from overcast.spec_tables import Index as Index  # noqa: E402
from overcast.spec_tables import Key as Key  # noqa: E402
from overcast.spec_tables import KeyType as KeyType  # noqa: E402
from overcast.spec_tables import ReadCache as ReadCache  # noqa: E402
from overcast.spec_tables import StreamView as StreamView  # noqa: E402
from overcast.spec_tables import Table as Table  # noqa: E402
from overcast.spec_triggers import ObjectCreatedTrigger as ObjectCreatedTrigger  # noqa: E402
from overcast.spec_triggers import StreamTrigger as StreamTrigger  # noqa: E402
from overcast.spec_triggers import key_filters_overlap as key_filters_overlap  # noqa: E402
