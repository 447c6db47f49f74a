"""``overcast cdn serve`` (the edge in front of any app) and ``overcast cdn invalidate``."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from overcast.cli_common import console, data_dir_option, fail, project_option, resolved_data_dir

if TYPE_CHECKING:
    from overcast.spec import Distribution

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def register_cdn_commands(main: click.Group) -> None:
    """Add ``overcast cdn`` to the CLI."""
    main.add_command(cdn)


def parse_size(text: str) -> int:
    """``10GiB``, ``500MB``, ``1048576`` → bytes."""
    match = _SIZE.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a size such as 10GiB, 500MB or 1048576.")
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or "b").lower()])


@click.group()
def cdn() -> None:
    """The CDN edge: put it in front of any app, invalidate cached paths."""


@cdn.command("serve")
@click.option("--origin", required=True, help="The existing app's URL, e.g. http://10.0.0.5:8080.")
@click.option(
    "--from",
    "from_distribution",
    metavar="SERVICE/DISTRIBUTION",
    help="Use a declared distribution's behaviours and cache policies.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4590, show_default=True, help="0 picks a free port.")
@click.option("--http", "plain_http", is_flag=True, help="Serve plain HTTP instead of HTTPS.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--max-cache-size", default="10GiB", show_default=True)
@project_option
@data_dir_option
def serve(
    origin: str,
    from_distribution: str | None,
    host: str,
    port: int,
    plain_http: bool,
    cache_dir: Path | None,
    max_cache_size: str,
    project_dir: Path,
    data_dir: Path | None,
) -> None:
    """Serve ORIGIN through the edge, caching as CloudFront would, until Ctrl-C."""
    from overcast.local.cdn.standalone import ServeOptions
    from overcast.local.cdn.standalone import serve as run
    from overcast.local.tls import LocalCA

    if not origin.startswith(("http://", "https://")):
        fail(f"--origin {origin!r} must be an http:// or https:// URL.")
    directory = resolved_data_dir(project_dir, data_dir)
    tls = None
    ca_bundle = None
    if not plain_http:
        ca = LocalCA(directory / "tls")
        ca.ensure()
        tls = (ca.server_cert_path, ca.server_key_path)
        ca_bundle = str(ca.ca_cert_path)
    options = ServeOptions(
        origin=origin.rstrip("/"),
        host=host,
        port=port,
        cache_dir=(cache_dir or directory / "cdn" / "serve").resolve(),
        max_cache_bytes=parse_size(max_cache_size),
        distribution=_declared(project_dir, from_distribution) if from_distribution else None,
        tls=tls,
        ca_bundle=ca_bundle,
    )

    def ready(url: str) -> None:
        console.print(f"[bold]Overcast[/] edge for {options.origin} serving at [bold]{url}[/]")
        console.print(f"cache in {options.cache_dir} (at most {max_cache_size}); Ctrl-C stops")

    from overcast.cli import _loop_factory

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            stats = runner.run(run(options, ready))
    except OSError as exc:
        fail(f"Cannot serve on {host}:{port}: {exc.strerror or exc}")
    figures = stats.as_dict()
    console.print(
        f"Stopped. {figures['requests']} requests, hit ratio {stats.hit_ratio:.1%}, "
        f"{figures['origin_requests']} to the origin."
    )


def _declared(project_dir: Path, label: str) -> Distribution:
    from overcast.local.cdn.standalone import custom_origins_only
    from overcast.local.discovery import discover
    from overcast.local.settings import load_settings
    from overcast.spec import DeclarationError

    try:
        settings = load_settings(project_dir)
        services = discover(
            settings.services,
            python_path=settings.python_path,
            builtin_apps=settings.builtin_apps,
        )
    except DeclarationError as exc:
        fail(str(exc))
    declared = {f"{s.name}/{d.name}": d for s in services for d in s.distributions}
    if label not in declared:
        fail(f"No distribution {label!r}; declared: {', '.join(declared) or 'none'}.")
    reason = custom_origins_only(declared[label])
    if reason:
        fail(reason)
    return declared[label]


@cdn.command("invalidate")
@click.argument("distribution", metavar="SERVICE/DISTRIBUTION")
@click.argument("paths", nargs=-1, required=True)
@project_option
@data_dir_option
def invalidate(
    distribution: str, paths: tuple[str, ...], project_dir: Path, data_dir: Path | None
) -> None:
    """Remove PATHS (``/index.html``, ``/images/*``, ``/*``) from a running distribution."""
    from overcast.cli import _admin_client
    from overcast.local.admin import AdminError

    client = _admin_client(project_dir, data_dir)
    try:
        result = client.invalidate(distribution, list(paths))
    except AdminError as exc:
        fail(str(exc))
    removed = result["removed"]
    console.print(
        f"Invalidation {result['id']} of {distribution}: {len(paths)} "
        f"{'path' if len(paths) == 1 else 'paths'}, {removed} cached "
        f"{'object' if removed == 1 else 'objects'} removed."
    )
