"""SES on AWS: the identities functions declare they send mail from, and nothing more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

from overcast import spec
from overcast.apps.blog import newsletter, welcome
from overcast.apps.blog.service import service as blog
from overcast.aws import nag
from overcast.aws.app import build_app
from overcast.aws.bundling import Bundle
from overcast.aws.mail import MAIL_IDENTITY
from tests.aws.conftest import SynthesizedProject

SEND = ["ses:SendEmail", "ses:SendRawEmail"]


def _sending_statements(template: Template) -> list[dict[str, Any]]:
    policies: dict[str, Any] = template.find_resources("AWS::IAM::Policy")
    return [
        {"policy": name, **statement}
        for name, policy in policies.items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "ses:" in str(statement["Action"])
    ]


def _variables(template: Template, handler: str) -> dict[str, Any]:
    functions: dict[str, Any] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": handler}}
    )
    (function,) = functions.values()
    return dict(function["Properties"]["Environment"]["Variables"])


def test_the_blogs_mailers_send_from_one_domain_identity(synthesized: SynthesizedProject) -> None:
    # Given the blog: its welcome and newsletter functions declare myblog.com
    stack = synthesized.stacks["blog"]
    template = Template.from_stack(stack)
    identities: dict[str, Any] = template.find_resources("AWS::SES::EmailIdentity")
    # Then the stack verifies that domain once, with Easy DKIM
    ((identity_id, identity),) = identities.items()
    assert identity["Properties"]["EmailIdentity"] == "myblog.com"
    outputs = template.to_json()["Outputs"]
    assert {k for k in outputs if "MailIdentity" in k} == {
        "MailIdentityMyblogComName",
        "MailIdentityMyblogComDkim1",
        "MailIdentityMyblogComDkim2",
        "MailIdentityMyblogComDkim3",
    }
    # And exactly those two functions may send, from that identity only
    arn = Stack.of(stack).resolve(stack.resources.mail_identities["myblog.com"].email_identity_arn)
    statements = _sending_statements(template)
    assert len(statements) == 2
    assert {str(s["Resource"]) for s in statements} == {str(arn)}
    assert all(sorted(s["Action"]) == SEND for s in statements)
    assert identity_id in str(arn)
    # And each learns the identity from its environment; the others do not
    for handler in ("welcome.handler", "newsletter.handler"):
        variables = _variables(template, f"overcast.apps.blog.{handler}")
        assert variables[MAIL_IDENTITY] == "myblog.com"
    assert MAIL_IDENTITY not in _variables(template, "overcast.apps.blog.handler.handler")


def test_the_blogs_from_addresses_belong_to_their_declared_identity() -> None:
    declared = {function.name: function.mail for function in blog.all_functions}
    for name, sender in (("welcome", welcome.SENDER), ("newsletter", newsletter.SENDER)):
        identity = declared[name]
        assert identity is not None
        assert identity.allows(sender)
    assert {name for name, mail in declared.items() if mail} == {"welcome", "newsletter"}


def test_an_address_identity_is_verified_by_itself_and_shared_by_its_senders(
    bundle: Bundle, tmp_path: Path
) -> None:
    # Given two functions that send from one address identity
    alerts = spec.MailIdentity("alerts@example.com")
    first = spec.Function("first", handler="thumbs.handler:handler", mail=alerts)
    second = spec.Function("second", handler="thumbs.handler:handler", mail=alerts)
    service = spec.Service("thumbs", functions=(first, second))
    app, (stack,) = build_app([service], {"thumbs": bundle}, environment="dev", outdir=tmp_path)
    template = Template.from_stack(stack)
    # Then one identity is created, an address (no DKIM records to publish)
    template.resource_count_is("AWS::SES::EmailIdentity", 1)
    template.has_resource_properties(
        "AWS::SES::EmailIdentity", {"EmailIdentity": "alerts@example.com"}
    )
    assert not [k for k in template.to_json()["Outputs"] if "Dkim" in k]
    # And each function's role may send from it, without any wildcard for cdk-nag to flag
    assert len(_sending_statements(template)) == 2
    assert nag.findings(app) == []
