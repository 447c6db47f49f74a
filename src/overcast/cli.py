"""The ``overcast`` command."""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table as RichTable

from overcast.cli_common import (
    console,
    data_dir_option,
    fail,
    project_option,
    resolved_data_dir,
)
from overcast.spec import DeclarationError

if TYPE_CHECKING:
    from overcast.local.admin import AdminClient


@click.group()
def main() -> None:
    """Overcast: AWS serverless architectures, run locally and deployed to AWS."""


@main.command()
@project_option
@data_dir_option
@click.option(
    "--ports",
    type=click.Choice(["fixed", "auto"]),
    default="fixed",
    show_default=True,
    help="fixed: the configured ports (4566 AWS, 1025 SMTP, 4567+ APIs); auto: free ports.",
)
@click.option("--quiet", is_flag=True, help="Do not print an access-log line per request.")
@click.option(
    "--dynamodb-endpoint",
    metavar="URL",
    help="Keep the tables in this DynamoDB-compatible endpoint (e.g. moto's server).",
)
@click.option(
    "--ses-endpoint",
    metavar="URL",
    help="Send the functions' mail through SES v2 at this endpoint (e.g. moto's server).",
)
def up(
    project_dir: Path,
    data_dir: Path | None,
    ports: str,
    quiet: bool,
    dynamodb_endpoint: str | None,
    ses_endpoint: str | None,
) -> None:
    """Start the whole local cloud in the foreground (Ctrl-C stops it)."""
    from overcast.local.settings import load_settings

    started = time.perf_counter()
    try:
        settings = load_settings(
            project_dir,
            data_dir=data_dir,
            auto_ports=ports == "auto",
            access_log=not quiet,
            dynamodb_endpoint=dynamodb_endpoint,
            ses_endpoint=ses_endpoint,
        )
    except DeclarationError as exc:
        fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # A crash of native code (SQLite, uvloop, TLS) prints every thread's Python stack, and
    # so does SIGUSR1 (`kill -USR1 <pid>`), for a cloud that seems stuck.
    faulthandler.enable()
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    console.print(f"[bold]Overcast[/] starting the local cloud (data in {settings.data_dir})")
    try:
        _run_forever(settings, started)
    except DeclarationError as exc:
        fail(str(exc))


def _run_forever(settings: object, started: float) -> None:
    from overcast.local.cloud import LocalCloud
    from overcast.local.settings import CloudSettings

    assert isinstance(settings, CloudSettings)
    cloud = LocalCloud(settings)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            endpoints = await cloud.start()
            _print_endpoints(endpoints, settings.endpoints_file)
            console.print(
                f"[green]Ready[/] in {time.perf_counter() - started:.1f} s. Press Ctrl-C to stop."
            )
            await stop.wait()
            console.print("Stopping...")
        finally:
            await cloud.stop()
        console.print("Stopped.")

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(run())


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is installed on every supported platform
        return None
    return uvloop.new_event_loop


def _print_endpoints(endpoints: object, endpoints_file: Path) -> None:
    from overcast.local.endpoints import Endpoints

    assert isinstance(endpoints, Endpoints)
    table = RichTable(title="Endpoints", title_justify="left", show_edge=False)
    table.add_column("what")
    table.add_column("where")
    apis_by_url: dict[str, list[str]] = {}
    for prefix, url in sorted(endpoints.aws.items()):
        apis_by_url.setdefault(url, []).append(prefix)
    for url, prefixes in apis_by_url.items():
        table.add_row(f"AWS endpoint ({', '.join(prefixes)})", url)
    for name, service in sorted(endpoints.services.items()):
        if service.api:
            table.add_row(f"{name} API", service.api)
        for pool_name, pool in sorted(service.user_pools.items()):
            clients = ", ".join(f"{client}={cid}" for client, cid in sorted(pool.clients.items()))
            table.add_row(f"{name} user pool {pool_name}", f"{pool.id} (clients: {clients})")
        for pool_name, identities in sorted(service.identity_pools.items()):
            table.add_row(f"{name} identity pool {pool_name}", identities.id)
        for bucket, bucket_name in sorted(service.buckets.items()):
            table.add_row(f"{name} bucket {bucket}", f"s3://{bucket_name}")
        for distribution_name, distribution in sorted(service.distributions.items()):
            table.add_row(
                f"{name} CDN {distribution_name}", f"{distribution.url}  ({distribution.id})"
            )
    table.add_row("SMTP sink", endpoints.smtp)
    table.add_row("mailbox", f"{endpoints.mailbox}  (overcast mail)")
    table.add_row("mailbox (web)", endpoints.mailbox_url or "-")
    table.add_row("CA certificate", endpoints.ca_bundle)
    table.add_row("endpoints file", str(endpoints_file))
    console.print(table)
    console.print('Point AWS SDKs and the AWS CLI here with: [bold]eval "$(overcast env)"[/]')


