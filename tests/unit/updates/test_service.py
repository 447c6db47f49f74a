"""The update service's declaration: what the edge caches, for how long, from where."""

from __future__ import annotations

from overcast.apps.updates.service import releases, service
from overcast.local.discovery import builtin_service_modules, load_service
from overcast.spec_cdn import ONE_YEAR_SECONDS, HttpOrigin


def test_release_files_are_kept_a_year_whatever_the_origin_says() -> None:
    [release_behavior] = releases.behaviors

    policy = release_behavior.cache_policy

    assert release_behavior.path_pattern == "/releases/*"
    assert policy.min_ttl_seconds == policy.max_ttl_seconds == ONE_YEAR_SECONDS


def test_the_manifest_is_kept_at_most_a_minute() -> None:
    policy = releases.default_behavior.cache_policy

    assert (policy.min_ttl_seconds, policy.default_ttl_seconds, policy.max_ttl_seconds) == (
        0,
        60,
        60,
    )


def test_both_behaviours_go_to_the_unchanged_app_started_locally_by_its_own_command() -> None:
    [origin] = releases.origins

    assert isinstance(origin, HttpOrigin)
    assert origin.local_command[:3] == ("{python}", "-m", "overcast.apps.updates.origin")
    assert {"{port}", "{data_dir}/updates"} <= set(origin.local_command)


def test_the_updates_service_is_one_of_overcasts_own_apps() -> None:
    module = "overcast.apps.updates.service"

    assert module in builtin_service_modules()
    assert load_service(module) is service
