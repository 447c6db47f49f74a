"""The CDK app of a project: one stack per service, bundles built, checked by cdk-nag.

``synthesize`` is what ``overcast synth`` runs: find the services (as ``overcast up``
does), build each service's Lambda bundle with pip (offline once the wheelhouse has
the wheels), build the stacks, and write the cloud assembly (``cdk.out/``). Stacks are
environment-agnostic: nothing is looked up in an AWS account, so synthesis needs
none; ``cdk deploy`` picks the account and region of the caller's credentials.

cdk-nag's AwsSolutions pack checks the app while it synthesizes; an unacknowledged
error fails synthesis with its report (see :mod:`overcast.aws.nag`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App

from overcast import spec
from overcast.aws import nag
from overcast.aws.bundling import Bundle, build_bundle
from overcast.aws.project import Project, SynthRequest, load_project
from overcast.aws.service_calls import order_deployments
from overcast.aws.stack import ServiceStack
from overcast.aws.wheels import Progress

# Feature flags whose newer behaviour these stacks rely on (CDK keeps the old one
# unless told): S3 server access logs authorized by bucket policy, as buckets without
# ACLs (BucketOwnerEnforced) require; IAM policies merged into fewer statements.
FEATURE_FLAGS = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-iam:minimizePolicies": True,
}


class SynthError(Exception):
    """Synthesis failed (cdk-nag's findings, or CDK's own validation)."""


@dataclass(frozen=True)
class SynthesizedStack:
    """One stack written to the cloud assembly."""

    name: str
    service: str
    template: Path
    resources: int
    notices: tuple[str, ...]


@dataclass(frozen=True)
class Synthesized:
    """The cloud assembly ``overcast synth`` wrote."""

    outdir: Path
    stacks: tuple[SynthesizedStack, ...]


def build_app(
    services: Sequence[spec.Service],
    bundles: Mapping[str, Bundle],
    *,
    environment: str,
    outdir: Path,
    checks: bool = True,
) -> tuple[App, list[ServiceStack]]:
    """The CDK app: one :class:`ServiceStack` per service in ``environment``."""
    app = App(outdir=str(outdir), context=dict(FEATURE_FLAGS), analytics_reporting=False)
    if checks:
        nag.add_checks(app)
    stacks = [
        ServiceStack(app, service, environment=environment, bundle=bundles.get(service.name))
        for service in services
    ]
    order_deployments(services, {stack.service.name: stack for stack in stacks})
    return app, stacks


def synthesize(
    request: SynthRequest,
    project: Project | None = None,
    progress: Progress = lambda message: None,
) -> Synthesized:
    """Bundle, build and synthesize the requested services (see the module docstring);
    ``project`` is ``load_project(request)`` when the caller has it already."""
    project = project or load_project(request)
    bundles = {
        service.name: build_bundle(
            service,
            request.platform,
            project.cache_dir,
            index_url=request.index_url,
            progress=progress,
        )
        for service in project.services
        if service.all_functions
    }
    progress(f"Building stacks: {', '.join(project.stack_names(request.environment))}")
    app, stacks = build_app(
        project.services, bundles, environment=request.environment, outdir=request.outdir
    )
    progress("Synthesizing CloudFormation templates and checking them with cdk-nag")
    return write_assembly(app, stacks)


def write_assembly(app: App, stacks: Sequence[ServiceStack]) -> Synthesized:
    """Synthesize ``app``; raise :class:`SynthError` when its checks fail."""
    try:
        assembly = app.synth()
    except RuntimeError as error:  # jsii raises CDK's errors as RuntimeError
        raise SynthError(str(error).removeprefix("ValidationFailed: ")) from error
    written = []
    for stack in stacks:
        artifact = assembly.get_stack_by_name(stack.stack_name)
        template = artifact.template
        written.append(
            SynthesizedStack(
                name=stack.stack_name,
                service=stack.service.name,
                template=Path(assembly.directory) / artifact.template_file,
                resources=len(template.get("Resources", {})),
                notices=tuple(stack.notices),
            )
        )
    return Synthesized(Path(assembly.directory), tuple(written))
