"""The AWS CLI, pointed at a local cloud by ``overcast env``, sends to and receives from a
declared queue that no function consumes, so the message stays for the CLI to read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cloud_process import CloudProcess
from tests.e2e.test_aws_cli_e2e import aws, overcast_env

pytestmark = pytest.mark.e2e

SERVICE = """\
from overcast import spec

inbox = spec.Queue("inbox")
service = spec.Service("mailroom", queues=(inbox,))
"""


def _project(root: Path) -> Path:
    (root / "src" / "mailroom").mkdir(parents=True)
    (root / "src" / "mailroom" / "__init__.py").write_text("")
    (root / "src" / "mailroom" / "service.py").write_text(SERVICE)
    (root / "overcast.toml").write_text('services = ["mailroom.service"]\npython_path = ["src"]\n')
    return root


def test_aws_cli_sends_and_receives_on_a_declared_queue(
    tmp_path: Path, own_cloud: Callable[..., CloudProcess]
) -> None:
    cloud = own_cloud(_project(tmp_path / "project"), "--quiet")
    cloud.start()
    env = overcast_env(cloud)
    assert cloud.endpoints is not None
    assert env["AWS_ENDPOINT_URL_SQS"] == cloud.endpoints.aws["sqs"]

    # AWS CLI v1 replaces SQS's endpoint by its legacy host name (its
    # ``overridesslcommonname`` customization) unless --endpoint-url is given.
    sqs = ("--endpoint-url", env["AWS_ENDPOINT_URL_SQS"], "sqs")
    url = aws(env, *sqs, "get-queue-url", "--queue-name", "mailroom-inbox")["QueueUrl"]
    sent = aws(
        env, *sqs, "send-message", "--queue-url", str(url), "--message-body", "hello",
        "--message-attributes", json.dumps({"from": {"DataType": "String", "StringValue": "cli"}}),
    )  # fmt: skip
    received = aws(
        env, *sqs, "receive-message", "--queue-url", str(url),
        "--message-attribute-names", "All", "--wait-time-seconds", "1",
    )  # fmt: skip

    [message] = received["Messages"]  # type: ignore[misc]
    assert message["Body"] == "hello"
    assert message["MessageId"] == sent["MessageId"]
    assert message["MessageAttributes"]["from"]["StringValue"] == "cli"
    aws(
        env, *sqs, "delete-message", "--queue-url", str(url),
        "--receipt-handle", message["ReceiptHandle"],
    )  # fmt: skip
    attributes = aws(
        env, *sqs, "get-queue-attributes", "--queue-url", str(url),
        "--attribute-names", "ApproximateNumberOfMessages",
    )  # fmt: skip
    assert attributes["Attributes"] == {"ApproximateNumberOfMessages": "0"}
    assert cloud.stop() == 0, cloud.output()
