"""Applies Alembic migrations at start. The engine and each protocol have their own branch (each protocol's
versions live in its own package), so we upgrade to all heads. On PostgreSQL an advisory lock keeps replicas
that start together from migrating at the same time."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from agenthub.core.errors import StorageUnavailable
from agenthub.storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"
ENGINE_VERSIONS = MIGRATIONS / "versions"
ADVISORY_LOCK_KEY = 0x61676E74  # "agnt"


@dataclass(frozen=True, slots=True)
class Schema:
    """The tables in code and the migration folders that create them."""

    metadata: sa.MetaData
    version_locations: Sequence[Path]


def alembic_config(schema: Schema, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", _joined(schema.version_locations))
    config.attributes["connection"] = connection
    config.attributes["metadata"] = schema.metadata
    return config


async def migrate(db: Database, schema: Schema) -> None:
    """Upgrades to every head. Raises StorageUnavailable (one readable line) when the database cannot be
    reached or does not exist."""
    try:
        await _upgrade(db, schema)
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StorageUnavailable(f"cannot open the database {db.safe_url}: {reason}") from exc


async def _upgrade(db: Database, schema: Schema) -> None:
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        await conn.run_sync(lambda c: command.upgrade(alembic_config(schema, c), "heads"))


async def is_current(db: Database, schema: Schema) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config(schema)).get_heads())
    async with db.engine.connect() as conn:
        current = await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))
    return current == heads


def _joined(paths: Sequence[Path]) -> str:
    return os.pathsep.join(str(path) for path in paths)
