"""Lambda's API on the local AWS endpoint, called with boto3 over HTTPS: functions run
in real execution environments (worker processes) through the service's invoker."""

from __future__ import annotations

import asyncio
import gc
import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import uvicorn
from botocore.config import Config

from overcast import policies, spec
from overcast.local.auth.sigv4 import Credentials
from overcast.local.aws_services import AwsServices
from overcast.local.functions.invoker import FunctionInvoker
from overcast.local.iam.policy import Policy
from overcast.local.iam.roles import Role, role_arn
from overcast.local.lambda_api.app import LambdaApi
from overcast.local.lambda_api.directory import LocalFunction
from overcast.local.lambda_api.event_store import AsyncEventStore, events_path
from overcast.local.lambda_api.serve import lambda_api
from overcast.local.tls import LocalCA
from tests.fixtures.aws_services import ACCOUNT, ROOT, free_socket, local_aws

REGION = "eu-west-1"
HANDLERS = "tests.fixtures.lambda_handlers"
echo = spec.Function("echo", f"{HANDLERS}:echo", timeout_seconds=5, memory_mb=512)
fail = spec.Function("fail", f"{HANDLERS}:fail")
record = spec.Function("record", f"{HANDLERS}:record")
flaky = spec.Function("flaky", f"{HANDLERS}:record_then_fail")
held = spec.Function("held", f"{HANDLERS}:record_when_released")
oversized = spec.Function("oversized", f"{HANDLERS}:oversized")
FUNCTIONS = (echo, fail, record, flaky, held, oversized)
ECHO_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-echo"


@dataclass
class LambdaCloud:
    """The served endpoint and boto3 clients on it (closed at the end)."""

    url: str
    ca: str
    aws: AwsServices
    events: Path  # the asynchronous event store
    clients: list[Any] = field(default_factory=list)

    def client(self, credentials: Credentials = ROOT) -> Any:
        client = boto3.session.Session(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            region_name=REGION,
        ).client(
            "lambda",
            endpoint_url=self.url,
            verify=self.ca,
            config=Config(retries={"total_max_attempts": 1}),
        )
        self.clients.append(client)
        return client

    def allowed(self, name: str, actions: list[str], resource: str) -> Credentials:
        """A session of a new role whose only policy allows ``actions`` on ``resource``."""
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
        }
        role = Role(
            name=name,
            arn=role_arn(ACCOUNT, name),
            policies=(Policy.parse(policy),),
            trust_policy=Policy.parse(policies.lambda_trust_policy()),
        )
        self.aws.roles.add(role)
        session = self.aws.sessions.issue(
            role, session_name=name, context={}, duration_seconds=3600
        )
        return session.credentials


def _serve(
    server: uvicorn.Server, sockets: list[Any], invoker: FunctionInvoker, api: LambdaApi
) -> None:
    """The endpoint, its event queue and the invoker on one event loop, as in the cloud."""

    async def main() -> None:
        api.operations.start()
        try:
            await server.serve(sockets)
        finally:
            await api.operations.close()
            await invoker.close()

    asyncio.run(main())


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LambdaCloud]:
    ca = LocalCA(tmp_path / "tls")
    ca.ensure()
    bound, url = free_socket()
    aws = local_aws(tmp_path / "data", url, region=REGION)
    invoker = FunctionInvoker(
        "shop",
        FUNCTIONS,
        {},
        region=REGION,
        account_id=ACCOUNT,
        concurrency=1,
        aliases={"echo": {"live": echo.handler}},
    )
    functions = [
        LocalFunction("shop", function, invoker, variables={"OVERCAST_RESOURCE_TABLE_X": "t"})
        for function in FUNCTIONS
    ]
    functions[0] = LocalFunction("shop", echo, invoker, aliases=frozenset({"live"}))
    api = aws.endpoint.lambda_ = lambda_api(
        functions,
        aws.sessions.lookup,
        data_dir=tmp_path / "data",
        region=REGION,
        account_id=ACCOUNT,
        clock=aws.clock,
        retry_delays=(0.05, 0.05),
    )
    config = uvicorn.Config(
        aws.endpoint,
        log_level="warning",
        ws="none",
        lifespan="off",
        ssl_certfile=str(ca.server_cert_path),
        ssl_keyfile=str(ca.server_key_path),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=_serve, args=(server, [bound], invoker, api))
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    running = LambdaCloud(url, str(ca.ca_cert_path), aws, events_path(tmp_path / "data"))
    yield running
    for client in running.clients:
        client.close()
    gc.collect()
    server.should_exit = True
    thread.join(15)
    bound.close()
    aws.close()


def _wait_for_lines(path: Path, count: int, seconds: float = 10) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.02)
    return path.read_text().splitlines() if path.exists() else []


def test_request_response_returns_the_handlers_result(cloud: LambdaCloud) -> None:
    response = cloud.client().invoke(FunctionName="shop-echo", Payload=b'{"hello": "world"}')

    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {
        "event": {"hello": "world"},
        "arn": ECHO_ARN,
    }


