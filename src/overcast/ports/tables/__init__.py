"""The table port: items by primary key, queries by partition, secondary indexes."""

from overcast.ports.tables.base import (
    AttributeEquals,
    BeginsWith,
    Between,
    Condition,
    Item,
    ItemExists,
    ItemMatches,
    ItemNotExists,
    KeyCompare,
    Page,
    SortCondition,
    Table,
)
from overcast.ports.tables.exceptions import (
    ConditionFailed,
    InvalidCursor,
    InvalidItem,
    TableError,
    TableUnavailable,
)

__all__ = [
    "AttributeEquals",
    "BeginsWith",
    "Between",
    "Condition",
    "ConditionFailed",
    "InvalidCursor",
    "InvalidItem",
    "Item",
    "ItemExists",
    "ItemMatches",
    "ItemNotExists",
    "KeyCompare",
    "Page",
    "SortCondition",
    "Table",
    "TableError",
    "TableUnavailable",
]
