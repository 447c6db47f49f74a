"""``overcast stats``: the running cloud's cache figures as Rich tables.

One table per service with a stage cache (a row per cached route), one table of
read caches (a row per table and cache: ``item`` for gets, ``query`` for queries), and
one table of CDN distributions (requests, hit ratio, bytes from the edge and from the
origin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table


def print_stats(figures: Mapping[str, Any], console: Console) -> None:
    """Print what the admin API's ``/_overcast/stats`` answered."""
    services: Mapping[str, Any] = figures.get("services", {})
    distributions: Mapping[str, Any] = figures.get("distributions", {})
    printed = False
    if distributions:
        console.print(_cdn_table(distributions))
        printed = True
    for name, caches in sorted(services.items()):
        stages: Mapping[str, Any] = caches.get("stages") or {}
        if len(stages) > 1 or (stages and not caches.get("stage_cache")):
            for stage, figures in sorted(stages.items()):
                console.print(_stage_table(f"{name} API {stage}", figures))
            printed = True
        elif caches.get("stage_cache"):
            console.print(_stage_table(f"{name} API", caches["stage_cache"]))
            printed = True
    rows = [
        (service, table, cache, counters)
        for service, caches in sorted(services.items())
        for table, by_cache in sorted((caches.get("read_caches") or {}).items())
        for cache, counters in sorted(by_cache.items())
    ]
    if rows:
        console.print(_read_table(rows))
    elif not printed:
        console.print("No service declares a stage cache or a read cache.")


def _cdn_table(distributions: Mapping[str, Any]) -> Table:
    table = Table(title="CDN distributions", title_justify="left", show_edge=False)
    table.add_column("distribution")
    columns = ("requests", "hits", "misses", "hit ratio", "to origin", "from edge", "from origin")
    for column in columns:
        table.add_column(column, justify="right")
    for label, counters in sorted(distributions.items()):
        hits = counters.get("hits", 0) + counters.get("refresh_hits", 0)
        served = hits + counters.get("misses", 0)
        table.add_row(
            label,
            *_counts(counters, "requests"),
            f"{hits:,}",
            *_counts(counters, "misses"),
            f"{hits / served:.0%}" if served else "-",
            *_counts(counters, "origin_requests"),
            _size(counters.get("edge_bytes", 0)),
            _size(counters.get("origin_bytes", 0)),
        )
    return table


def _stage_table(label: str, stage: Mapping[str, Any]) -> Table:
    title = (
        f"{label} stage cache: {stage['entries']} entries, "
        f"{_size(stage['bytes'])} of {_size(stage['capacity_bytes'])}"
    )
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("route")
    for column in ("TTL s", "hits", "misses", "hit rate", "evictions", "invalidations"):
        table.add_column(column, justify="right")
    for route, counters in sorted(stage["routes"].items()):
        table.add_row(
            route,
            str(counters["ttl_seconds"]),
            *_counts(counters, "hits", "misses"),
            _rate(counters),
            *_counts(counters, "evictions", "invalidations"),
        )
    return table


def _read_table(rows: list[tuple[str, str, str, Mapping[str, int]]]) -> Table:
    table = Table(title="Read caches (DAX)", title_justify="left", show_edge=False)
    for column in ("service", "table", "cache"):
        table.add_column(column)
    columns = ("hits", "misses", "hit rate", "bypasses", "evictions", "invalidations", "entries")
    for column in columns:
        table.add_column(column, justify="right")
    for service, name, cache, counters in rows:
        table.add_row(
            service,
            name,
            cache,
            *_counts(counters, "hits", "misses"),
            _rate(counters),
            *_counts(counters, "bypasses", "evictions", "invalidations", "entries"),
        )
    return table


def _counts(counters: Mapping[str, int], *names: str) -> list[str]:
    return [f"{counters.get(name, 0):,}" for name in names]


def _rate(counters: Mapping[str, int]) -> str:
    reads = counters.get("hits", 0) + counters.get("misses", 0)
    return f"{counters.get('hits', 0) / reads:.0%}" if reads else "-"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024**2:
        return f"{size / 1024:.1f} KiB"
    if size < 1024**3:
        return f"{size / 1024**2:.1f} MiB"
    return f"{size / 1024**3:.2f} GiB"
