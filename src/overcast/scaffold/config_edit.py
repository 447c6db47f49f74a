"""Name a new service module in a project's configuration, editing its TOML as text.

The configuration is the user's file: its comments, order and layout stay as they
are. The edit touches the Overcast table only (``overcast.toml`` at top level, else
``[tool.overcast]`` of ``pyproject.toml``, as :mod:`overcast.local.settings` reads
them): it appends to the ``services`` array (creating the key, or the table, if
absent) and, when asked, adds a ``python_path`` key.

Text edits of TOML can go wrong on layouts this module does not expect (inline
tables, dotted keys, arrays written oddly), so every edit is checked: the new text is
parsed, and the document must equal the old one plus exactly the new entries.
Otherwise nothing is written, and the error gives the line to add by hand.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overcast.scaffold.errors import ScaffoldError

OVERCAST_TOML = "overcast.toml"
PYPROJECT_TOML = "pyproject.toml"
_ANY_HEADER = re.compile(r"(?m)^[ \t]*\[")
_TOOL_OVERCAST = re.compile(r"(?m)^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*overcast[ \t]*\][ \t]*(#.*)?$")


@dataclass(frozen=True)
class ConfigFile:
    """The file holding a project's Overcast configuration (``text`` is empty if it does
    not exist yet: then an ``overcast.toml`` is created)."""

    path: Path
    text: str
    in_pyproject: bool

    @property
    def document(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise ScaffoldError(f"Cannot read {self.path}: {exc}. Fix it, then retry.") from exc

    @property
    def settings(self) -> dict[str, Any]:
        """The Overcast table (``{}`` if there is none)."""
        document = self.document
        if not self.in_pyproject:
            return document
        tool = document.get("tool", {})
        found = tool.get("overcast", {}) if isinstance(tool, dict) else {}
        return found if isinstance(found, dict) else {}

    @property
    def table_label(self) -> str:
        if self.in_pyproject:
            return f"the [tool.overcast] table of {self.path.name}"
        return f"the top of {self.path.name}"


def find_config_file(project_dir: Path) -> ConfigFile:
    """``overcast.toml`` if it exists, else ``pyproject.toml``, else a new ``overcast.toml``."""
    own = project_dir / OVERCAST_TOML
    pyproject = project_dir / PYPROJECT_TOML
    for path, in_pyproject in ((own, False), (pyproject, True)):
        if path.exists():
            return ConfigFile(path, path.read_text(encoding="utf-8"), in_pyproject)
    return ConfigFile(own, "", in_pyproject=False)


def add_service(config: ConfigFile, module: str, python_path: str | None = None) -> str:
    """The configuration's new text: ``module`` appended to ``services`` and, if given,
    ``python_path = [python_path]`` added; :class:`ScaffoldError` if that cannot be done
    safely (the message holds the line to add by hand)."""
    settings = config.settings
    services = settings.get("services", [])
    if not isinstance(services, list):
        raise ScaffoldError(f"{config.path}: 'services' must be a list of module names.")
    try:
        text = _edited(config, module, python_path if "python_path" not in settings else None)
    except _Uneditable:
        text = None
    if text is None or not _is_exact_edit(config, text, module, python_path):
        lines = [f"services = {json.dumps([*services, module])}"]
        if python_path is not None and "python_path" not in settings:
            lines.append(f"python_path = {json.dumps([python_path])}")
        raise ScaffoldError(
            f"Cannot add {module!r} to {config.path} safely. Add it by hand, in "
            f"{config.table_label}: {'  and  '.join(lines)}"
        )
    return text


class _Uneditable(Exception):
    """The text is not laid out as this module expects."""


def _edited(config: ConfigFile, module: str, python_path: str | None) -> str:
    text = config.text
    if text and not text.endswith("\n"):
        text += "\n"
    start, end = _table_region(text, config.in_pyproject)
    if start is None:  # pyproject.toml without [tool.overcast]: append the table
        lines = ["", "[tool.overcast]", f"services = {json.dumps([module])}"]
        if python_path is not None:
            lines.append(f"python_path = {json.dumps([python_path])}")
        return text + "\n".join(lines) + "\n"
    key = re.compile(r"(?m)^[ \t]*services[ \t]*=[ \t]*").search(text, start, end)
    added = [] if python_path is None else [f"python_path = {json.dumps([python_path])}"]
    if key is None:
        added.insert(0, f"services = {json.dumps([module])}")
        return _insert_lines(text, start, end, added, at_start=config.in_pyproject)
    if not text.startswith("[", key.end()):
        raise _Uneditable
    text = _append_to_array(text, key.end(), json.dumps(module))
    end = _table_region(text, config.in_pyproject)[1]
    return _insert_lines(text, start, end, added, at_start=config.in_pyproject)


def _table_region(text: str, in_pyproject: bool) -> tuple[int | None, int]:
    """Where the Overcast table's keys are: from ``start`` up to the next table header."""
    if in_pyproject:
        header = _TOOL_OVERCAST.search(text)
        if header is None:
            return None, len(text)
        start = header.end() + 1
    else:
        start = 0
    following = _ANY_HEADER.search(text, start)
    return start, following.start() if following else len(text)


