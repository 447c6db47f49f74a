"""What a Lambda bundle's code imports, read from its source (never by running it).

The bundle builder needs two answers: which of Overcast's own modules the functions
reach (so that ``overcast.spec`` goes in when the app uses it, and ``overcast.local``
never does), and which third-party distributions to install for the Lambda platform.

Rules:

- Only absolute imports count; relative ones stay inside their package.
- Imports under ``if TYPE_CHECKING:`` are for the type checker only: not needed.
- Imports inside a ``try`` whose handler catches ``ImportError`` (or
  ``ModuleNotFoundError``) are optional: bundled when installed here, else left out.
- ``from package import name`` may import the submodule ``package.name``; both are
  reported, and the caller keeps what exists.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


@dataclass(frozen=True)
class Imported:
    """One module a source file imports."""

    module: str
    source: Path
    optional: bool = False

    @property
    def top_level(self) -> str:
        return self.module.partition(".")[0]


def imports_of(source: Path) -> Iterator[Imported]:
    """The modules ``source`` imports when it runs (see the module docstring)."""
    tree = ast.parse(source.read_bytes(), filename=str(source))
    yield from _walk(tree.body, source, optional=False)


def _walk(statements: list[ast.stmt], source: Path, *, optional: bool) -> Iterator[Imported]:
    for statement in statements:
        yield from _statement(statement, source, optional=optional)


def _statement(statement: ast.stmt, source: Path, *, optional: bool) -> Iterator[Imported]:
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            yield Imported(alias.name, source, optional)
    elif isinstance(statement, ast.ImportFrom):
        if statement.level == 0 and statement.module:
            yield Imported(statement.module, source, optional)
            for alias in statement.names:
                if alias.name != "*":
                    yield Imported(f"{statement.module}.{alias.name}", source, optional)
    elif isinstance(statement, ast.If) and _is_type_checking(statement.test):
        yield from _walk(statement.orelse, source, optional=optional)
    elif isinstance(statement, ast.Try):
        guarded = optional or any(_catches_import_error(h) for h in statement.handlers)
        yield from _walk(statement.body, source, optional=guarded)
        for handler in statement.handlers:
            yield from _walk(handler.body, source, optional=optional)
        yield from _walk(statement.orelse + statement.finalbody, source, optional=optional)
    else:
        for child in _bodies(statement):
            yield from _walk(child, source, optional=optional)


def _bodies(statement: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The nested statement lists of a compound statement (functions, classes, ifs...)."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(statement, name, None)
        if isinstance(block, list) and all(isinstance(item, ast.stmt) for item in block):
            yield block
    for handler in getattr(statement, "handlers", ()):
        yield handler.body
    for case in getattr(statement, "cases", ()):
        yield case.body


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    if caught is None:
        return True
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(isinstance(name, ast.Name) and name.id in _IMPORT_ERRORS for name in names)
