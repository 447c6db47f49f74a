"""Pick a port's adapter from a function's configuration. Used by each app's bootstrap()."""

from __future__ import annotations

from overcast import spec
from overcast.ports.identities import IdentityDirectory
from overcast.ports.tables import Table
from overcast.runtime.config import RuntimeConfig


def table_path(config: RuntimeConfig, declaration: spec.Table) -> str:
    """Where the local cloud keeps a service's table: one SQLite file per table."""
    if config.data_dir is None:
        raise ValueError("The local backend needs a data directory (OVERCAST_DATA_DIR).")
    return str(config.data_dir / "tables" / config.service / f"{declaration.name}.sqlite3")


def open_table(declaration: spec.Table, config: RuntimeConfig) -> Table:
    """The table adapter for this environment: SQLite locally, DynamoDB on AWS."""
    if config.backend == "local":
        from overcast.ports.tables.sqlite import SqliteTable

        return SqliteTable(declaration, table_path(config, declaration))
    raise NotImplementedError("The DynamoDB table adapter arrives with the AWS deployment.")


def open_identity_directory(
    declaration: spec.IdentityPool, config: RuntimeConfig
) -> IdentityDirectory:
    """The identities of an identity pool, through Cognito Identity's GetId (local or AWS)."""
    from overcast.ports.identities.cognito import CognitoIdentityDirectory

    return CognitoIdentityDirectory(
        config.resource("IDENTITY_POOL", declaration.name),
        config.resource("USER_POOL", declaration.user_pool.name),
        region=config.region,
        endpoint=config.aws_endpoint,
        ca_bundle=config.ca_bundle,
    )
