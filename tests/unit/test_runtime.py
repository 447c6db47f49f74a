"""A function's configuration and its cold start."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from overcast.runtime import ColdStart, RuntimeConfig, function_environment, using_environment


def test_a_config_survives_the_trip_through_environment_variables() -> None:
    config = RuntimeConfig(
        service="todo", backend="local", region="eu-west-1", data_dir=Path("/data"), smtp_port=2525
    )
    assert RuntimeConfig.from_environ(config.to_environ()) == config


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="OVERCAST_BACKEND"):
        RuntimeConfig.from_environ({"OVERCAST_BACKEND": "azure"})


def test_each_invocation_sees_its_own_functions_environment() -> None:
    with using_environment({"OVERCAST_SERVICE": "a"}):
        assert function_environment()["OVERCAST_SERVICE"] == "a"
        with using_environment({"OVERCAST_SERVICE": "b"}):
            assert function_environment()["OVERCAST_SERVICE"] == "b"
        assert function_environment()["OVERCAST_SERVICE"] == "a"


def test_a_cold_start_builds_once_per_execution_environment() -> None:
    # Given a build that counts its calls, and two functions' environments
    built: list[str] = []

    def build(config: RuntimeConfig) -> str:
        built.append(config.service)
        return f"deps of {config.service}"

    dependencies = ColdStart(build)
    first, second = {"OVERCAST_SERVICE": "one"}, {"OVERCAST_SERVICE": "two"}

    # When each is invoked many times, from several threads
    def invoke(environ: dict[str, str]) -> None:
        with using_environment(environ):
            assert dependencies() == f"deps of {environ['OVERCAST_SERVICE']}"

    threads = [threading.Thread(target=invoke, args=(env,)) for env in (first, second) * 8]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each environment was built exactly once
    assert sorted(built) == ["one", "two"]
