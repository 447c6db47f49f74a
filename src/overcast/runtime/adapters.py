"""Pick a port's adapter from a function's configuration. Used by each app's bootstrap().

``config.backend`` chooses: ``local`` gives the embedded adapters (SQLite tables under
the data directory, the local cloud's filesystem buckets, SMTP to its sink); ``aws``
gives DynamoDB, S3 and SES v2. Queues and topics are the local cloud's SQLite messaging
(one file for the whole cloud, :func:`messaging_path`) or SQS and SNS. Resources are
found by their physical names (a queue's URL and a topic's ARN on AWS), which the
deployer (or the local cloud) passes as ``OVERCAST_RESOURCE_<KIND>_<NAME>``.

The local cloud can keep its tables in an AWS-compatible DynamoDB endpoint instead
(``config.dynamodb_endpoint``, e.g. moto's server): the tables are then DynamoDB's
adapter there, while every other port stays the local cloud's. Likewise its functions'
mail can go through SES v2 to an SES endpoint (``config.ses_endpoint``).

A table declared with a read cache gets one (``CachedTable``) around its adapter;
:data:`read_caches` remembers every read cache this process opened, so that the local
cloud can ask a function's execution environment for their counters. On AWS the read
cache is the table's DAX cluster: when the function is given its endpoint
(``OVERCAST_RESOURCE_DAX_<TABLE>``), the table talks to it through the DAX client
(``amazondax``, which the function's bundle must then hold); otherwise to DynamoDB.

:data:`aws_clients` builds each boto3 client once per process (boto3 clients are
thread-safe), with the function's region and, when set, its AWS endpoint and CA
bundle; boto3 finds the credentials (on Lambda, the function role's). boto3 is
imported only when an AWS adapter is opened: it is on Lambda, not in the local
runtime's requirements.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overcast import spec
from overcast.ports.cdn import Invalidator
from overcast.ports.identities import IdentityDirectory
from overcast.ports.mail import Mailer
from overcast.ports.objects import ObjectStore
from overcast.ports.tables import Table
from overcast.ports.tables.cached import CachedTable, StatsByTable, merge_stats
from overcast.runtime.config import RuntimeConfig, resource_variable

if TYPE_CHECKING:
    from overcast.ports.objects.filesystem import FilesystemBuckets
    from overcast.ports.queues.base import MessageQueue
    from overcast.ports.queues.sqlite import SqliteMessaging
    from overcast.ports.topics.base import MessageTopic


class OpenedReadCaches:
    """The read caches a process opened, by table name."""

    def __init__(self) -> None:
        self._caches: list[tuple[str, CachedTable]] = []
        self._lock = threading.Lock()

    def add(self, name: str, cache: CachedTable) -> CachedTable:
        with self._lock:
            self._caches.append((name, cache))
        return cache

    def stats(self) -> StatsByTable:
        """Each table's item and query cache counters, summed over its caches."""
        with self._lock:
            caches = list(self._caches)
        return merge_stats({name: cache.stats()} for name, cache in caches)


read_caches = OpenedReadCaches()


def table_path(config: RuntimeConfig, declaration: spec.Table) -> str:
    """Where the local cloud keeps a service's table: one SQLite file per table."""
    if config.data_dir is None:
        raise ValueError("The local backend needs a data directory (OVERCAST_DATA_DIR).")
    return str(config.data_dir / "tables" / config.service / f"{declaration.name}.sqlite3")


def open_table(declaration: spec.Table, config: RuntimeConfig) -> Table:
    """The table adapter for this environment: SQLite locally, DynamoDB on AWS; behind its
    declared read cache (in-process locally; the DAX client on AWS)."""
    if config.backend == "aws":
        return _dynamodb_table(declaration, config)
    if config.dynamodb_endpoint is not None:
        # The local cloud's tables in a DynamoDB endpoint: its read cache stays in-process.
        table: Table = _dynamodb_table(declaration, config)
    else:
        from overcast.ports.tables.sqlite import SqliteTable

        table = SqliteTable(declaration, table_path(config, declaration))
    if declaration.read_cache is None:
        return table
    return read_caches.add(declaration.name, CachedTable(table, declaration.read_cache))


def open_identity_directory(
    declaration: spec.IdentityPool, config: RuntimeConfig
) -> IdentityDirectory:
    """The identities of an identity pool, through Cognito Identity's GetId (local or AWS)."""
    from overcast.ports.identities.cognito import CognitoIdentityDirectory

    return CognitoIdentityDirectory(
        config.resource("IDENTITY_POOL", declaration.name),
        config.resource("USER_POOL", declaration.user_pool.name),
        region=config.region,
        endpoint=config.aws_endpoint,
        ca_bundle=config.ca_bundle,
    )


def open_bucket(declaration: spec.Bucket, config: RuntimeConfig) -> ObjectStore:
    """The bucket's objects: the local cloud's filesystem bucket locally, S3 on AWS."""
    name = config.resource("BUCKET", declaration.name)
    if config.backend == "aws":
        from overcast.ports.objects.s3 import S3ObjectStore

        return S3ObjectStore(name, aws_clients.client("s3", config))
    return local_buckets.of(config).store(name)


def open_mailer(config: RuntimeConfig) -> Mailer:
    """The mailer: SMTP to the local cloud's sink (or any server) locally, SES v2 on AWS
    or, locally, at the SES endpoint the local cloud is given."""
    if config.backend == "aws" or config.ses_endpoint is not None:
        from overcast.ports.mail.ses import SesMailer

        if config.backend == "local" and config.ses_endpoint is not None:
            # Its own endpoint, verified against the system's CAs (not the local cloud's).
            config = replace(config, aws_endpoint=config.ses_endpoint, ca_bundle=None)
        return SesMailer(aws_clients.client("sesv2", config))
    from overcast.ports.mail.smtp import SmtpMailer

    return SmtpMailer(config.smtp_host, config.smtp_port)


