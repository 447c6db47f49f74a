"""What every ``overcast`` command module shares: the consoles, the project and data
directory options, and how a command fails."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.text import Text

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project directory (its overcast.toml or pyproject.toml names its services).",
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the local cloud keeps its data [default: PROJECT/.overcast].",
)


def resolved_data_dir(project_dir: Path, data_dir: Path | None) -> Path:
    """``--data-dir`` if given, else the project's configured data directory."""
    from overcast.local.settings import data_dir_for

    return data_dir.resolve() if data_dir else data_dir_for(project_dir)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr and exit 1."""
    errors.print(Text("error: ", style="red") + Text(message), soft_wrap=True)
    raise SystemExit(1)
