"""Names of a service's triggers, as ``overcast`` logs and lists them.

A queue trigger is named ``<queue>-><function>`` and a stream trigger
``<table>-><function>``; a service may declare the same pair more than once, so the
second and later ones are numbered ``#2``, ``#3``... in declaration order.
"""

from __future__ import annotations

from collections.abc import Iterable


def trigger_ids(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Each ``(source, function)`` pair's name: ``<source>-><function>``, numbered if repeated."""
    seen: dict[str, int] = {}
    names = []
    for source, function in pairs:
        base = f"{source}->{function}"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return names
