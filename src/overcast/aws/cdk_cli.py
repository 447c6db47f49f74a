"""The AWS CDK CLI, for ``overcast deploy`` and ``overcast diff``.

Overcast synthesizes the cloud assembly itself (``overcast synth``); the CDK CLI only
bootstraps, deploys and diffs it: ``cdk <action> --app <cdk.out> <stacks>``, where a
directory as ``--app`` is a ready cloud assembly that the CLI does not synthesize again.
The CLI is AWS's npm package ``aws-cdk`` at one pinned version (:data:`CDK_CLI_VERSION`),
run by ``npx`` on the project's own Node.js (:mod:`overcast.aws.node`); npx fetches it
on first use. Since February 2025 the CLI has its own version line (2.1000.0 on), apart
from ``aws-cdk-lib``'s (2.x.0). AWS's rule: each ``aws-cdk-lib`` "is compatible with the
AWS CDK CLI version that was current at the time of the CDK library's release. It is
also compatible with any newer version of the CDK CLI" (CDK guide, "AWS CDK
versioning"); an older CLI may refuse the assembly ("Cloud assembly schema version
mismatch"). So the pin is a CLI released after the locked library
(:data:`CDK_LIB_VERSION`); a test fails when the lock moves past it.

Credentials, account and region are the CDK CLI's business: the AWS profile
(``--profile``) or the usual ``AWS_*`` environment.

No AWS CDK library is imported here.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from overcast.aws.node import npx_command

# aws-cdk-lib 2.275.0 (2026-10-26, cloud assembly schema ^55) is locked; CLI 2.1148.0
# (2026-11-05, schema 55.4.0) is the first CLI released after it.
CDK_LIB_VERSION = "2.275.0"
CDK_CLI_VERSION = "2.1148.0"
CDK_PACKAGE = f"aws-cdk@{CDK_CLI_VERSION}"
OUTPUTS_FILE = "outputs.json"
Action = Literal["bootstrap", "deploy", "diff"]


class CdkFailed(Exception):
    """The CDK CLI exited with an error (it has printed why)."""


def cdk_command(
    action: Action,
    *,
    app: Path,
    stacks: Sequence[str] = (),
    profile: str | None = None,
    approve: bool = False,
    parameters: Sequence[str] = (),
) -> list[str]:
    """The command line that runs ``cdk <action>`` on the cloud assembly ``app``.

    ``parameters`` are CloudFormation parameters as ``[STACK:]NAME=VALUE`` (the CDK
    CLI's ``--parameters``), e.g. an existing app's domain for a custom origin."""
    command = [*npx_command(), "--yes", CDK_PACKAGE, action, "--app", str(app)]
    if profile:
        command += ["--profile", profile]
    if action == "deploy":
        command += ["--outputs-file", str(app / OUTPUTS_FILE)]
        if approve:
            command += ["--require-approval", "never"]
        for parameter in parameters:
            command += ["--parameters", parameter]
    return [*command, *stacks]


def run_cdk(command: Sequence[str]) -> None:
    """Run the CDK CLI in the foreground (it prompts and prints on this terminal)."""
    try:
        completed = subprocess.run(list(command), check=False)
    except OSError as error:
        raise CdkFailed(f"Cannot run the CDK CLI ({command[0]}): {error}") from error
    if completed.returncode != 0:
        raise CdkFailed(f"The CDK CLI failed (exit status {completed.returncode}).")


def read_outputs(app: Path) -> dict[str, dict[str, str]]:
    """The deployed stacks' outputs, by stack, as ``cdk deploy --outputs-file`` wrote them."""
    path = app / OUTPUTS_FILE
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        str(stack): {str(key): str(value) for key, value in outputs.items()}
        for stack, outputs in found.items()
        if isinstance(outputs, dict)
    }
