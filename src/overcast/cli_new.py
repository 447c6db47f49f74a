"""``overcast new service NAME``: scaffold a working service (see :mod:`overcast.scaffold`).

Run in Overcast's own repository it adds a built-in app; run in a user's project it
adds a package and names it in the project's configuration. Either way the service
is served by the next ``overcast up`` and deployed by ``overcast synth``, with no
other edit. A bad or taken name, or anything in the way, is refused before any file
is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.text import Text

from overcast.cli_common import console, errors, fail, project_option
from overcast.spec import DeclarationError

if TYPE_CHECKING:
    from overcast.scaffold import Layout


def register_new_commands(main: click.Group) -> None:
    """Add ``overcast new`` to the CLI."""
    main.add_command(new)


@click.group()
def new() -> None:
    """Create something new in this project."""


@new.command("service")
@click.argument("name")
@project_option
def service(name: str, project_dir: Path) -> None:
    """Create service NAME: declaration, handler, model, tests and README section."""
    from overcast.scaffold import (
        ScaffoldError,
        detect_layout,
        parse_service_name,
        plan_service,
        write_plan,
    )

    try:
        layout = detect_layout(project_dir)
        parse_service_name(name, top_level=not layout.in_overcast)  # before loading services
        plan = plan_service(name, layout, taken=_taken_names(layout))
        write_plan(plan)
    except (ScaffoldError, OSError) as exc:
        fail(str(exc))
    where = "Overcast's apps" if layout.in_overcast else layout.root.name
    console.print(f"[bold]Overcast[/] created service [bold]{plan.name.service}[/] in {where}:")
    for change in plan.changes:
        verb = "created" if change.created else "changed"
        detail = f" ({change.why})" if change.why else ""
        console.print(Text(f"  {verb} {_shown(change.path, layout.root)}{detail}"))
    tests = " ".join(_shown(path, layout.root) for path in layout.test_paths(plan.name))
    console.print("Next:")
    console.print(Text("  overcast up                      serve it (with every other service)"))
    console.print(Text(f"  python -m pytest {tests}"))
    console.print(Text(f"  overcast synth {plan.name.service}              its CDK stack"))


def _taken_names(layout: Layout) -> set[str]:
    """The names of the services that exist: Overcast's apps and, in a user's project,
    those its configuration names (as ``overcast up`` finds them)."""
    from overcast.local.discovery import builtin_service_modules, discover
    from overcast.local.settings import load_settings

    names = {module.split(".")[2] for module in builtin_service_modules()}
    try:
        settings = load_settings(layout.root)
        modules = () if layout.in_overcast else settings.services
        found = discover(modules, python_path=settings.python_path, builtin_apps=True)
    except DeclarationError as exc:
        errors.print(Text(f"warning: could not load the existing services: {exc}"))
        return names
    return names | {declared.name for declared in found}


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
