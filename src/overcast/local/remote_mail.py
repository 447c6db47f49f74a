"""The declared mail identities, created in an AWS-compatible SES endpoint at start.

With ``ses_endpoint`` set (e.g. moto's server), the functions' mail goes through the
SES v2 adapter to that endpoint rather than to the local SMTP sink. SES sends only from
a verified identity ("Email address is not verified" otherwise; moto refuses it too),
so the cloud creates each identity the functions declare (``spec.Function(mail=...)``:
a domain or one address) as the deployer's stack would, through SES v2's
``CreateEmailIdentity``. Creating is idempotent: an identity that exists
(``AlreadyExistsException``, from an earlier start) is left alone. Nothing verifies a
domain's DKIM records here: an emulator treats a created identity as verified.

The user pools' mail (confirmation codes) stays the local cloud's: its user pools are
its own, and their mail goes to the SMTP sink.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from overcast import spec


def declared_identities(service: spec.Service) -> list[spec.MailIdentity]:
    """The identities the service's functions send from, once each, in declaration order."""
    found = (function.mail for function in service.all_functions if function.mail is not None)
    return list({identity.identity: identity for identity in found}.values())


def create_mail_identities(services: Iterable[spec.Service], client: Any) -> list[str]:
    """Create each declared identity through ``client`` (a boto3 ``sesv2`` client) unless
    it exists; return those created."""
    created = []
    for service in services:
        for identity in declared_identities(service):
            try:
                client.create_email_identity(EmailIdentity=identity.identity)
            except client.exceptions.AlreadyExistsException:
                continue
            created.append(identity.identity)
    return created
