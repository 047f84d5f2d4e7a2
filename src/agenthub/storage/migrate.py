"""Applies Alembic migrations at start. Each protocol has its own branch, so we upgrade to all heads.
On PostgreSQL an advisory lock keeps replicas that start together from migrating at the same time."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from agenthub.storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"
ADVISORY_LOCK_KEY = 0x61676E74  # "agnt"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(db: Database) -> None:
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        await conn.run_sync(_upgrade)


async def is_current(db: Database) -> bool:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_is_current)


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "heads")


def _is_current(connection: Connection) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    return set(MigrationContext.configure(connection).get_current_heads()) == heads