def test_an_empty_payload_is_the_event_of_an_empty_object(cloud: LambdaCloud) -> None:
    response = cloud.client().invoke(FunctionName="shop-echo")

    assert json.loads(response["Payload"].read())["event"] == {}


def test_a_handler_exception_is_an_unhandled_function_error(cloud: LambdaCloud) -> None:
    response = cloud.client().invoke(FunctionName="shop-fail", Payload=b"{}")

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the handler broke"


def test_an_event_invocation_is_accepted_then_runs_in_the_background(
    cloud: LambdaCloud, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.txt"
    payload = json.dumps({"path": str(trace)}).encode()

    response = cloud.client().invoke(
        FunctionName="shop-record", InvocationType="Event", Payload=payload
    )

    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert _wait_for_lines(trace, 1) == ["ran"]


def test_a_failing_event_invocation_is_retried_twice_as_lambda_does(
    cloud: LambdaCloud, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.txt"
    payload = json.dumps({"path": str(trace)}).encode()

    response = cloud.client().invoke(
        FunctionName="shop-flaky", InvocationType="Event", Payload=payload
    )

    assert response["StatusCode"] == 202
    assert _wait_for_lines(trace, 3) == ["ran"] * 3
    time.sleep(0.3)  # no fourth attempt
    assert trace.read_text().splitlines() == ["ran"] * 3


def test_an_event_is_stored_under_its_request_id_before_the_202_is_sent(
    cloud: LambdaCloud, tmp_path: Path
) -> None:
    trace, release = tmp_path / "trace.txt", tmp_path / "release"
    payload = json.dumps({"path": str(trace), "release": str(release)}).encode()

    response = cloud.client().invoke(
        FunctionName="shop-held", InvocationType="Event", Payload=payload
    )
    store = AsyncEventStore(cloud.events)
    try:
        queued = store.pending()
    finally:
        store.close()
    release.touch()

    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["RequestId"]
    assert [(each.id, each.function, each.qualifier) for each in queued] == [
        (request_id, "shop-held", None)
    ]
    assert json.loads(queued[0].payload) == json.loads(payload)
    assert _wait_for_lines(trace, 1) == ["ran"]


def test_a_dry_run_checks_and_runs_nothing(cloud: LambdaCloud, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    payload = json.dumps({"path": str(trace)}).encode()

    response = cloud.client().invoke(
        FunctionName="shop-record", InvocationType="DryRun", Payload=payload
    )

    assert response["StatusCode"] == 204
    time.sleep(0.3)
    assert not trace.exists()


def test_an_unknown_function_is_resource_not_found(cloud: LambdaCloud) -> None:
    client = cloud.client()

    with pytest.raises(client.exceptions.ResourceNotFoundException) as raised:
        client.invoke(FunctionName="shop-nothing", Payload=b"{}")

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "shop-nothing" in raised.value.response["Error"]["Message"]


def test_a_payload_over_the_quota_is_refused_and_nothing_runs(
    cloud: LambdaCloud, tmp_path: Path
) -> None:
    client = cloud.client()
    trace = tmp_path / "trace.txt"
    padding = "x" * (1024 * 1024)
    payload = json.dumps({"path": str(trace), "padding": padding}).encode()

    with pytest.raises(client.exceptions.RequestTooLargeException):
        client.invoke(FunctionName="shop-record", InvocationType="Event", Payload=payload)
    with pytest.raises(client.exceptions.RequestTooLargeException):
        client.invoke(FunctionName="shop-record", Payload=payload * 6)

    assert not trace.exists()


def test_a_payload_that_is_not_json_is_invalid_request_content(cloud: LambdaCloud) -> None:
    client = cloud.client()

    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="shop-echo", Payload=b"{not json")


@pytest.mark.parametrize(
    "name",
    [ECHO_ARN, f"{ECHO_ARN}:$LATEST", f"{ACCOUNT}:function:shop-echo", "shop-echo:$LATEST"],
)
def test_a_function_is_named_by_its_arn_or_with_latest(cloud: LambdaCloud, name: str) -> None:
    response = cloud.client().invoke(FunctionName=name, Payload=b"1")

    assert json.loads(response["Payload"].read()) == {"event": 1, "arn": ECHO_ARN}


def test_an_alias_runs_the_function_as_invoked_through_it(cloud: LambdaCloud) -> None:
    client = cloud.client()

    by_name = client.invoke(FunctionName="shop-echo:live", Payload=b"2")
    by_qualifier = client.invoke(FunctionName="shop-echo", Qualifier="live", Payload=b"2")

    assert json.loads(by_name["Payload"].read())["event"] == 2
    assert json.loads(by_qualifier["Payload"].read())["event"] == 2
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="shop-echo:nope", Payload=b"2")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="arn:aws:lambda:us-east-1:111111111111:function:shop-echo")


