"""Third-party packages for Lambda, installed with pip: no Docker, offline after once.

Lambda runs Linux on x86_64 or arm64 (Graviton), so a bundle's packages are pip's
wheels for that platform, never this machine's: ``pip install --platform
manylinux2014_<machine> --implementation cp --python-version 3.12
--only-binary=:all: --target <dir>`` (the AWS Lambda developer guide's recipe for
"deployment packages with native libraries" built off Lambda).

A :class:`Wheelhouse` keeps the downloaded wheels in a directory of its own, and
every install reads from it alone (``--no-index --find-links``). Only wheels it lacks
are downloaded, once; after that, ``overcast synth`` runs offline.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Architecture = Literal["x86_64", "arm64"]
# The Python of the Lambda runtime the bundles target (``python3.12``).
LAMBDA_PYTHON = "3.12"
# Lambda's machine names for pip's platform tags.
_MACHINES: dict[Architecture, str] = {"x86_64": "x86_64", "arm64": "aarch64"}

Progress = Callable[[str], None]


class BundleError(Exception):
    """A Lambda bundle cannot be built; the message says why and what to do."""


@dataclass(frozen=True)
class LambdaPlatform:
    """The Lambda platform a bundle is built for: architecture and Python version."""

    architecture: Architecture = "x86_64"
    python_version: str = LAMBDA_PYTHON

    @property
    def pip_platform(self) -> str:
        return f"manylinux2014_{_MACHINES[self.architecture]}"

    @property
    def tag(self) -> str:
        """E.g. ``cp312-manylinux2014_x86_64``."""
        return f"cp{self.python_version.replace('.', '')}-{self.pip_platform}"

    @property
    def compatible_platforms(self) -> list[str]:
        """Every wheel platform the runtime loads: Lambda's python3.12 runs on Amazon
        Linux 2023 (glibc 2.34), so manylinux_2_28 wheels (Pillow 13 ships only those)
        work as well as manylinux2014 ones. pip takes each ``--platform`` literally."""
        machine = _MACHINES[self.architecture]
        return [self.pip_platform, f"manylinux_2_28_{machine}"]

    def pip_options(self) -> list[str]:
        platforms = [option for tag in self.compatible_platforms for option in ("--platform", tag)]
        return [
            *platforms,
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
        ]


class Wheelhouse:
    """A directory of wheels for one Lambda platform; installs read from it only.

    ``index_url`` overrides pip's configured index for downloads (tests point it at a
    closed port to be offline).
    """

    def __init__(
        self,
        directory: Path,
        platform: LambdaPlatform,
        *,
        index_url: str | None = None,
        python: str = sys.executable,
        progress: Progress = lambda message: None,
    ) -> None:
        self.directory = directory
        self.platform = platform
        self._index_url = index_url
        self._python = python
        self._progress = progress

    def install(self, requirements: Sequence[str], target: Path) -> None:
        """Install ``requirements`` (and what they require) into ``target``."""
        if not requirements:
            target.mkdir(parents=True, exist_ok=True)
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._pip(self._install_arguments(requirements, target)).returncode == 0:
            return
        with _locked(self.directory / ".lock"):
            self._download(requirements)
        installed = self._pip(self._install_arguments(requirements, target))
        if installed.returncode != 0:
            raise BundleError(
                f"pip could not install {', '.join(requirements)} for {self.platform.tag} "
                f"from {self.directory}: {_last_error(installed)}"
            )

    def _download(self, requirements: Sequence[str]) -> None:
        self._progress(
            f"Downloading wheels for {self.platform.tag} into {self.directory} (once; "
            "later builds run offline)"
        )
        index = ["--index-url", self._index_url] if self._index_url else []
        arguments = ["download", "--dest", str(self.directory), "--retries", "1", *index]
        downloaded = self._pip([*arguments, *self.platform.pip_options(), *requirements])
        if downloaded.returncode != 0:
            raise BundleError(
                f"The Lambda bundle needs {', '.join(requirements)} as wheels for "
                f"{self.platform.tag}. The wheelhouse {self.directory} lacks some of them and "
                f"pip could not download them: {_last_error(downloaded)}. Run `overcast "
                "synth` once with network access (later runs work offline), or put the "
                "wheels in that directory."
            )

    def _install_arguments(self, requirements: Sequence[str], target: Path) -> list[str]:
        return [
            "install",
            "--no-index",
            "--find-links",
            str(self.directory),
            "--target",
            str(target),
            "--no-compile",  # .pyc files would be this Python's, not Lambda's
            *self.platform.pip_options(),
            *requirements,
        ]

    def _pip(self, arguments: list[str]) -> subprocess.CompletedProcess[str]:
        command = [self._python, "-m", "pip", "--disable-pip-version-check", "--quiet"]
        try:
            return subprocess.run(
                [*command, *arguments], capture_output=True, text=True, check=False
            )
        except OSError as error:
            raise BundleError(f"Cannot run pip ({self._python} -m pip): {error}") from error


def _last_error(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (completed.stderr or completed.stdout).splitlines()]
    errors = [line for line in lines if line.startswith("ERROR")] or [x for x in lines if x]
    return errors[-1] if errors else f"pip exited with status {completed.returncode}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``: one download into a wheelhouse at a time."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
