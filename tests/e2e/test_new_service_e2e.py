"""``overcast new service inventory`` in a copy of the sample project, then at once:
``overcast up`` serves it over HTTPS, its own tests pass, ``overcast synth`` deploys it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.cloud_process import OVERCAST, CloudProcess
from tests.e2e.conftest import SAMPLE_PROJECT, trusting

pytestmark = pytest.mark.e2e


def run(command: list[str], cwd: Path, timeout: float = 100) -> subprocess.CompletedProcess[str]:
    # A clean pytest environment for the child: not this session's xdist worker or test.
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project with a new service, made by the command as a user runs it."""
    root = tmp_path_factory.mktemp("new-service") / "project"
    ignored = shutil.ignore_patterns("__pycache__", ".overcast", "cdk.out")
    shutil.copytree(SAMPLE_PROJECT, root, ignore=ignored)
    made = run([*OVERCAST, "new", "service", "inventory"], cwd=root)
    assert made.returncode == 0, made.stdout + made.stderr
    return root


def test_the_new_service_answers_over_https_at_once(
    project: Path, own_cloud: Callable[..., CloudProcess]
) -> None:
    cloud = own_cloud(project, "--quiet")
    endpoints = cloud.start()
    api = endpoints.services["inventory"].api
    assert api is not None
    assert api.endswith("/v1")

    with httpx.Client(verify=trusting(endpoints), timeout=30) as client:
        added = client.post(f"{api}/items", json={"name": "Widget", "quantity": 3})
        assert added.status_code == 201, added.text
        item = added.json()
        read = client.get(f"{api}/items/{item['id']}")
        listed = client.get(f"{api}/items")
        refused = client.post(f"{api}/items", json={"name": "Widget", "quantity": "3"})

    assert read.status_code == 200
    assert read.json() == {"id": item["id"], "name": "Widget", "quantity": 3}
    assert listed.json()["items"] == [item]
    assert refused.status_code == 422
    assert cloud.stop() == 0, cloud.output()


def test_the_new_services_own_tests_pass(project: Path) -> None:
    command = [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider"]
    result = run([*command, "tests/inventory"], cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout


def test_synth_deploys_the_new_services_function_api_and_table(
    project: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pytest.importorskip("aws_cdk", reason="overcast synth needs the aws extra")
    # Wheels for the Lambda platform are cached across sessions, as tests/aws does.
    data_dir = Path(request.config.cache.mkdir("overcast-aws")) if request.config.cache else None
    out = tmp_path / "cdk.out"
    command = [*OVERCAST, "synth", "inventory", "--project", str(project), "--out", str(out)]
    result = run([*command, *(["--data-dir", str(data_dir)] if data_dir else [])], cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((out / "inventory-dev.template.json").read_text())
    resources = list(template["Resources"].values())
    functions = [r for r in resources if r["Type"] == "AWS::Lambda::Function"]
    assert [f["Properties"]["Handler"] for f in functions] == ["inventory.handler.handler"]
    paths = {
        r["Properties"]["PathPart"] for r in resources if r["Type"] == "AWS::ApiGateway::Resource"
    }
    assert paths == {"items", "{id}", "openapi.json"}
    assert any(r["Type"].startswith("AWS::DynamoDB::") for r in resources)
    assert not (out / "pinboard-dev.template.json").exists()  # only the service asked for