@main.command()
@project_option
@data_dir_option
def env(project_dir: Path, data_dir: Path | None) -> None:
    """Print shell exports that point AWS SDKs and the AWS CLI at the running local cloud."""
    from overcast.local.credentials import load_or_create_root_credentials
    from overcast.local.endpoints import running_endpoints, shell_exports

    directory = resolved_data_dir(project_dir, data_dir)
    endpoints = running_endpoints(directory / "endpoints.json")
    if endpoints is None:
        fail(f"No local cloud is running with data in {directory}. Start one with `overcast up`.")
    credentials = load_or_create_root_credentials(directory)
    lines = shell_exports(endpoints, credentials.access_key_id, credentials.secret_access_key)
    # CloudFront's API (invalidations) is served by the one AWS endpoint, as S3 is.
    cloudfront = endpoints.aws.get("cloudfront") or endpoints.aws.get("s3")
    if cloudfront and not any("AWS_ENDPOINT_URL_CLOUDFRONT=" in line for line in lines):
        lines.insert(0, f"export AWS_ENDPOINT_URL_CLOUDFRONT={cloudfront}")
    for line in lines:
        click.echo(line)


@main.command()
@project_option
@data_dir_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(project_dir: Path, data_dir: Path | None, yes: bool) -> None:
    """Delete the local cloud's data directory (tables, users, mail, certificates)."""
    from overcast.local.cloud import DATA_DIR_MARKER
    from overcast.local.endpoints import running_endpoints

    directory = resolved_data_dir(project_dir, data_dir)
    if not directory.exists():
        console.print(f"Nothing to reset: {directory} does not exist.")
        return
    if not (directory / DATA_DIR_MARKER).exists():
        fail(f"{directory} is not an Overcast data directory; nothing deleted.")
    if running_endpoints(directory / "endpoints.json") is not None:
        fail("The local cloud is running on this data directory; stop it first.")
    if not yes and not click.confirm(f"Delete {directory} and everything in it?"):
        console.print("Nothing deleted.")
        return
    shutil.rmtree(directory)
    console.print(f"Deleted {directory}.")


@main.group(invoke_without_command=True)
@project_option
@data_dir_option
@click.pass_context
def mail(ctx: click.Context, project_dir: Path, data_dir: Path | None) -> None:
    """List the mail the local cloud sent (every message is kept)."""
    from overcast.local.mail import Mailbox

    ctx.obj = Mailbox(resolved_data_dir(project_dir, data_dir) / "mail")
    if ctx.invoked_subcommand is None:
        from overcast.local.mail.render import print_mail_list

        print_mail_list(ctx.obj, console)


@mail.command("show")
@click.argument("message")
@click.pass_obj
def mail_show(mailbox: object, message: str) -> None:
    """Show one message, by its number in `overcast mail` or its id."""
    from overcast.local.mail import Mailbox
    from overcast.local.mail.render import print_mail

    assert isinstance(mailbox, Mailbox)
    try:
        print_mail(mailbox, message, console)
    except KeyError as exc:
        fail(str(exc.args[0] if exc.args else exc))


@main.command()
@project_option
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def stats(project_dir: Path, data_dir: Path | None, as_json: bool) -> None:
    """Show the running cloud's caches: each stage cache by route, each read cache by table."""
    from overcast.local.admin import AdminError
    from overcast.local.stats_render import print_stats

    client = _admin_client(project_dir, data_dir)
    try:
        figures = client.stats()
    except AdminError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(figures, indent=2))
    else:
        print_stats(figures, console)


@main.command("flush-stage-cache")
@click.argument("service")
@click.option("--stage", default=None, help="The stage whose cache to flush [default: the API's].")
@project_option
@data_dir_option
def flush_stage_cache(
    service: str, stage: str | None, project_dir: Path, data_dir: Path | None
) -> None:
    """Drop every entry of SERVICE's API stage cache (API Gateway's FlushStageCache)."""
    from overcast.local.admin import AdminError

    client = _admin_client(project_dir, data_dir)
    try:
        flushed = client.flush_stage_cache(service, stage)
    except AdminError as exc:
        fail(str(exc))
    entries = "entry" if flushed == 1 else "entries"
    where = f"{service} API's {stage} stage cache" if stage else f"{service} API's stage cache"
    console.print(f"Flushed {flushed} {entries} from the {where}.")


def _admin_client(project_dir: Path, data_dir: Path | None) -> AdminClient:
    from overcast.local.admin import AdminClient
    from overcast.local.endpoints import running_endpoints

    directory = resolved_data_dir(project_dir, data_dir)
    endpoints = running_endpoints(directory / "endpoints.json")
    if endpoints is None:
        fail(f"No local cloud is running with data in {directory}. Start one with `overcast up`.")
    url = endpoints.aws.get("cognito-idp") or next(iter(endpoints.aws.values()))
    try:
        return AdminClient(url, directory, endpoints.ca_bundle)
    except OSError as exc:
        fail(f"Cannot read the local cloud's admin token in {directory}: {exc}")


# `overcast synth`, `overcast deploy`, `overcast diff` (AWS CDK is imported only when they run).
from overcast.cli_aws import register_aws_commands  # noqa: E402

register_aws_commands(main)
from overcast.cli_streams import register_stream_commands  # noqa: E402  (overcast streams)

register_stream_commands(main)
from overcast.cli_cdn import register_cdn_commands  # noqa: E402  (overcast cdn)

register_cdn_commands(main)
from overcast.cli_toolkit import register_toolkit_commands  # noqa: E402  (openapi, sdk)

register_toolkit_commands(main)
from overcast.cli_new import register_new_commands  # noqa: E402  (overcast new service)

register_new_commands(main)
