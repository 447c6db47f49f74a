"""The table port's exceptions. No backend exception type escapes the port.

TableError
├── ConditionFailed   a write's condition did not hold; nothing changed
├── InvalidItem       a key or attribute value the table cannot store
├── InvalidCursor     a pagination cursor that this table did not hand out
└── TableUnavailable  the backend failed (disk, lock, network); retry later
"""


class TableError(Exception):
    """Base of every error the table port raises."""


class ConditionFailed(TableError):
    """The write's condition was not met; the item is unchanged."""


class InvalidItem(TableError, ValueError):
    """A key is missing or of the wrong type, or a value cannot be stored."""


class InvalidCursor(TableError, ValueError):
    """The cursor is malformed or belongs to another query."""


class TableUnavailable(TableError):
    """The backend could not serve the request."""
