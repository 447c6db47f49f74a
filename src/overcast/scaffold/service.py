"""``overcast new service NAME``: a working service, ready for ``overcast up`` and ``synth``.

The service is the smallest one that shows every part: a declaration (one table,
one function, a REST API with stage ``v1``: ``GET /items``, ``POST /items``,
``GET /items/{id}``, ``GET /openapi.json``), a Powertools handler with a pydantic
model that reaches its table through the table port, unit tests on the in-memory
table, an end-to-end test over HTTPS, and a README section. Where the files go is the
:class:`~overcast.scaffold.layout.Layout`'s business.

Everything is decided before anything is written: :func:`plan_service` renders every
file and edit, and refuses (:class:`ScaffoldError`) a bad or taken name, an existing
package or file, or a configuration it cannot edit safely. :func:`write_plan` then
writes; new files are created exclusively, never overwritten.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import jinja2

from overcast.scaffold.config_edit import add_service
from overcast.scaffold.errors import ScaffoldError
from overcast.scaffold.layout import Layout
from overcast.scaffold.names import ServiceName, parse_service_name


@dataclass(frozen=True)
class FileChange:
    """One file to write: ``created`` if it must not exist yet, else an edit of it."""

    path: Path
    content: str
    created: bool
    why: str = ""


@dataclass(frozen=True)
class ServicePlan:
    """Everything ``overcast new service`` writes, decided before it writes any of it."""

    name: ServiceName
    layout: Layout
    changes: tuple[FileChange, ...]


def plan_service(raw_name: str, layout: Layout, *, taken: Collection[str] = ()) -> ServicePlan:
    """What creating service ``raw_name`` in ``layout`` writes; ``taken`` are the names of
    services that exist already (Overcast's apps, the project's)."""
    name = parse_service_name(raw_name, top_level=not layout.in_overcast)
    _check_free(name, layout, taken)
    created = [FileChange(path, content, created=True) for path, content in _files(name, layout)]
    for change in created:
        if change.path.exists():
            raise ScaffoldError(f"{change.path} exists already; nothing was written.")
    return ServicePlan(name, layout, (*created, *_edits(name, layout)))


def write_plan(plan: ServicePlan) -> None:
    """Write the plan's new files (each must still be absent), then its edits."""
    for change in sorted(plan.changes, key=lambda change: not change.created):
        change.path.parent.mkdir(parents=True, exist_ok=True)
        with change.path.open("x" if change.created else "w", encoding="utf-8") as file:
            file.write(change.content)


def _check_free(name: ServiceName, layout: Layout, taken: Collection[str]) -> None:
    if name.service in taken or name.package in taken:
        raise ScaffoldError(
            f"A service named {name.service!r} exists already (Overcast's own apps and "
            "this project's services must have unique names); choose another name."
        )
    package = layout.package_dir(name)
    if package.exists() or package.with_suffix(".py").exists():
        raise ScaffoldError(f"{package} exists already; choose another name.")
    if layout.config is not None:
        module = layout.module(name)
        for entry in layout.config.settings.get("services", []):
            if entry == module or str(entry).startswith(f"{module}."):
                raise ScaffoldError(
                    f"{layout.config.path} names {entry!r} already; choose another name."
                )


def _files(name: ServiceName, layout: Layout) -> list[tuple[Path, str]]:
    package = layout.package_dir(name)
    files = [
        (package / "__init__.py", "package_init.py.j2"),
        (package / "service.py", "service.py.j2"),
        (package / "models.py", "models.py.j2"),
        (package / "handler.py", "handler.py.j2"),
        (layout.unit_test(name), "test_api.py.j2"),
    ]
    if layout.in_overcast:
        files.append((layout.e2e_test(name), "test_e2e_overcast.py.j2"))
    else:
        files.append((layout.e2e_test(name), "test_e2e_project.py.j2"))
        files.append((layout.tests_dir(name) / "conftest.py", "conftest_project.py.j2"))
    return [(path, render(template, name, layout)) for path, template in files]


def _edits(name: ServiceName, layout: Layout) -> list[FileChange]:
    readme = layout.readme
    existing = readme.read_text(encoding="utf-8") if readme.exists() else ""
    section = render("readme.md.j2", name, layout)
    if not existing:
        section = section.lstrip("\n")
    elif not existing.endswith("\n"):
        section = "\n" + section
    edits = [FileChange(readme, existing + section, created=False, why="a section on it")]
    if layout.config is not None:
        module = f"{layout.module(name)}.service"
        text = add_service(layout.config, module, layout.python_path_to_add)
        edits.append(FileChange(layout.config.path, text, created=False, why=f"+ {module}"))
    return edits


def render(template: str, name: ServiceName, layout: Layout) -> str:
    """The template (a file of ``templates/``) rendered for this service and layout."""
    return (
        _templates()
        .get_template(template)
        .render(
            service=name.service,
            package=name.package,
            title=name.title,
            module=layout.module(name),
            in_overcast=layout.in_overcast,
            package_path=_relative(layout.package_dir(name), layout.root),
            test_paths=" ".join(_relative(path, layout.root) for path in layout.test_paths(name)),
        )
    )


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("overcast.scaffold", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