def open_invalidator(declaration: spec.Distribution, config: RuntimeConfig) -> Invalidator:
    """The distribution's invalidations, through CloudFront's CreateInvalidation: the
    local cloud's CloudFront API locally (``config.aws_endpoint``), CloudFront on AWS."""
    from overcast.ports.cdn.cloudfront import CloudFrontInvalidator

    distribution = config.resource("DISTRIBUTION", declaration.name)
    return CloudFrontInvalidator(distribution, aws_clients.client("cloudfront", config))


def open_queue(declaration: spec.Queue, config: RuntimeConfig) -> MessageQueue:
    """The queue: the local cloud's SQLite messaging locally, SQS on AWS (by its URL)."""
    name = config.resource("QUEUE", declaration.name)
    if config.backend == "aws":
        from overcast.ports.queues.sqs import SqsQueue

        return SqsQueue(name, aws_clients.client("sqs", config))
    return local_messaging.of(config).queue(name)


def open_topic(declaration: spec.Topic, config: RuntimeConfig) -> MessageTopic:
    """The topic: the local cloud's SQLite messaging locally, SNS on AWS (by its ARN)."""
    name = config.resource("TOPIC", declaration.name)
    if config.backend == "aws":
        from overcast.ports.topics.sns import SnsTopic

        return SnsTopic(name, aws_clients.client("sns", config))
    return local_messaging.of(config).topic(name)


def messaging_path(data_dir: Path) -> Path:
    """Where the local cloud keeps every queue and topic: one SQLite file."""
    return data_dir / "messaging" / "messaging.sqlite3"


def _dynamodb_table(declaration: spec.Table, config: RuntimeConfig) -> Table:
    from overcast.ports.tables.dynamodb import DynamoDbTable

    name = config.resource("TABLE", declaration.name)
    dax = config.resources.get(resource_variable("DAX", declaration.name))
    if declaration.read_cache is not None and dax:
        return DynamoDbTable(declaration, name, aws_clients.dax(dax, config))
    if config.dynamodb_endpoint is not None:
        # Its own endpoint, verified against the system's CAs (not the local cloud's).
        config = replace(config, aws_endpoint=config.dynamodb_endpoint, ca_bundle=None)
    return DynamoDbTable(declaration, name, aws_clients.client("dynamodb", config))


class AwsClients:
    """boto3 (and DAX) clients, built once per process for each service and endpoint."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str | None, ...], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, config: RuntimeConfig) -> Any:
        """The boto3 client of ``service`` for ``config``'s region, endpoint, CA bundle."""
        key = (service, config.region, config.aws_endpoint, config.ca_bundle)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = _boto3_client(service, config)
            return self._clients[key]

    def dax(self, endpoint: str, config: RuntimeConfig) -> Any:
        """The DAX client of the cluster at ``endpoint`` (``dax://`` or ``daxs://``)."""
        key = ("dax", config.region, endpoint)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = _dax_client(endpoint, config)
            return self._clients[key]


def _boto3_client(service: str, config: RuntimeConfig) -> Any:
    import boto3
    from botocore.config import Config

    from overcast.ports.objects.s3 import client_config

    settings = client_config() if service == "s3" else Config(retries={"mode": "standard"})
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=config.region,
        endpoint_url=config.aws_endpoint,
        verify=config.ca_bundle,
        config=settings,
    )


def _dax_client(endpoint: str, config: RuntimeConfig) -> Any:
    try:
        amazondax = importlib.import_module("amazondax")
    except ImportError as exc:
        raise RuntimeError(
            f"The function is given the DAX cluster {endpoint!r}, but the DAX client is "
            "not installed: add amazon-dax-client to the function's bundle."
        ) from exc
    return amazondax.AmazonDaxClient(endpoint_url=endpoint, region_name=config.region)


class LocalBuckets:
    """The local cloud's buckets, opened once per process for each data directory."""

    def __init__(self) -> None:
        self._opened: dict[Path, FilesystemBuckets] = {}
        self._lock = threading.Lock()

    def of(self, config: RuntimeConfig) -> FilesystemBuckets:
        """The buckets the local cloud keeps under ``config.data_dir`` (``s3/buckets``)."""
        from overcast.ports.objects.filesystem import FilesystemBuckets

        if config.data_dir is None:
            raise ValueError("The local backend needs a data directory (OVERCAST_DATA_DIR).")
        root = config.data_dir / "s3" / "buckets"
        with self._lock:
            if root not in self._opened:
                self._opened[root] = FilesystemBuckets(root)
            return self._opened[root]


class LocalMessaging:
    """The local cloud's messaging database, opened once per process for each data directory."""

    def __init__(self) -> None:
        self._opened: dict[Path, SqliteMessaging] = {}
        self._lock = threading.Lock()

    def of(self, config: RuntimeConfig) -> SqliteMessaging:
        """The queues and topics the local cloud keeps under ``config.data_dir``."""
        from overcast.ports.queues.sqlite import SqliteMessaging

        if config.data_dir is None:
            raise ValueError("The local backend needs a data directory (OVERCAST_DATA_DIR).")
        path = messaging_path(config.data_dir)
        with self._lock:
            if path not in self._opened:
                self._opened[path] = SqliteMessaging(path)
            return self._opened[path]


aws_clients = AwsClients()
local_buckets = LocalBuckets()
local_messaging = LocalMessaging()
