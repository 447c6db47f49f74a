"""The web mailbox's port setting and its place in ``endpoints.json``."""

from __future__ import annotations

import json
from pathlib import Path

from overcast.local.endpoints import Endpoints
from overcast.local.settings import load_settings


def test_the_mailbox_listens_on_8025_unless_configured(tmp_path: Path) -> None:
    assert load_settings(tmp_path, environ={}).ports.mailbox == 8025

    (tmp_path / "overcast.toml").write_text("[ports]\nmailbox = 9025\n", encoding="utf-8")
    settings = load_settings(tmp_path, environ={})

    assert settings.ports.mailbox == 9025
    assert "mailbox" not in settings.ports.apis  # not mistaken for a service's API


def test_auto_ports_put_the_mailbox_on_a_free_port(tmp_path: Path) -> None:
    (tmp_path / "overcast.toml").write_text("[ports]\nmailbox = 9025\n", encoding="utf-8")
    assert load_settings(tmp_path, auto_ports=True, environ={}).ports.mailbox == 0


def test_an_endpoints_file_of_an_older_cloud_still_reads(tmp_path: Path) -> None:
    old = {
        "region": "us-east-1",
        "ca_bundle": "/ca.pem",
        "aws": {},
        "smtp": "127.0.0.1:1025",
        "mailbox": "/data/mail",
        "services": {},
        "pid": 1,
    }
    path = tmp_path / "endpoints.json"
    path.write_text(json.dumps(old), encoding="utf-8")

    assert Endpoints.read(path).mailbox_url is None


def test_the_mailbox_url_survives_a_round_trip(tmp_path: Path) -> None:
    endpoints = Endpoints(
        "us-east-1", "/ca.pem", {}, "h:1", "/m", {}, 1, mailbox_url="https://127.0.0.1:8025/"
    )
    endpoints.write(tmp_path / "endpoints.json")
    assert Endpoints.read(tmp_path / "endpoints.json").mailbox_url == "https://127.0.0.1:8025/"
