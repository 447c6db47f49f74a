"""A typed Python client of a service's API, generated from its OpenAPI document.

``overcast sdk SERVICE`` writes the document (see :mod:`overcast.toolkit.openapi`) to
a temporary file and runs openapi-python-client on it (the ``sdk`` extra):
``generate --path <document> --output-path <dir> --overwrite --meta pdm``, with a
config file naming the project ``<service>-client`` and its package
``<service>_client``. The generator's post hooks (ruff) are turned off: the client
must not depend on tools the user may not have. The package it writes uses httpx and
attrs, and type-checks with ``mypy --strict``.

``--overwrite`` replaces the output folder's ``pyproject.toml``, ``README.md`` and
``.gitignore``, so the output folder must be missing, empty or an earlier client of
the same service (it holds ``<package>/client.py``); anything else is refused unless
``force`` is given.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENERATOR = "openapi_python_client"
_TIMEOUT_SECONDS = 300.0


class SdkError(Exception):
    """The client could not be generated; the message says why and what to do."""


@dataclass(frozen=True)
class ClientNames:
    """The generated project's and package's names: ``todo-client``, ``todo_client``."""

    project: str
    package: str

    @classmethod
    def of(cls, service: str) -> ClientNames:
        return cls(f"{service}-client", f"{service.replace('-', '_')}_client")


def generator_config(names: ClientNames) -> dict[str, Any]:
    """openapi-python-client's configuration for ``names`` (no post hooks)."""
    return {
        "project_name_override": names.project,
        "package_name_override": names.package,
        "post_hooks": [],
    }


def check_generator_installed(find_spec: Callable[[str], object] | None = None) -> None:
    """:class:`SdkError` telling how to install the ``sdk`` extra, if it is missing."""
    finder = find_spec or importlib.util.find_spec
    if finder(GENERATOR) is None:
        raise SdkError(
            "openapi-python-client is not installed; install Overcast's sdk extra: "
            "pip install 'overcast[sdk]'"
        )


def check_output_folder(out: Path, names: ClientNames, *, force: bool = False) -> None:
    """:class:`SdkError` if writing the client into ``out`` would replace someone's files.

    ``out`` may be missing, an empty folder or an earlier generated client of this
    service (``<out>/<package>/client.py`` exists); ``force`` allows any folder.
    """
    if force or not out.exists():
        return
    if not out.is_dir():
        raise SdkError(f"{out} exists and is not a folder; choose another --out.")
    if not any(out.iterdir()) or (out / names.package / "client.py").is_file():
        return
    raise SdkError(
        f"{out} is not empty and holds no earlier {names.project} client; generating "
        "would replace its pyproject.toml, README.md and .gitignore. Choose another "
        "--out, or pass --force to write there anyway."
    )


def generate_client(
    document: Mapping[str, Any], service: str, out: Path, *, force: bool = False
) -> Path:
    """Write the client package of ``document`` into ``out``; return the package's folder.

    Refuses (:class:`SdkError`, nothing written) an ``out`` that
    :func:`check_output_folder` rejects.
    """
    check_generator_installed()
    names = ClientNames.of(service)
    check_output_folder(out, names, force=force)
    with tempfile.TemporaryDirectory(prefix="overcast-sdk-") as scratch:
        document_path = Path(scratch) / "openapi.json"
        document_path.write_text(json.dumps(document), encoding="utf-8")
        config_path = Path(scratch) / "config.json"
        config_path.write_text(json.dumps(generator_config(names)), encoding="utf-8")
        _run_generator(document_path, config_path, out)
    package = out / names.package
    if not package.is_dir():
        raise SdkError(f"openapi-python-client wrote no package {names.package} in {out}.")
    return package


def _run_generator(document: Path, config: Path, out: Path) -> None:
    command = [sys.executable, "-m", GENERATOR, "generate", "--path", str(document)]
    command += ["--config", str(config), "--output-path", str(out), "--overwrite"]
    command += ["--meta", "pdm"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SdkError(
            f"openapi-python-client did not finish in {_TIMEOUT_SECONDS:.0f} s."
        ) from exc
    output = (done.stdout + done.stderr).decode(errors="replace").strip()
    if done.returncode != 0 or "Error(s) encountered" in output:
        raise SdkError(f"openapi-python-client could not generate the client:\n{output}")
