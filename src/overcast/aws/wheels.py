"""Third-party packages for Lambda, installed with pip: no Docker, offline after once.

Lambda runs Linux on x86_64 or arm64 (Graviton), so a bundle's packages are pip's
wheels for that platform, never this machine's: ``pip install --platform
manylinux2014_<machine> --implementation cp --python-version 3.12
--only-binary=:all: --target <dir>`` (the AWS Lambda developer guide's recipe for
"deployment packages with native libraries" built off Lambda).

A :class:`Wheelhouse` keeps the downloaded wheels in a directory of its own, and
every install reads from it alone (``--no-index --find-links``). Only wheels it lacks
are downloaded, once; after that, ``overcast synth`` runs offline.

A few pure-Python packages are published as source archives only (the DAX client,
``amazon-dax-client``). Each is a :class:`SourcePackage` pinned to one archive by its
sha256: the wheelhouse downloads that archive once (``pip download --no-binary :all:
--require-hashes``), checks its hash again itself, refuses it when it differs, builds
the wheel with this Python's locked setuptools (``pip wheel --no-deps
--no-build-isolation``), and keeps the wheel, so later installs stay offline. Such a
package is installed ``--no-deps``: its dependencies are requirements of their own,
pinned, except those the Lambda runtime provides (botocore).
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import tempfile
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
class SourcePackage:
    """A pure-Python distribution published as a source archive only, pinned by its hash.

    ``dependencies`` are the distributions it requires that a bundle must hold (pinned
    by the bundler to the versions installed here); those the Lambda runtime provides
    are left out.
    """

    name: str
    version: str
    sha256: str
    dependencies: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def wheel_pattern(self) -> str:
        """The file name of its pure-Python wheel (any Python tag): ``name-ver-*-none-any``."""
        return f"{self.name.replace('-', '_')}-{self.version}-*-none-any.whl"


# The DAX client (overcast.runtime.adapters uses it when a function is given a cluster):
# PyPI has amazon_dax_client-2.1.0.tar.gz only. It requires botocore~=1.20,>=1.20.35 (the
# Lambda runtime provides it), six~=1.11 and antlr4-python3-runtime==4.13.2.
AMAZON_DAX_CLIENT = SourcePackage(
    "amazon-dax-client",
    "2.1.0",
    "e1afa0e112b6f29d06f52c390bab3485cd745f71a90f9d4d12f8b9af8320dcc4",
    dependencies=("antlr4-python3-runtime", "six"),
)
SOURCE_PACKAGES = (AMAZON_DAX_CLIENT,)


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
    closed port to be offline). ``sources`` are the packages built from pinned source
    archives (:data:`SOURCE_PACKAGES`).
    """

    def __init__(
        self,
        directory: Path,
        platform: LambdaPlatform,
        *,
        index_url: str | None = None,
        python: str = sys.executable,
        progress: Progress = lambda message: None,
        sources: Sequence[SourcePackage] = SOURCE_PACKAGES,
    ) -> None:
        self.directory = directory
        self._sources = {source.requirement: source for source in sources}
        self.platform = platform
        self._index_url = index_url
        self._python = python
        self._progress = progress

    def install(self, requirements: Sequence[str], target: Path) -> None:
        """Install ``requirements`` (and what they require) into ``target``; packages built
        from source archives without their dependencies (see the module docstring)."""
        built = [self._sources[r] for r in requirements if r in self._sources]
        wheels = [r for r in requirements if r not in self._sources]
        target.mkdir(parents=True, exist_ok=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        if wheels:
            self._install_wheels(wheels, target)
        for source in built:
            self._install_built(source, target)

    def _install_wheels(self, requirements: Sequence[str], target: Path) -> None:
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

    def _install_built(self, source: SourcePackage, target: Path) -> None:
        if not list(self.directory.glob(source.wheel_pattern)):
            with _locked(self.directory / ".lock"):
                if not list(self.directory.glob(source.wheel_pattern)):
                    self._build(source)
        arguments = self._install_arguments([source.requirement], target)
        installed = self._pip([*arguments, "--no-deps"])
        if installed.returncode != 0:
            raise BundleError(
                f"pip could not install {source.requirement} from {self.directory}: "
                f"{_last_error(installed)}"
            )

    def _build(self, source: SourcePackage) -> None:
        """Download the pinned archive, check its hash, build its wheel into the wheelhouse."""
        self._progress(
            f"Building {source.requirement} from its pinned source archive into "
            f"{self.directory} (once; later builds run offline)"
        )
        with tempfile.TemporaryDirectory(prefix=".building-", dir=self.directory) as work:
            archive = self._download_source(source, Path(work))
            _check_hash(source, archive)
            built = self._pip(
                [
                    "wheel",
                    "--no-deps",
                    "--no-build-isolation",
                    "--no-index",
                    "--wheel-dir",
                    str(Path(work) / "wheel"),
                    str(archive),
                ]
            )
            wheels = list((Path(work) / "wheel").glob(source.wheel_pattern))
            if built.returncode != 0 or len(wheels) != 1:
                raise BundleError(
                    f"Cannot build a pure-Python wheel of {source.requirement} from "
                    f"{archive.name}: {_last_error(built)}"
                )
            shutil.move(wheels[0], self.directory / wheels[0].name)

    def _download_source(self, source: SourcePackage, work: Path) -> Path:
        pins = work / "requirements.txt"
        pins.write_text(f"{source.requirement} --hash=sha256:{source.sha256}\n")
        index = ["--index-url", self._index_url] if self._index_url else []
        # --require-hashes: pip checks the archive before it runs any of its code.
        arguments = ["download", "--no-deps", "--no-binary", ":all:", "--no-build-isolation"]
        arguments += ["--require-hashes", "--retries", "1", "--dest", str(work / "source")]
        downloaded = self._pip([*arguments, *index, "--requirement", str(pins)])
        if "DO NOT MATCH THE HASHES" in downloaded.stderr + downloaded.stdout:
            raise BundleError(
                f"Refusing the source archive of {source.requirement}: pip found that its "
                f"sha256 is not the pinned {source.sha256}. Nothing was built from it."
            )
        archives = list((work / "source").glob("*.tar.gz"))
        if downloaded.returncode != 0 or len(archives) != 1:
            raise BundleError(
                f"The Lambda bundle needs {source.requirement}, built from its source archive "
                f"(sha256 {source.sha256}), and pip could not download it: "
                f"{_last_error(downloaded)}. Run `overcast synth` once with network access "
                f"(later runs work offline), or put its wheel in {self.directory}."
            )
        return archives[0]

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


def _check_hash(source: SourcePackage, archive: Path) -> None:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != source.sha256:
        raise BundleError(
            f"Refusing {archive.name}: its sha256 is {digest}, but {source.requirement} is "
            f"pinned to the archive with sha256 {source.sha256}. Nothing was built from it."
        )


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
