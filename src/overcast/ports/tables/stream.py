"""A table's change stream: what DynamoDB Streams records for each write.

When a table declares ``stream``, every write that changes an item appends one
:class:`ChangeRecord`, in the same transaction as the change (see the SQLite and
memory adapters), so no acknowledged write can lose its record and a write that
fails records nothing. As in DynamoDB Streams:

- ``eventName`` is ``INSERT`` (a new item), ``MODIFY`` (an item replaced or updated)
  or ``REMOVE`` (an item deleted).
- A write that changes nothing records nothing. DynamoDB: "If you perform a
  PutItem or UpdateItem operation that does not change any data in an item,
  DynamoDB Streams does not write a stream record for that operation" — so a put
  of an identical item emits no MODIFY, and a delete of a missing item no REMOVE.
  Equality is DynamoDB's (:func:`~overcast.ports.tables.values.same_value`).
- The stream view type decides the images: ``KEYS_ONLY`` none, ``NEW_IMAGE`` the
  item after the change, ``OLD_IMAGE`` before it, ``NEW_AND_OLD_IMAGES`` both (an
  INSERT has no old image, a REMOVE no new one). ``Keys`` are always there.
- Sequence numbers increase strictly, in commit order (one ordered sequence per
  table, like a stream with a single shard: in order per item, and overall).
  ``created_at`` is the commit's wall-clock time (``ApproximateCreationDateTime``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, TypeAlias

from overcast import spec
from overcast.ports.tables.values import Item, same_value

EventName: TypeAlias = Literal["INSERT", "MODIFY", "REMOVE"]


@dataclass(frozen=True)
class Change:
    """A change about to be recorded: its event, keys and the images its view keeps."""

    event_name: EventName
    keys: Item
    new_image: Item | None
    old_image: Item | None


@dataclass(frozen=True)
class ChangeRecord:
    """A recorded change: a :class:`Change` with its sequence number and time."""

    sequence: int
    created_at: float
    change: Change


def change_of(
    view: spec.StreamView, keys: Item, old: Item | None, new: Item | None
) -> Change | None:
    """The record a write from ``old`` to ``new`` leaves, or ``None`` if nothing changed."""
    if old is None and new is None:
        return None
    if old is not None and new is not None and same_value(old, new):
        return None  # DynamoDB: a write that changes no data writes no stream record
    event: EventName = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    keeps_new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    keeps_old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    return Change(
        event_name=event,
        keys=dict(keys),
        new_image=new if keeps_new else None,
        old_image=old if keeps_old else None,
    )


def stream_label(epoch_seconds: float) -> str:
    """DynamoDB's stream label: the stream's creation time, ``2016-11-29T20:46:22.144``."""
    moment = datetime.datetime.fromtimestamp(epoch_seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
