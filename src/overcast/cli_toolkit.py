"""``overcast openapi`` and ``overcast sdk``: a service's OpenAPI document and typed client.

Both work offline: the document is asked of the service's own API function (see
:mod:`overcast.toolkit.openapi`). Its ``servers`` entry is the API's URL when a local
cloud is running on the project's data directory, else the stage path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from overcast.cli_common import (
    console,
    data_dir_option,
    errors,
    fail,
    project_option,
    resolved_data_dir,
)
from overcast.spec import DeclarationError, Service


def register_toolkit_commands(main: click.Group) -> None:
    """Add ``overcast openapi`` and ``overcast sdk`` to the CLI."""
    main.add_command(openapi)
    main.add_command(sdk)


@click.command()
@click.argument("service")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the document to this file [default: print it].",
)
@project_option
@data_dir_option
def openapi(service: str, out: Path | None, project_dir: Path, data_dir: Path | None) -> None:
    """Print (or write) SERVICE's OpenAPI 3 document, as its API serves it."""
    document = _document(service, project_dir, data_dir)
    text = json.dumps(document, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    errors.print(f"Wrote the {service} API's OpenAPI document to {out}.")


@click.command()
@click.argument("service")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the client project [default: ./<service>-client].",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into --out even if it holds other files (replaces pyproject.toml etc.).",
)
@project_option
@data_dir_option
def sdk(
    service: str, out: Path | None, force: bool, project_dir: Path, data_dir: Path | None
) -> None:
    """Generate a typed Python client package of SERVICE's API (openapi-python-client)."""
    from overcast.toolkit.sdk import (
        ClientNames,
        SdkError,
        check_generator_installed,
        check_output_folder,
        generate_client,
    )

    names = ClientNames.of(service)
    target = out or Path.cwd() / names.project
    try:
        check_generator_installed()
        check_output_folder(target, names, force=force)
    except SdkError as exc:
        fail(str(exc))
    with console.status(f"Asking the {service} API function for its OpenAPI document..."):
        document = _document(service, project_dir, data_dir)
    with console.status(f"Generating {names.project} with openapi-python-client..."):
        try:
            package = generate_client(document, service, target, force=force)
        except SdkError as exc:
            fail(str(exc))
    console.print(
        f"[green]Wrote[/] the {service} API's client: package {names.package} in {target}"
    )
    console.print(f"Install it with: pip install {target}")
    console.print(f"Use it: from {package.name} import AuthenticatedClient")


def _document(service_name: str, project_dir: Path, data_dir: Path | None) -> dict[str, Any]:
    from overcast.toolkit.openapi import OpenApiError, fetch_document, server_url, with_server

    service, python_path = _service(service_name, project_dir)
    try:
        document = fetch_document(service, python_path)
    except OpenApiError as exc:
        fail(str(exc))
    return with_server(document, server_url(service, _running_api(service, project_dir, data_dir)))


def _service(name: str, project_dir: Path) -> tuple[Service, tuple[Path, ...]]:
    from overcast.local.discovery import discover
    from overcast.local.settings import load_settings

    try:
        settings = load_settings(project_dir)
        services = discover(
            settings.services, python_path=settings.python_path, builtin_apps=settings.builtin_apps
        )
    except DeclarationError as exc:
        fail(str(exc))
    found = next((service for service in services if service.name == name), None)
    if found is None:
        known = ", ".join(service.name for service in services) or "none"
        fail(f"No service is named {name!r}; this project's services: {known}.")
    return found, settings.python_path


def _running_api(service: Service, project_dir: Path, data_dir: Path | None) -> str | None:
    from overcast.local.endpoints import running_endpoints

    directory = resolved_data_dir(project_dir, data_dir)
    endpoints = running_endpoints(directory / "endpoints.json")
    running = endpoints.services.get(service.name) if endpoints else None
    return running.api if running else None
