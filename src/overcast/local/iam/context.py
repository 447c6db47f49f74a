"""The request context: the condition keys of one request, as policy evaluation reads them.

Mirrored from IAM ("IAM JSON policy elements: Condition"):

- "Context key names are not case-sensitive": ``aws:SourceIp`` and ``AWS:sourceip``
  are the same key, so keys are kept lower-cased.
- A key is single-valued (one string) or multivalued (a set of strings, such as
  ``aws:TagKeys`` or ``cognito-identity.amazonaws.com:amr``). An empty set is no value
  at all: the key counts as absent ("a null data set").
- Only single-valued keys can be policy variables ("you cannot use a multivalued
  context key as a policy variable"), so :meth:`ContextKeys.scalar` answers only those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ContextValue = str | Sequence[str]


@dataclass(frozen=True)
class ContextKeys:
    """Condition keys by lower-cased name; each a tuple of values, scalars kept apart."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    scalars: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, *layers: Mapping[str, ContextValue]) -> ContextKeys:
        """Merge ``layers``; a key in a later layer replaces the same key in earlier ones."""
        values: dict[str, tuple[str, ...]] = {}
        scalars: dict[str, str] = {}
        for layer in layers:
            for key, value in layer.items():
                name = key.lower()
                scalars.pop(name, None)
                if isinstance(value, str):
                    values[name] = (value,)
                    scalars[name] = value
                else:
                    values[name] = tuple(value)
        return cls({name: found for name, found in values.items() if found}, scalars)

    def get(self, key: str) -> tuple[str, ...] | None:
        """The key's values, or None when the request has no such key."""
        return self.values.get(key.lower())

    def scalar(self, key: str) -> str | None:
        """The key's value when it is single-valued (what a policy variable can use)."""
        return self.scalars.get(key.lower())
