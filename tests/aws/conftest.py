"""Fixtures for the AWS deployer: the sample project synthesized once per session.

AWS CDK runs on the project's own Node.js: this package points jsii at it before any
test module imports ``aws_cdk``. Lambda bundles are built for real (pip, manylinux
wheels); the wheelhouse and installed packages live in pytest's cache directory, so
only the first session ever downloads, and later ones run offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from overcast import spec
from overcast.aws.node import use_project_node

use_project_node()

from aws_cdk import App  # noqa: E402

from overcast.aws.app import Synthesized, build_app, write_assembly  # noqa: E402
from overcast.aws.bundling import Bundle, build_bundle  # noqa: E402
from overcast.aws.project import SynthRequest, load_project  # noqa: E402
from overcast.aws.stack import ServiceStack  # noqa: E402
from overcast.aws.wheels import LambdaPlatform  # noqa: E402

SAMPLE_PROJECT = Path(__file__).parents[1] / "e2e" / "sample_project"
ENVIRONMENT = "dev"


@dataclass(frozen=True)
class SynthesizedProject:
    """The sample project (todo, pinboard, the built-in blog) in a cloud assembly."""

    app: App
    stacks: dict[str, ServiceStack]  # by service name
    bundles: dict[str, Bundle]
    assembly: Synthesized

    def service(self, name: str) -> spec.Service:
        return self.stacks[name].service


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    """A tiny bundle (``thumbs.handler:handler``, arm64) for a test's own declarations."""
    directory = tmp_path / "bundle"
    (directory / "thumbs").mkdir(parents=True)
    (directory / "thumbs" / "handler.py").write_text("def handler(event, context): ...\n")
    return Bundle(directory, LambdaPlatform("arm64"), (), ("thumbs/handler.py",))


@pytest.fixture(scope="session")
def lambda_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where bundles, installed packages and wheels are kept across sessions."""
    return aws_data_dir(request, tmp_path_factory) / "lambda"


def aws_data_dir(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> Path:
    """A data directory (as ``overcast synth --data-dir``) that outlives the session."""
    cache = getattr(request.config, "cache", None)
    if cache is None:  # pytest's cache provider is disabled: this session only
        return factory.mktemp("overcast-aws")
    return Path(cache.mkdir("overcast-aws"))


@pytest.fixture(scope="session")
def sample_services(lambda_cache: Path) -> tuple[spec.Service, ...]:
    """The sample project's services: Overcast's to-do app and the user's pinboard."""
    request = SynthRequest(SAMPLE_PROJECT, SAMPLE_PROJECT / "cdk.out", cache_dir=lambda_cache)
    return load_project(request).services


@pytest.fixture(scope="session")
def bundles(sample_services: tuple[spec.Service, ...], lambda_cache: Path) -> dict[str, Bundle]:
    """Each sample service's Lambda bundle, built for real (x86_64, Python 3.12)."""
    return {
        service.name: build_bundle(service, LambdaPlatform(), lambda_cache)
        for service in sample_services
    }


@pytest.fixture(scope="session")
def synthesized(
    sample_services: tuple[spec.Service, ...],
    bundles: dict[str, Bundle],
    tmp_path_factory: pytest.TempPathFactory,
) -> SynthesizedProject:
    outdir = tmp_path_factory.mktemp("cdk") / "cdk.out"
    app, stacks = build_app(sample_services, bundles, environment=ENVIRONMENT, outdir=outdir)
    assembly = write_assembly(app, stacks)
    return SynthesizedProject(app, {s.service.name: s for s in stacks}, bundles, assembly)
