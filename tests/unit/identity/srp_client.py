"""The client side of Cognito's SRP, from pycognito, for tests that need a chosen TIMESTAMP.

``AWSSRP.process_challenge`` signs with the wall clock; tests of stale or
malformed timestamps sign the same way with a TIMESTAMP of their own, using
pycognito's key derivation (``get_password_authentication_key``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from pycognito.aws_srp import AWSSRP


def srp_client(pool_id: str, username: str, password: str, client: Any = None) -> AWSSRP:
    """pycognito's SRP client; ``client`` is its boto3 client (unused by the maths alone)."""
    return AWSSRP(username, password, pool_id, "unused-client-id", client=client or object())


def start(aws: AWSSRP) -> dict[str, str]:
    """``AuthParameters`` for InitiateAuth(USER_SRP_AUTH): USERNAME and SRP_A."""
    parameters: dict[str, str] = aws.get_auth_params()
    return parameters


def proof(aws: AWSSRP, challenge: Mapping[str, str], timestamp: str) -> dict[str, str]:
    """``ChallengeResponses`` for ``challenge``, signed as pycognito signs, at ``timestamp``."""
    user_id = challenge["USER_ID_FOR_SRP"]
    key = aws.get_password_authentication_key(
        user_id, aws.password, int(challenge["SRP_B"], 16), challenge["SALT"]
    )
    block = challenge["SECRET_BLOCK"]
    message = (
        aws.pool_id.split("_")[1].encode()
        + user_id.encode()
        + base64.standard_b64decode(block)
        + timestamp.encode()
    )
    signature = base64.standard_b64encode(hmac.new(key, message, hashlib.sha256).digest())
    return {
        "USERNAME": challenge["USERNAME"],
        "PASSWORD_CLAIM_SECRET_BLOCK": block,
        "PASSWORD_CLAIM_SIGNATURE": signature.decode(),
        "TIMESTAMP": timestamp,
    }
