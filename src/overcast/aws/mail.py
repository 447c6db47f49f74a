"""Amazon SES identities from the functions' ``spec.Function(mail=...)`` declarations.

Each declared :class:`overcast.spec.MailIdentity` becomes one ``AWS::SES::EmailIdentity``
(however many functions send from it): a domain identity with Easy DKIM, whose three
DKIM CNAME records the stack outputs (SES verifies the domain once they are in its
DNS), or an address identity (SES mails that address a verification link). Until the
identity is verified — and while the account is in the SES sandbox, for recipients
too — SES refuses to send; that is an AWS account step, not a deploy step.

A function that declares an identity may send from it and nothing else:
``ses:SendEmail`` and ``ses:SendRawEmail`` on that identity's ARN (CDK's
``grant_send_email``), the actions ``overcast.ports.mail.ses`` (SES v2 ``SendEmail``)
is authorized by. No configuration set is declared, so none is granted. The function
learns the identity from ``OVERCAST_RESOURCE_MAIL_IDENTITY`` (:data:`MAIL_IDENTITY`).
Locally nothing of this exists: mail goes to the local cloud's SMTP sink.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aws_cdk import CfnOutput, Fn
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct

from overcast import spec
from overcast.aws.naming import construct_id
from overcast.runtime.config import resource_variable

MAIL_IDENTITY = resource_variable("MAIL", "identity")  # OVERCAST_RESOURCE_MAIL_IDENTITY


def deploy_mail_identities(
    scope: Construct, functions: Iterable[spec.Function]
) -> dict[str, ses.EmailIdentity]:
    """One SES identity per identity the functions declare, by identity (domain or address)."""
    deployed: dict[str, ses.EmailIdentity] = {}
    for function in functions:
        declared = function.mail
        if declared is None or declared.identity in deployed:
            continue
        deployed[declared.identity] = _identity(scope, declared)
    return deployed


def grant_sending(role: iam.IRole, identity: ses.EmailIdentity) -> None:
    """Let ``role`` send mail from ``identity`` (its ARN only)."""
    identity.grant_send_email(role)


def _identity(scope: Construct, declared: spec.MailIdentity) -> ses.EmailIdentity:
    key = construct_id("MailIdentity", re.sub(r"[^a-z0-9]+", "-", declared.identity))
    if declared.is_address:
        identity = ses.EmailIdentity(scope, key, identity=ses.Identity.email(declared.identity))
    else:
        identity = ses.EmailIdentity(scope, key, identity=ses.Identity.domain(declared.identity))
    CfnOutput(scope, f"{key}Name", value=declared.identity, description="SES identity")
    if not declared.is_address:
        records = (
            (identity.dkim_dns_token_name1, identity.dkim_dns_token_value1),
            (identity.dkim_dns_token_name2, identity.dkim_dns_token_value2),
            (identity.dkim_dns_token_name3, identity.dkim_dns_token_value3),
        )
        for number, (name, value) in enumerate(records, start=1):
            CfnOutput(
                scope,
                f"{key}Dkim{number}",
                value=Fn.join(" CNAME ", [name, value]),
                description=f"DNS record that verifies {declared.identity} for SES (Easy DKIM)",
            )
    return identity