def _insert_lines(text: str, start: int, end: int, lines: list[str], *, at_start: bool) -> str:
    if not lines:
        return text
    block = "".join(f"{line}\n" for line in lines)
    if at_start:
        return text[:start] + block + text[start:]
    # After the region's last non-blank line, so blank lines before a header stay there.
    body = text[start:end].rstrip()
    position = start + len(body)
    if body:
        position = text.index("\n", position) + 1 if "\n" in text[position:] else len(text)
    return text[:position] + block + text[position:]


_SEPARATORS = {"[": "", ",": " ", "value": ", "}


def _append_to_array(text: str, open_at: int, value: str) -> str:
    """``text`` with ``value`` appended to the array whose ``[`` is at ``open_at``."""
    close, last_value_end, last = _scan_array(text, open_at)
    line_start = text.rfind("\n", 0, close) + 1
    if line_start <= open_at or text[line_start:close].strip():
        # One line, or the bracket ends the last value's line (``"b"]``): append in place.
        separator = "" if last == "," and text[close - 1].isspace() else _SEPARATORS[last]
        return text[:close] + separator + value + text[close:]
    # The bracket is on a line of its own: a new line before it, indented as the last value.
    indent = _indentation(text, last_value_end) if last != "[" else ""
    text = text[:line_start] + f"{indent or '    '}{value},\n" + text[line_start:]
    if last == "value":
        text = text[:last_value_end] + "," + text[last_value_end:]
    return text


def _indentation(text: str, position: int) -> str:
    line = text[text.rfind("\n", 0, position) + 1 : position]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _scan_array(text: str, open_at: int) -> tuple[int, int, str]:
    """(the closing bracket's index, the end of the last value, what came last:
    ``"["``, ``","`` or ``"value"``) of the array whose ``[`` is at ``open_at``."""
    depth, position, last, last_value_end = 0, open_at, "[", open_at + 1
    while position < len(text):
        char = text[position]
        if char == "#":
            position = _line_end(text, position)
            continue
        if char in "\"'":
            position = _string_end(text, position)
            last, last_value_end = "value", position
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return position, last_value_end, last
        elif char == ",":
            last = ","
        elif not char.isspace():
            last, last_value_end = "value", position + 1
        position += 1
    raise _Uneditable


def _line_end(text: str, position: int) -> int:
    found = text.find("\n", position)
    return len(text) if found < 0 else found


def _string_end(text: str, position: int) -> int:
    """The index just after the TOML string starting at ``position``."""
    quote = text[position]
    if text.startswith(quote * 3, position):
        found = text.find(quote * 3, position + 3)
        if found < 0:
            raise _Uneditable
        return found + 3
    index = position + 1
    while index < len(text) and text[index] != quote:
        if text[index] == "\n":
            raise _Uneditable
        index += 2 if quote == '"' and text[index] == "\\" else 1
    if index >= len(text):
        raise _Uneditable
    return index + 1


def _is_exact_edit(config: ConfigFile, text: str, module: str, python_path: str | None) -> bool:
    """Whether ``text`` parses to the old document plus exactly the new entries."""
    try:
        edited = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    expected = copy.deepcopy(config.document)
    table = expected
    if config.in_pyproject:
        table = table.setdefault("tool", {}).setdefault("overcast", {})
    table["services"] = [*table.get("services", []), module]
    if python_path is not None:
        table.setdefault("python_path", [python_path])
    return edited == expected