def test_an_unsigned_call_is_refused_and_nothing_runs(cloud: LambdaCloud, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    url = f"{cloud.url}/2015-03-31/functions/shop-record/invocations"

    with httpx.Client(verify=ssl.create_default_context(cafile=cloud.ca)) as http:
        response = http.post(url, content=json.dumps({"path": str(trace)}).encode())

    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert not trace.exists()


def test_a_caller_without_permission_is_denied_and_nothing_runs(
    cloud: LambdaCloud, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.txt"
    credentials = cloud.allowed("echo-only", ["lambda:InvokeFunction"], ECHO_ARN)
    client = cloud.client(credentials)
    payload = json.dumps({"path": str(trace)}).encode()

    allowed = client.invoke(FunctionName="shop-echo", Payload=b"3")
    with pytest.raises(client.exceptions.ClientError) as denied:
        client.invoke(FunctionName="shop-record", Payload=payload)
    with pytest.raises(client.exceptions.ClientError) as hidden:
        client.invoke(FunctionName="shop-nothing", Payload=payload)

    assert json.loads(allowed["Payload"].read())["event"] == 3
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert hidden.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "lambda:InvokeFunction" in denied.value.response["Error"]["Message"]
    assert not trace.exists()


def test_a_permission_names_the_function_or_one_alias_as_lambda_reads_it(
    cloud: LambdaCloud,
) -> None:
    # Given one caller allowed the alias only, and one allowed the function only
    on_alias = cloud.client(
        cloud.allowed("alias-only", ["lambda:InvokeFunction"], f"{ECHO_ARN}:live")
    )
    on_function = cloud.client(cloud.allowed("function-only", ["lambda:InvokeFunction"], ECHO_ARN))

    # Then each may invoke what its policy names, and nothing else
    assert (
        json.loads(on_alias.invoke(FunctionName="shop-echo:live", Payload=b"4")["Payload"].read())[
            "event"
        ]
        == 4
    )
    assert (
        json.loads(on_function.invoke(FunctionName="shop-echo", Payload=b"5")["Payload"].read())[
            "event"
        ]
        == 5
    )
    for client, name, qualifier in (
        (on_alias, "shop-echo", None),
        (on_function, "shop-echo", "live"),
        (on_function, f"{ECHO_ARN}:live", None),
    ):
        options = {"Qualifier": qualifier} if qualifier else {}
        with pytest.raises(client.exceptions.ClientError) as denied:
            client.invoke(FunctionName=name, Payload=b"6", **options)
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_a_result_over_6_mb_is_a_function_error(cloud: LambdaCloud) -> None:
    response = cloud.client().invoke(FunctionName="shop-oversized", Payload=b"{}")

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Function.ResponseSizeTooLarge"
    assert "6291456" in error["errorMessage"]


def test_a_bad_signature_is_refused(cloud: LambdaCloud) -> None:
    client = cloud.client(Credentials(ROOT.access_key_id, "not-the-secret"))

    with pytest.raises(client.exceptions.ClientError) as raised:
        client.invoke(FunctionName="shop-echo", Payload=b"{}")

    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_list_functions_shows_every_functions_configuration(cloud: LambdaCloud) -> None:
    listed = cloud.client().list_functions()["Functions"]

    assert [each["FunctionName"] for each in listed] == [
        "shop-echo",
        "shop-fail",
        "shop-flaky",
        "shop-held",
        "shop-oversized",
        "shop-record",
    ]
    shown = listed[0]
    assert shown["FunctionArn"] == ECHO_ARN
    assert shown["Runtime"] == "python3.12"
    assert shown["Handler"] == f"{HANDLERS}.echo"
    assert shown["Timeout"] == 5
    assert shown["MemorySize"] == 512
    assert shown["Role"] == f"arn:aws:iam::{ACCOUNT}:role/shop-echo-function"
    assert listed[1]["Environment"] == {"Variables": {"OVERCAST_RESOURCE_TABLE_X": "t"}}


def test_get_function_shows_its_configuration_and_no_code_location(cloud: LambdaCloud) -> None:
    client = cloud.client()

    got = client.get_function(FunctionName=ECHO_ARN)

    assert got["Configuration"]["FunctionName"] == "shop-echo"
    assert got["Configuration"]["State"] == "Active"
    assert "Location" not in got["Code"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="shop-nothing")


def test_listing_needs_its_own_permission(cloud: LambdaCloud) -> None:
    credentials = cloud.allowed("invoker", ["lambda:InvokeFunction"], "*")
    client = cloud.client(credentials)

    with pytest.raises(client.exceptions.ClientError) as raised:
        client.list_functions()

    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


def test_a_bucket_named_like_the_api_version_is_still_s3_when_signed_for_s3(
    cloud: LambdaCloud,
) -> None:
    s3 = boto3.session.Session(
        aws_access_key_id=ROOT.access_key_id,
        aws_secret_access_key=ROOT.secret_access_key,
        region_name=REGION,
    ).client(
        "s3",
        endpoint_url=cloud.url,
        verify=cloud.ca,
        config=Config(s3={"addressing_style": "path"}),
    )
    cloud.clients.append(s3)

    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.get_object(Bucket="2015-03-31", Key="functions/shop-echo")


def test_log_tail_is_not_returned_locally(cloud: LambdaCloud) -> None:
    response = cloud.client().invoke(FunctionName="shop-echo", LogType="Tail", Payload=b"{}")

    assert response["Payload"].read()
    assert "LogResult" not in response  # documented: the log goes to the console
