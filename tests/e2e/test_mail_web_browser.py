"""The web mailbox in a real headless browser: keyboard, sandboxed HTML, delete without JS.

Needs Playwright (the Python package) and Debian's chromium at /usr/bin/chromium;
without either the test is skipped, saying which is missing.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

from overcast.local.endpoints import Endpoints
from tests.e2e.test_mail_web_e2e import send

CHROMIUM = Path("/usr/bin/chromium")

sync_api: Any = pytest.importorskip(
    "playwright.sync_api",
    reason="Playwright is not installed in the virtualenv (add `playwright` to the lock)",
)
if not CHROMIUM.exists() and shutil.which("chromium") is None:
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)", allow_module_level=True)


def test_a_reader_opens_a_message_by_keyboard_and_deletes_it_without_javascript(
    endpoints: Endpoints,
) -> None:
    assert endpoints.mailbox_url is not None
    subject = f"Browser mail {secrets.token_hex(3)}"
    send(endpoints, f"reader-{secrets.token_hex(4)}@example.com", subject)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        context = browser.new_context(ignore_https_errors=True, java_script_enabled=False)
        page = context.new_page()
        page.goto(endpoints.mailbox_url)

        page.get_by_role("link", name=subject).focus()
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).inner_text() == subject
        frame = page.frame_locator("iframe.mail-html")
        assert frame.locator("b").inner_text() == "words"

        with page.expect_navigation():
            page.get_by_role("button", name="Delete this message").press("Enter")
        page.wait_for_load_state()
        assert page.url == f"{endpoints.mailbox_url}?deleted=1", page.content()
        assert page.get_by_role("status").inner_text() == "Message deleted."
        assert page.get_by_role("link", name=subject).count() == 0
        browser.close()
