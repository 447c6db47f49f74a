"""Lambda bundles: what goes in, what never does, and building them offline."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from overcast import spec
from overcast.aws.bundling import Bundle, BundleSources, build_bundle, lambda_handler
from overcast.aws.imports import imports_of
from overcast.aws.wheels import BundleError, LambdaPlatform, Wheelhouse

# A closed port: pip cannot reach any index, as on a machine without network.
OFFLINE_INDEX = "http://127.0.0.1:9/simple"


def _files_under(directory: Path) -> set[str]:
    return {path.relative_to(directory).as_posix() for path in directory.rglob("*")}


def _named(services: tuple[spec.Service, ...], name: str) -> spec.Service:
    return next(service for service in services if service.name == name)


def _app_package(root: Path, name: str, handler_source: str) -> spec.Service:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(textwrap.dedent(handler_source))
    function = spec.Function("main", handler=f"{name}.handler:handler")
    return spec.Service(name=name.replace("_", "-"), functions=(function,))


def test_todo_bundle_holds_runtime_ports_app_and_packages_for_lambda(
    bundles: dict[str, Bundle],
) -> None:
    # Given the to-do service's bundle, built with pip for Lambda (x86_64, Python 3.12)
    bundle = bundles["todo"]
    files = _files_under(bundle.directory)

    # Then it holds the runtime, the ports, the declarations, the app, and its packages
    for expected in (
        "overcast/__init__.py",
        "overcast/runtime/config.py",
        "overcast/ports/tables/base.py",
        "overcast/spec.py",
        "overcast/apps/__init__.py",
        "overcast/apps/todo/handler.py",
        "aws_lambda_powertools/__init__.py",
        "pydantic/__init__.py",
    ):
        assert expected in files, expected
    # ... with native code built for Lambda's platform, not this machine's Python
    native = [name for name in files if name.endswith(".so")]
    assert "pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so" in native
    assert all("cpython-311" not in name for name in native)


def test_bundle_never_holds_the_local_cloud_cdk_or_the_aws_sdk(
    bundles: dict[str, Bundle],
) -> None:
    for bundle in bundles.values():
        tops = {name.split("/")[0] for name in _files_under(bundle.directory)}
        files = _files_under(bundle.directory)
        assert not any(name.startswith(("overcast/local", "overcast/aws")) for name in files)
        assert not {"aws_cdk", "cdk_nag", "jsii", "constructs", "boto3", "botocore"} & tops
        assert "overcast/cli.py" not in files
        assert not any("__pycache__" in name for name in files)


def test_a_user_project_bundle_holds_its_own_package(bundles: dict[str, Bundle]) -> None:
    files = _files_under(bundles["pinboard"].directory)
    assert {"pinboard/__init__.py", "pinboard/handler.py"} <= files
    assert not any(name.startswith("overcast/apps") for name in files)


def test_an_unchanged_bundle_is_reused_without_pip(
    bundles: dict[str, Bundle], sample_services: tuple[spec.Service, ...], lambda_cache: Path
) -> None:
    # Given the pinboard bundle already built
    service = _named(sample_services, "pinboard")
    # When it is built again, with no index reachable at all
    again = build_bundle(service, LambdaPlatform(), lambda_cache, index_url=OFFLINE_INDEX)
    # Then it is the same directory
    assert again.directory == bundles["pinboard"].directory


def test_packages_install_offline_from_the_wheelhouse(
    bundles: dict[str, Bundle], lambda_cache: Path, tmp_path: Path
) -> None:
    # Given a wheelhouse that the session filled once, and no network
    platform = LambdaPlatform()
    wheelhouse = Wheelhouse(
        lambda_cache / "wheels" / platform.tag, platform, index_url=OFFLINE_INDEX
    )
    # When the to-do packages are installed afresh
    wheelhouse.install(bundles["todo"].requirements, tmp_path / "target")
    # Then they are all there
    assert (tmp_path / "target" / "aws_lambda_powertools" / "__init__.py").exists()


def test_without_network_and_wheels_the_error_says_what_to_do(
    sample_services: tuple[spec.Service, ...], tmp_path: Path
) -> None:
    # Given an empty cache (a clean checkout) and no network
    service = _named(sample_services, "pinboard")
    # When its bundle is built, Then the error names the wheelhouse and the remedy
    with pytest.raises(BundleError, match="network access") as raised:
        build_bundle(service, LambdaPlatform(), tmp_path, index_url=OFFLINE_INDEX)
    assert str(tmp_path / "wheels") in str(raised.value)
    assert not (tmp_path / "bundles").exists() or not any((tmp_path / "bundles").iterdir())


def test_function_code_importing_the_local_cloud_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    service = _app_package(
        tmp_path,
        "leaky_app",
        """
        def handler(event, context):
            from overcast.local.settings import load_settings
            return load_settings
        """,
    )
    with pytest.raises(BundleError, match=r"imports overcast\.local\.settings"):
        BundleSources(service)


def test_a_missing_package_is_refused_unless_its_import_is_optional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    required = _app_package(tmp_path, "needs_it", "import surely_not_installed_anywhere\n")
    with pytest.raises(BundleError, match="surely_not_installed_anywhere"):
        BundleSources(required).requirements()

    optional = _app_package(
        tmp_path,
        "copes_without",
        """
        try:
            import surely_not_installed_anywhere
        except ImportError:
            surely_not_installed_anywhere = None
        """,
    )
    names = [pin.split("==")[0] for pin in BundleSources(optional).requirements()]
    assert names == ["orjson"]  # what overcast.ports needs, and nothing missing


def test_type_checking_imports_and_lambda_provided_sdk_are_not_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    service = _app_package(
        tmp_path,
        "typed_app",
        """
        from typing import TYPE_CHECKING
        import boto3
        import orjson
        if TYPE_CHECKING:
            from mypy_boto3_s3 import S3Client
        """,
    )
    names = [pin.split("==")[0] for pin in BundleSources(service).requirements()]
    assert names == ["orjson"]  # no boto3 (Lambda has it), no type stubs


def test_imports_are_read_from_source_including_submodules(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text("from overcast import spec\nfrom . import sibling\nimport json as j\n")
    modules = [imported.module for imported in imports_of(source)]
    assert modules == ["overcast", "overcast.spec", "json"]


def test_lambda_handler_setting_uses_dots() -> None:
    function = spec.Function("api", handler="overcast.apps.todo.handler:handler")
    assert lambda_handler(function) == "overcast.apps.todo.handler.handler"


def test_arm64_bundles_use_aarch64_wheels() -> None:
    platform = LambdaPlatform("arm64")
    assert platform.tag == "cp312-manylinux2014_aarch64"
    assert platform.pip_options()[:2] == ["--platform", "manylinux2014_aarch64"]


def test_bundle_files_are_readable_by_lambdas_runtime_user(bundles: dict[str, Bundle]) -> None:
    # Lambda runs the code as a user other than the files' owner
    bundle = bundles["pinboard"]
    assert bundle.directory.stat().st_mode & 0o005 == 0o005
    for path in bundle.directory.rglob("*"):
        assert path.stat().st_mode & 0o004, path
