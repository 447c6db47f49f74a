"""Table declarations: DynamoDB-style tables, their keys, indexes and read cache (DAX).

A :class:`Table` has a partition key, an optional sort key (each a :class:`Key`), global
secondary indexes (:class:`Index`), optionally a DynamoDB stream, global table replicas
and a DAX-style :class:`ReadCache`. The local cloud backs it with SQLite
(``overcast.ports.tables.sqlite``); the AWS deployer emits a DynamoDB table.

Import these from :mod:`overcast.spec` (``spec.Table``); this module only keeps
``spec.py`` small. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from overcast.spec_base import DeclarationError, check_name

KeyType = Literal["S", "N"]
# DynamoDB Streams: what each change record carries (StreamViewType).
StreamView = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
# AWS region names: us-east-1, ap-southeast-2, us-gov-west-1, ...
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[1-9][0-9]?$")


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
        check_name("Index", self.name)


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
        check_name("Table", self.name)
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
