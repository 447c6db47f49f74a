"""The operator's root credentials: created on first start, kept in the data directory."""

from __future__ import annotations

import json
import os
import secrets
import string
from pathlib import Path

from overcast.local.auth.sigv4 import Credentials

_ALPHABET = string.ascii_uppercase + string.digits


def load_or_create_root_credentials(data_dir: Path) -> Credentials:
    """Read ``credentials.json``, creating it (mode 0600) with fresh keys if absent."""
    path = data_dir / "credentials.json"
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(stored["access_key_id"], stored["secret_access_key"])
    credentials = Credentials(
        # AWS access key ids of long-term IAM user keys start with AKIA.
        access_key_id="AKIA" + "".join(secrets.choice(_ALPHABET) for _ in range(16)),
        secret_access_key=secrets.token_urlsafe(30)[:40],
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(
            {
                "access_key_id": credentials.access_key_id,
                "secret_access_key": credentials.secret_access_key,
            },
            file,
        )
    temporary.replace(path)
    return credentials
