"""CloudFront-shaped identifiers: distribution ids and ARNs, invalidation ids.

CloudFront names a distribution ``E`` + 13 upper-case letters and digits (e.g.
``E1U5RQF7T870K0``) and its ARN ``arn:aws:cloudfront::<account>:distribution/<id>``:
CloudFront is global, so the ARN has no region. The local cloud derives a distribution's
id from its service and name, so that it is the same at every start and every
function's ``OVERCAST_RESOURCE_DISTRIBUTION_<NAME>`` stays valid.
"""

from __future__ import annotations

import hashlib
import secrets
import string

_ALPHABET = string.ascii_uppercase + string.digits


def distribution_id(service_name: str, distribution_name: str) -> str:
    """The stable id of ``distribution_name`` of ``service_name``: ``E`` + 13 characters."""
    digest = hashlib.sha256(f"{service_name}/{distribution_name}".encode()).digest()
    return "E" + "".join(_ALPHABET[byte % len(_ALPHABET)] for byte in digest[:13])


def distribution_arn(account_id: str, distribution_id: str) -> str:
    """``arn:aws:cloudfront::<account>:distribution/<id>`` (no region: CloudFront is global)."""
    return f"arn:aws:cloudfront::{account_id}:distribution/{distribution_id}"


def new_invalidation_id() -> str:
    """A fresh invalidation id, shaped as CloudFront's (``I`` + 13 characters)."""
    return "I" + "".join(secrets.choice(_ALPHABET) for _ in range(13))
