"""``overcast synth``, ``overcast deploy`` and ``overcast diff``: the AWS side of the CLI.

``synth`` writes the cloud assembly (``cdk.out/``) from the declarations, offline;
``deploy`` and ``diff`` synthesize it, then run the AWS CDK CLI on it. AWS CDK is
imported only once one of these commands runs: ``overcast up`` never pays for it.
Arguments (service, environment) are checked before CDK starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.table import Table as RichTable
from rich.text import Text

from overcast.aws.naming import DEFAULT_ENVIRONMENT
from overcast.aws.wheels import Architecture, BundleError, LambdaPlatform
from overcast.cli_common import console, fail
from overcast.spec import DeclarationError

if TYPE_CHECKING:
    from overcast.aws.app import Synthesized


_ARCHITECTURES: tuple[Architecture, ...] = ("x86_64", "arm64")
F = TypeVar("F", bound=Callable[..., Any])


def _common(function: F) -> F:
    """The arguments every AWS command takes."""
    options = [
        click.argument("service", required=False),
        click.option(
            "--project",
            "project_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="The project directory (its overcast.toml or pyproject.toml names its services).",
        ),
        click.option(
            "--env",
            "environment",
            default=DEFAULT_ENVIRONMENT,
            show_default=True,
            help="The environment: each has its own stacks (<service>-<env>), side by side.",
        ),
        click.option(
            "--out",
            "outdir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Where to write the cloud assembly [default: PROJECT/cdk.out].",
        ),
        click.option(
            "--architecture",
            type=click.Choice(_ARCHITECTURES),
            default="x86_64",
            show_default=True,
            help="The Lambda architecture the functions run on (arm64: Graviton).",
        ),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Where bundles and downloaded wheels are cached [default: PROJECT/.overcast].",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command()
@_common
def synth(
    service: str | None,
    project_dir: Path,
    environment: str,
    outdir: Path | None,
    architecture: Architecture,
    data_dir: Path | None,
) -> None:
    """Write CloudFormation templates (cdk.out/) for SERVICE, or every service; offline."""
    _synthesize(service, project_dir, environment, outdir, architecture, data_dir)
    named = f" {service}" if service else ""
    console.print(f"Deploy with [bold]overcast deploy{named} --env {environment}[/].")


@click.command()
@_common
@click.option("--profile", default=None, help="The AWS profile the CDK CLI deploys with.")
@click.option("--bootstrap", is_flag=True, help="First bootstrap the account and region for CDK.")
@click.option("--yes", "approve", is_flag=True, help="Do not ask to approve security changes.")
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="[STACK:]NAME=VALUE",
    help="A stack parameter, e.g. AppDomain=updates.example.com for a custom origin.",
)
def deploy(
    service: str | None,
    project_dir: Path,
    environment: str,
    outdir: Path | None,
    architecture: Architecture,
    data_dir: Path | None,
    profile: str | None,
    bootstrap: bool,
    approve: bool,
    parameters: tuple[str, ...],
) -> None:
    """Synthesize, then deploy SERVICE (or every service) with the AWS CDK CLI."""
    from overcast.aws.cdk_cli import cdk_command, read_outputs

    synthesized = _synthesize(service, project_dir, environment, outdir, architecture, data_dir)
    stacks = [stack.name for stack in synthesized.stacks]
    if bootstrap:
        _run(cdk_command("bootstrap", app=synthesized.outdir, profile=profile))
    _run(
        cdk_command(
            "deploy",
            app=synthesized.outdir,
            stacks=stacks,
            profile=profile,
            approve=approve,
            parameters=parameters,
        )
    )
    _print_outputs(read_outputs(synthesized.outdir), stacks)


@click.command()
@_common
@click.option("--profile", default=None, help="The AWS profile the CDK CLI compares with.")
def diff(
    service: str | None,
    project_dir: Path,
    environment: str,
    outdir: Path | None,
    architecture: Architecture,
    data_dir: Path | None,
    profile: str | None,
) -> None:
    """Synthesize, then show what `overcast deploy` would change, with the AWS CDK CLI."""
    from overcast.aws.cdk_cli import cdk_command

    synthesized = _synthesize(service, project_dir, environment, outdir, architecture, data_dir)
    stacks = [stack.name for stack in synthesized.stacks]
    _run(cdk_command("diff", app=synthesized.outdir, stacks=stacks, profile=profile))


def register_aws_commands(group: click.Group) -> None:
    """Add ``synth``, ``deploy`` and ``diff`` to the ``overcast`` command."""
    for command in (synth, deploy, diff):
        group.add_command(command)


def _synthesize(
    service: str | None,
    project_dir: Path,
    environment: str,
    outdir: Path | None,
    architecture: Architecture,
    data_dir: Path | None,
) -> Synthesized:
    """Check the arguments, then synthesize with CDK, printing progress and a summary."""
    from overcast.aws.node import NodeNotFound, use_project_node
    from overcast.aws.project import SynthRequest, load_project

    try:
        request = SynthRequest(
            project_dir=project_dir,
            outdir=(outdir or project_dir / "cdk.out").resolve(),
            environment=environment,
            service=service,
            platform=LambdaPlatform(architecture),
            cache_dir=data_dir.resolve() / "lambda" if data_dir else None,
        )
        project = load_project(request)
        use_project_node()
    except (DeclarationError, NodeNotFound) as error:
        fail(str(error))
    console.print("[bold]Overcast[/] synthesizing with AWS CDK")
    from overcast.aws.app import SynthError, synthesize

    try:
        synthesized = synthesize(request, project, progress=lambda line: console.print(f"  {line}"))
    except (DeclarationError, BundleError, SynthError) as error:
        fail(str(error))
    _print_synthesized(synthesized)
    return synthesized


def _print_synthesized(synthesized: Synthesized) -> None:
    table = RichTable(title="Stacks", title_justify="left", show_edge=False)
    table.add_column("stack")
    table.add_column("resources", justify="right")
    table.add_column("template")
    for stack in synthesized.stacks:
        table.add_row(stack.name, str(stack.resources), str(stack.template))
    console.print(table)
    for stack in synthesized.stacks:
        for notice in stack.notices:
            console.print(Text(f"note: {stack.name}: {notice}", style="yellow"))
    console.print(f"[green]Wrote[/] {synthesized.outdir} (checked by cdk-nag AwsSolutions).")


def _print_outputs(outputs: dict[str, dict[str, str]], stacks: list[str]) -> None:
    table = RichTable(title="Deployed", title_justify="left", show_edge=False)
    table.add_column("stack")
    table.add_column("output")
    table.add_column("value")
    for stack in stacks:
        for key, value in sorted(outputs.get(stack, {}).items()):
            table.add_row(stack, key, value)
    console.print(table)


def _run(command: list[str]) -> None:
    from overcast.aws.cdk_cli import CdkFailed, run_cdk

    console.print(f"Running the AWS CDK CLI: npx {' '.join(command[2:])}")
    try:
        run_cdk(command)
    except CdkFailed as error:
        fail(str(error))
