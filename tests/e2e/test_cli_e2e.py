"""The `overcast` command as a user types it: mail, env, reset."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.cloud_process import OVERCAST, CloudProcess
from tests.e2e.conftest import Users


def overcast(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    wide = {**os.environ, "COLUMNS": "250"}  # Rich wraps tables to the terminal's width
    return subprocess.run(
        [*OVERCAST, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=wide,
    )


def test_mail_lists_and_shows_what_the_system_sent(cloud: CloudProcess, users: Users) -> None:
    session = users.sign_up_and_in()
    data_dir = str(cloud.data_dir)

    listed = overcast("mail", "--data-dir", data_dir)
    assert listed.returncode == 0, listed.stderr
    assert session.email in listed.stdout

    number = next(
        re.findall(r"\d+", line)[0] for line in listed.stdout.splitlines() if session.email in line
    )
    shown = overcast("mail", "--data-dir", data_dir, "show", number)
    assert shown.returncode == 0, shown.stderr
    assert users.confirmation_code(session.email) in shown.stdout

    missing = overcast("mail", "--data-dir", data_dir, "show", "9999")
    assert missing.returncode == 1
    assert "error" in missing.stderr


def test_env_explains_when_no_cloud_runs(tmp_path: Path) -> None:
    result = overcast("env", "--data-dir", str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert "overcast up" in result.stderr


def test_reset_refuses_a_running_cloud_and_asks_before_deleting(
    tmp_path: Path, own_cloud: Callable[..., CloudProcess]
) -> None:
    cloud = own_cloud(tmp_path)
    cloud.start()
    running = overcast("reset", "--data-dir", str(cloud.data_dir), "--yes")
    assert running.returncode == 1
    assert "stop it first" in running.stderr
    assert cloud.stop() == 0

    declined = overcast("reset", "--data-dir", str(cloud.data_dir), stdin="n\n")
    assert declined.returncode == 0
    assert cloud.data_dir.exists()

    confirmed = overcast("reset", "--data-dir", str(cloud.data_dir), stdin="y\n")
    assert confirmed.returncode == 0
    assert not cloud.data_dir.exists()


def test_each_request_writes_one_access_log_line(
    tmp_path: Path, own_cloud: Callable[..., CloudProcess]
) -> None:
    import httpx

    from tests.e2e.conftest import todo_url, trusting

    cloud = own_cloud(tmp_path)
    endpoints = cloud.start()
    with httpx.Client(verify=trusting(endpoints)) as https:
        assert https.get(todo_url(endpoints, "/openapi.json")).status_code == 200
        assert https.get(todo_url(endpoints, "/nowhere")).status_code == 403
    assert cloud.stop() == 0
    lines = [line for line in cloud.output().splitlines() if "HTTP/1.1" in line]
    assert len(lines) == 2, cloud.output()
    assert '"GET /openapi.json HTTP/1.1" 200' in lines[0]
    assert " 403 " in lines[1]


def test_reset_refuses_a_directory_that_is_not_overcasts(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")

    result = overcast("reset", "--data-dir", str(tmp_path), "--yes")

    assert result.returncode == 1
    assert "not an Overcast data directory" in result.stderr
    assert (tmp_path / "precious.txt").exists()


def test_a_busy_smtp_port_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        (tmp_path / "overcast.toml").write_text(f"[ports]\nsmtp = {busy}\n")

        result = overcast("up", "--project", str(tmp_path))

    assert result.returncode == 1
    assert f"Port {busy} for the SMTP sink is already in use" in result.stderr
    assert "Traceback" not in result.stderr
