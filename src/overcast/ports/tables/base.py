"""The table port: DynamoDB's data model, reached without DynamoDB types.

Items are plain dicts of JSON-compatible values (str, int, float, bool, None, list,
dict). Keys are declared by a :class:`overcast.spec.Table`: a partition key and an
optional sort key, each a string (``S``) or a number (``N``). As in DynamoDB:

- ``put`` replaces the whole item; ``update`` sets and removes attributes and
  creates the item if it does not exist (an upsert); ``delete`` of a missing item
  is not an error.
- Every write can carry one condition, checked atomically with the write; when it
  does not hold the write raises :class:`ConditionFailed` and changes nothing.
- ``query`` reads one partition in sort-key order (strings by UTF-8 bytes, numbers
  by value), optionally narrowed by one sort-key condition, on the table or on a
  secondary index. Indexes are sparse: an item lacking an index's key attributes is
  not in that index.
- Pages carry an opaque cursor. Unlike DynamoDB, which may return a
  ``LastEvaluatedKey`` for a page that happens to end the partition, a page's
  cursor is ``None`` exactly when nothing follows.
- ``scan`` reads every item, a page at a time (DynamoDB's Scan); its cursors are
  not a query's, nor a query's a scan's.
- ``batch_get`` reads up to 100 items by key at once (DynamoDB's BatchGetItem),
  refusing a key given twice; it returns them in the keys' order, ``None`` for each
  missing one.
- Reads take ``consistent=True`` for DynamoDB's ``ConsistentRead``: the local tables
  are always consistent, and a read cache (``cached``) passes such reads through. As
  in DynamoDB, a query of a global secondary index cannot be consistent.

The base class implements this public API once — validation, conditions, paging —
and each adapter fills in the ``_get`` / ``_put`` / ``_update`` / ``_delete`` /
``_query`` primitives, with the shared helpers :func:`check_condition`,
:func:`updated_item` and :func:`index_key`; ``_batch_get`` (one ``_get`` per key) and
:meth:`Table.data_version` (cheap change detection, for read caches) are optional.
A table that declares ``stream`` records a change record per write (see
:mod:`overcast.ports.tables.stream`); the local adapters read them back with
:meth:`Table.stream_records` and :meth:`Table.stream_label`.
What a value may be (types, sizes, nesting) is in :mod:`overcast.ports.tables.values`;
what a cursor holds, and how it is checked, in :mod:`overcast.ports.tables.cursors`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from overcast import spec
from overcast.ports.tables import cursors, values
from overcast.ports.tables.conditions import AttributeEquals as AttributeEquals
from overcast.ports.tables.conditions import Condition as Condition
from overcast.ports.tables.conditions import ItemExists as ItemExists
from overcast.ports.tables.conditions import ItemMatches as ItemMatches
from overcast.ports.tables.conditions import ItemNotExists as ItemNotExists
from overcast.ports.tables.conditions import check_condition as check_condition
from overcast.ports.tables.cursors import key_of
from overcast.ports.tables.exceptions import InvalidItem, TableUnavailable
from overcast.ports.tables.stream import ChangeRecord
from overcast.ports.tables.values import MAX_ITEM_BYTES as MAX_ITEM_BYTES
from overcast.ports.tables.values import MAX_PARTITION_KEY_BYTES as MAX_PARTITION_KEY_BYTES
from overcast.ports.tables.values import MAX_SORT_KEY_BYTES as MAX_SORT_KEY_BYTES
from overcast.ports.tables.values import Item as Item
from overcast.ports.tables.values import KeyValue as KeyValue

# DynamoDB's BatchGetItem reads "up to 100 items".
MAX_BATCH_GET_KEYS = 100


def updated_item(
    current: Item | None, key: Item, changes: Mapping[str, Any], removals: Iterable[str]
) -> Item:
    """The item an update leaves: ``current`` (or a new item of ``key``), changed.

    Adapters call this inside their transaction, after :func:`check_condition`, and
    store the result with :func:`~overcast.ports.tables.values.encode_item`, which
    raises :class:`InvalidItem` when it exceeds 400 KB.
    """
    item = {**(current if current is not None else key), **changes}
    for name in removals:
        item.pop(name, None)
    return item


def index_key(
    item: Mapping[str, Any], index: spec.Index
) -> tuple[KeyValue, KeyValue | None] | None:
    """The item's ``(partition, sort)`` values in ``index`` (sort ``None`` if the index has
    no sort key), or ``None`` when the item lacks them: indexes are sparse."""
    if index.partition_key.name not in item:
        return None
    if index.sort_key is None:
        return item[index.partition_key.name], None
    if index.sort_key.name not in item:
        return None
    return item[index.partition_key.name], item[index.sort_key.name]


# --- sort-key conditions --------------------------------------------------------


@dataclass(frozen=True)
class KeyCompare:
    """``sk <op> value`` with op one of ``= < <= > >=``."""

    op: Literal["=", "<", "<=", ">", ">="]
    value: KeyValue


@dataclass(frozen=True)
class Between:
    """``low <= sk <= high`` (inclusive, as DynamoDB's BETWEEN)."""

    low: KeyValue
    high: KeyValue


@dataclass(frozen=True)
class BeginsWith:
    """``begins_with(sk, prefix)``; string sort keys only."""

    prefix: str


SortCondition: TypeAlias = KeyCompare | Between | BeginsWith


@dataclass(frozen=True)
class Page:
    """One page of a query: items in order, and the cursor of the next page (if any)."""

    items: list[Item]
    cursor: str | None = None


@dataclass(frozen=True)
class QueryPlan:
    """A validated query, handed to an adapter's ``_query``.

    ``after`` is the decoded cursor of the previous page:
    ``{"i": index name or None, "k": primary key of its last item,
    "x": that item's index key values (indexes only)}``.
    """

    partition_value: KeyValue
    sort: SortCondition | None
    index: spec.Index | None
    descending: bool
    limit: int
    after: dict[str, Any] | None = field(default=None)
    consistent: bool = False


@dataclass(frozen=True)
class ScanPlan:
    """A validated scan, handed to an adapter's ``_scan``: up to ``limit + 1`` items in
    primary-key order, strictly after the primary key ``after`` (``None``: from the
    start)."""

    limit: int
    after: dict[str, Any] | None = None
    consistent: bool = False


class Table(ABC):
    """A table of items, declared by ``declaration``. See the module docstring."""

    # Can a write's condition be an ItemMatches predicate (checked in the transaction)?
    evaluates_predicates: bool = True

    def __init__(self, declaration: spec.Table) -> None:
        self.declaration = declaration

    # --- public API ---------------------------------------------------------

    def get(self, key: Mapping[str, Any], *, consistent: bool = False) -> Item | None:
        """The item with this primary key, or ``None``."""
        return self._get(self._primary_key(key), consistent=consistent)

    def batch_get(
        self, keys: Sequence[Mapping[str, Any]], *, consistent: bool = False
    ) -> list[Item | None]:
        """The items with these primary keys, in their order; ``None`` for each missing one."""
        primaries = [self._primary_key(key) for key in keys]
        if len(primaries) > MAX_BATCH_GET_KEYS:
            raise InvalidItem(f"A batch get reads at most {MAX_BATCH_GET_KEYS} keys.")
        if len({tuple(key.values()) for key in primaries}) != len(primaries):
            # DynamoDB: "Provided list of item keys contains duplicates".
            raise InvalidItem("A batch get cannot read the same key twice.")
        return self._batch_get(primaries, consistent=consistent) if primaries else []

    def check_item(self, item: Mapping[str, Any]) -> None:
        """Raise :class:`InvalidItem` if ``put(item)`` would refuse it (before any write)."""
        self._valid_item(item)

    def put(self, item: Mapping[str, Any], condition: Condition | None = None) -> None:
        """Create or replace the whole item."""
        stored = self._valid_item(item)
        self._put(stored, self._primary_key(stored), condition)

    def update(
        self,
        key: Mapping[str, Any],
        set_attributes: Mapping[str, Any] | None = None,
        remove_attributes: Iterable[str] = (),
        condition: Condition | None = None,
    ) -> Item:
        """Set and remove attributes (creating the item if absent); return the new item."""
        primary = self._primary_key(key)
        changes = dict(set_attributes or {})
        if isinstance(remove_attributes, str):
            raise InvalidItem("remove_attributes is a collection of names, not one string.")
        removals = tuple(remove_attributes)
        for name in (*changes, *removals):
            if name in primary:
                raise InvalidItem(f"Cannot update key attribute {name!r}; put a new item instead.")
        if set(changes) & set(removals):
            # DynamoDB: "Two document paths overlap with each other".
            raise InvalidItem("An update cannot both set and remove the same attribute.")
        self._valid_values(changes)
        self._check_index_keys(changes)
        return self._update(primary, changes, removals, condition)

    def delete(self, key: Mapping[str, Any], condition: Condition | None = None) -> Item | None:
        """Delete the item; return it as it was, or ``None`` if there was none."""
        return self._delete(self._primary_key(key), condition)

    def query(
        self,
        partition_value: KeyValue,
        sort: SortCondition | None = None,
        *,
        index: str | None = None,
        descending: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        consistent: bool = False,
    ) -> Page:
        """Items of one partition (of the table or of ``index``), in sort-key order."""
        declared = self.declaration.index(index) if index else None
        if declared is not None and consistent:
            # DynamoDB: "Consistent reads are not supported on global secondary indexes".
            raise InvalidItem("A query of a secondary index cannot be a consistent read.")
        schema_pk = declared.partition_key if declared else self.declaration.partition_key
        schema_sk = declared.sort_key if declared else self.declaration.sort_key
        self._check_key_value(schema_pk, partition_value)
        if sort is not None:
            self._check_sort_condition(schema_sk, sort)
        if not 1 <= limit <= 1000:
            raise InvalidItem(f"Query limit must be 1-1000, not {limit}.")
        plan = QueryPlan(
            partition_value=partition_value,
            sort=sort,
            index=declared,
            descending=descending,
            limit=limit,
            after=(
                cursors.decode_query_cursor(self.declaration, cursor, declared, partition_value)
                if cursor
                else None
            ),
            consistent=consistent,
        )
        items = self._query(plan)
        if len(items) <= limit:
            return Page(items=items)
        page = items[:limit]
        return Page(items=page, cursor=cursors.query_cursor(self.declaration, page[-1], declared))

    def scan(
        self, *, limit: int = 100, cursor: str | None = None, consistent: bool = False
    ) -> Page:
        """Every item of the table, a page at a time (DynamoDB's ``Scan``). The local
        adapters walk the primary key's order; DynamoDB its own (hash) order."""
        if not 1 <= limit <= 1000:
            raise InvalidItem(f"Scan limit must be 1-1000, not {limit}.")
        after = cursors.decode_scan_cursor(self.declaration, cursor) if cursor else None
        items = self._scan(ScanPlan(limit=limit, after=after, consistent=consistent))
        if len(items) <= limit:
            return Page(items=items)
        page = items[:limit]
        return Page(items=page, cursor=self.scan_cursor(page[-1]))

    def query_cursor(self, last: Mapping[str, Any], index: str | None = None) -> str:
        """The cursor of a query (of the table, or of ``index``) that resumes after the
        item ``last`` (its primary key and, on an index, its index key suffice)."""
        declared = self.declaration.index(index) if index else None
        return cursors.query_cursor(self.declaration, last, declared)

    def scan_cursor(self, last: Mapping[str, Any]) -> str:
        """The cursor of a scan that resumes after the item (or key) ``last``."""
        return cursors.scan_cursor(self.declaration, last)

    # --- primitives each adapter implements ---------------------------------

    def _scan(self, plan: ScanPlan) -> list[Item]:
        """Up to ``plan.limit + 1`` items strictly after ``plan.after``, in the adapter's
        scan order."""
        raise TableUnavailable(f"{type(self).__name__} cannot scan.")

    @abstractmethod
    def _get(self, key: dict[str, Any], *, consistent: bool = False) -> Item | None:
        """The item at a checked primary key; ``consistent`` asks for a strongly
        consistent read (adapters whose reads always are may ignore it)."""

    @abstractmethod
    def _put(self, item: Item, key: dict[str, Any], condition: Condition | None) -> None: ...

    @abstractmethod
    def _update(
        self,
        key: dict[str, Any],
        changes: dict[str, Any],
        removals: tuple[str, ...],
        condition: Condition | None,
    ) -> Item: ...

    @abstractmethod
    def _delete(self, key: dict[str, Any], condition: Condition | None) -> Item | None: ...

    @abstractmethod
    def _query(self, plan: QueryPlan) -> list[Item]:
        """Up to ``plan.limit + 1`` items strictly after ``plan.after``, in order."""

    def _batch_get(
        self, keys: list[dict[str, Any]], *, consistent: bool = False
    ) -> list[Item | None]:
        """The items of distinct, checked ``keys``; an adapter may read them at once."""
        return [self._get(key, consistent=consistent) for key in keys]

    def data_version(self) -> Hashable | None:
        """A value that changes whenever another connection (another thread's or process's)
        has committed a change to the table; ``None`` if the adapter cannot tell.

        Writes made through this same connection need not change it. A read cache checks
        it before each read to drop what may have gone stale (see ``cached``). It must be
        cheap: SQLite's ``PRAGMA data_version`` costs about a microsecond.
        """
        return None

    # --- the change stream (local adapters) -----------------------------------

    def stream_records(self, after: int = 0, limit: int = 1000) -> list[ChangeRecord]:
        """Up to ``limit`` change records with a sequence number above ``after``, in order."""
        if self.declaration.stream is None:
            raise TableUnavailable(f"Table {self.declaration.name!r} declares no stream.")
        return self._stream_records(after, limit)

    def stream_label(self) -> str:
        """The stream's label (its creation time), as in its ARN: ``.../stream/<label>``."""
        raise TableUnavailable(f"{type(self).__name__} keeps no local change stream.")

    def trim_stream(self, before: float) -> int:
        """Drop change records created before ``before`` (epoch seconds); how many went.

        DynamoDB Streams keeps records for 24 hours; the local dispatchers trim to that.
        """
        raise TableUnavailable(f"{type(self).__name__} keeps no local change stream.")

    def _stream_records(self, after: int, limit: int) -> list[ChangeRecord]:
        raise TableUnavailable(f"{type(self).__name__} keeps no local change stream.")

    # --- shared helpers ------------------------------------------------------

    @property
    def key_names(self) -> tuple[str, ...]:
        return cursors.key_names(self.declaration)

    def _primary_key(self, key: Mapping[str, Any]) -> dict[str, Any]:
        return key_of(key, self.declaration.partition_key, self.declaration.sort_key)

    @staticmethod
    def _check_key_value(
        declared: spec.Key, value: Any, max_bytes: int = MAX_PARTITION_KEY_BYTES
    ) -> None:
        values.check_key_value(declared, value, max_bytes)

    def _check_index_keys(self, item: Mapping[str, Any]) -> None:
        # DynamoDB refuses a write that gives an index key attribute the wrong type.
        for index in self.declaration.indexes:
            key_of(item, index.partition_key, index.sort_key, required=False)

    def _check_sort_condition(self, declared: spec.Key | None, sort: SortCondition) -> None:
        if declared is None:
            raise InvalidItem("This table or index has no sort key to put a condition on.")
        if isinstance(sort, BeginsWith):
            if declared.type != "S":
                raise InvalidItem("begins_with needs a string sort key.")
            if not isinstance(sort.prefix, str) or not sort.prefix:
                raise InvalidItem("begins_with needs a non-empty string prefix.")
            values.utf8_length(sort.prefix)
            return
        bounds = (sort.low, sort.high) if isinstance(sort, Between) else (sort.value,)
        for value in bounds:
            self._check_key_value(declared, value, MAX_SORT_KEY_BYTES)
        if isinstance(sort, Between) and sort.low > sort.high:  # type: ignore[operator]
            raise InvalidItem("BETWEEN needs low <= high.")

    def _valid_item(self, item: Mapping[str, Any]) -> Item:
        stored = dict(item)
        self._primary_key(stored)
        self._valid_values(stored)
        self._check_index_keys(stored)
        return stored

    @staticmethod
    def _valid_values(attributes: Mapping[str, Any]) -> None:
        values.check_attributes(attributes)
