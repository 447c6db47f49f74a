"""Each running API against its OWN served OpenAPI document, with schemathesis.

Every operation of ``/openapi.json`` (as the to-do and blog APIs serve it) gets a
bounded number of generated requests, signed in where the operation asks for it; no
answer may be a server error or break the document's response schemas.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from overcast.local.endpoints import Endpoints
from tests.e2e.conftest import Users, bearer, trusting

EXAMPLES = 20
SERVICES = ("todo", "blog")


def _served_schema(endpoints: Endpoints, service: str) -> Any:
    api = endpoints.services[service].api
    assert api is not None
    with httpx.Client(verify=trusting(endpoints)) as client:
        document = client.get(f"{api}/openapi.json")
    assert document.status_code == 200, document.text
    return schemathesis.openapi.from_dict(document.json())


def _blog_token(endpoints: Endpoints) -> dict[str, str]:
    api = endpoints.services["blog"].api
    name = f"fuzz{secrets.token_hex(3)}"
    user = {"username": name, "email": f"{name}@example.com", "password": "Fuzzing-passphrase-1"}
    with httpx.Client(verify=trusting(endpoints)) as client:
        created = client.post(f"{api}/api/users", json={"user": user})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Token {created.json()['user']['token']}"}


@pytest.fixture(scope="module")
def credentials(endpoints: Endpoints, users: Users) -> dict[str, dict[str, str]]:
    return {"todo": bearer(users.sign_up_and_in()), "blog": _blog_token(endpoints)}


@pytest.mark.parametrize("service", SERVICES)
def test_no_operation_answers_a_server_error_or_breaks_its_own_document(
    service: str, endpoints: Endpoints, credentials: dict[str, dict[str, str]]
) -> None:
    schema = _served_schema(endpoints, service)
    api = endpoints.services[service].api
    session = requests.Session()
    session.verify = endpoints.ca_bundle
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation, api, session, credentials[service])()
        except Exception as exc:  # collect every operation's failure, not only the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def _fuzz(
    operation: Any, api: str | None, session: requests.Session, auth: dict[str, str]
) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        headers = dict(auth) if operation.definition.raw.get("security") else None
        response = case.call(base_url=api, session=session, headers=headers, verify=session.verify)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    return check
