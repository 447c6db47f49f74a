"""The SES endpoint setting: read from the command line or the project, passed to the
functions, and the declared identities created there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overcast.apps.blog.service import service as blog_service
from overcast.local.remote_mail import create_mail_identities
from overcast.local.settings import load_settings
from overcast.ports.mail.ses import SesMailer
from overcast.ports.mail.smtp import SmtpMailer
from overcast.runtime.adapters import open_mailer
from overcast.runtime.config import RuntimeConfig
from overcast.spec import DeclarationError


class AlreadyExistsException(Exception):
    pass


class FakeSes:
    """An SES v2 client that knows some identities already."""

    class exceptions:
        AlreadyExistsException = AlreadyExistsException

    def __init__(self, existing: set[str]) -> None:
        self.identities = set(existing)

    def create_email_identity(self, EmailIdentity: str) -> dict[str, Any]:
        if EmailIdentity in self.identities:
            raise AlreadyExistsException(EmailIdentity)
        self.identities.add(EmailIdentity)
        return {"VerifiedForSendingStatus": False}


def test_the_blogs_sender_identity_is_created_once_and_left_alone_after() -> None:
    ses = FakeSes(existing=set())
    assert create_mail_identities([blog_service], ses) == ["myblog.com"]
    assert create_mail_identities([blog_service], ses) == []
    assert ses.identities == {"myblog.com"}


def test_the_ses_endpoint_comes_from_the_command_line_over_the_project(tmp_path: Path) -> None:
    (tmp_path / "overcast.toml").write_text('ses_endpoint = "http://127.0.0.1:5000"\n')
    from_project = load_settings(tmp_path, environ={})
    from_flag = load_settings(tmp_path, ses_endpoint="https://ses.example:443", environ={})
    assert from_project.ses_endpoint == "http://127.0.0.1:5000"
    assert from_flag.ses_endpoint == "https://ses.example:443"


def test_an_ses_endpoint_that_is_not_a_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="ses_endpoint"):
        load_settings(tmp_path, ses_endpoint="127.0.0.1:5000", environ={})


def test_a_local_function_given_an_ses_endpoint_sends_through_ses() -> None:
    config = RuntimeConfig(service="blog", ses_endpoint="http://127.0.0.1:5000")
    again = RuntimeConfig.from_environ(config.to_environ() | {"OVERCAST_BACKEND": "local"})
    mailer = open_mailer(again)
    assert again.ses_endpoint == "http://127.0.0.1:5000"
    assert isinstance(mailer, SesMailer)
    assert mailer.client.meta.endpoint_url == "http://127.0.0.1:5000"
    assert isinstance(open_mailer(RuntimeConfig(service="blog")), SmtpMailer)
