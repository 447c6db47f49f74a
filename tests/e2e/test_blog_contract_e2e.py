"""The running blog API against the RealWorld contract, with schemathesis.

Every operation of ``realworld-openapi.yml`` gets a bounded number of generated
requests (signed in as a registered reader where the operation asks for a token);
no answer may be a server error or break the contract's response schema.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from overcast.local.endpoints import Endpoints
from tests.e2e.conftest import trusting

CONTRACT = Path("/work/shared/contracts/realworld-openapi.yml")
EXAMPLES = 25
schema = schemathesis.openapi.from_path(CONTRACT) if CONTRACT.exists() else None


def _operations() -> list[Any]:
    if schema is None:
        return []
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(scope="module")
def reader(endpoints: Endpoints) -> dict[str, str]:
    api = endpoints.services["blog"].api
    assert api is not None
    name = f"fuzz{secrets.token_hex(3)}"
    user = {"username": name, "email": f"{name}@example.com", "password": "Fuzzing-passphrase-1"}
    with httpx.Client(verify=trusting(endpoints)) as client:
        created = client.post(f"{api}/api/users", json={"user": user})
        assert created.status_code == 201, created.text
        article = {"title": "Fuzzed", "description": "d", "body": "b", "tagList": ["fuzz"]}
        client.post(
            f"{api}/api/articles",
            json={"article": article},
            headers={"Authorization": f"Token {created.json()['user']['token']}"},
        )
    return {"Authorization": f"Token {created.json()['user']['token']}"}


@pytest.mark.skipif(schema is None, reason="the shared RealWorld contract is not here")
@pytest.mark.parametrize("operation", _operations(), ids=lambda op: op.label)
def test_no_operation_answers_a_server_error_or_breaks_the_contract(
    operation: Any, endpoints: Endpoints, reader: dict[str, str]
) -> None:
    api = endpoints.services["blog"].api
    session = requests.Session()
    session.verify = endpoints.ca_bundle

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        headers = dict(reader) if operation.security else None
        response = case.call(
            base_url=f"{api}/api", session=session, headers=headers, verify=endpoints.ca_bundle
        )
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    check()
