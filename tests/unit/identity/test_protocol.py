"""The Cognito protocol app in-process: operations run off the event loop."""

from __future__ import annotations

import asyncio
import json

import anyio
import httpx
import pytest

from overcast.local.identity.protocol import TARGET_PREFIX
from overcast.local.wire import CONTENT_TYPE
from tests.unit.identity.conftest import PASSWORD, World

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_sign_in_in_progress_does_not_hold_up_other_requests(world: World) -> None:
    world.confirmed_user()
    transport = httpx.ASGITransport(app=world.provider.asgi_app)
    body = {
        "ClientId": world.client_id,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "alice@example.com", "PASSWORD": PASSWORD},
    }
    headers = {"X-Amz-Target": f"{TARGET_PREFIX}InitiateAuth", "Content-Type": CONTENT_TYPE}
    world.hasher.hold(PASSWORD)

    async with httpx.AsyncClient(transport=transport, base_url="http://cognito") as client:
        signing_in = asyncio.create_task(
            client.post("/", headers=headers, content=json.dumps(body))
        )
        with anyio.fail_after(5):
            while world.hasher.waiting == 0:  # the password check has started, and waits
                await asyncio.sleep(0.005)
            keys = await client.get(f"/{world.pool.pool_id}/.well-known/jwks.json")
        served_meanwhile = not signing_in.done()
        world.hasher.open()
        signed_in = await signing_in

    assert keys.status_code == 200
    assert served_meanwhile
    assert signed_in.status_code == 200
    assert "AccessToken" in signed_in.json()["AuthenticationResult"]
