"""Fresh migrated databases for tests: migrated once per session into a template, copied per test."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import asyncpg

from agenthub.schema import project_schema
from agenthub.storage import Database
from agenthub.storage.migrate import migrate
from tests.support.services import POSTGRES_URL, _asyncpg_dsn, run_blocking

_counter = itertools.count()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate(db, project_schema())
    finally:
        await db.dispose()


class SqliteTemplate:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"
        run_blocking(_migrate(f"sqlite:///{self.template}"))

    def fresh(self) -> str:
        path = self.directory / f"test-{next(_counter)}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"


class PostgresTemplate:
    def __init__(self) -> None:
        self.prefix = f"agenthub_test_{os.getpid()}"
        self.template = f"{self.prefix}_tpl"
        run_blocking(self._create_template())

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))

    async def _create_template(self) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.template}"')
            await conn.execute(f'CREATE DATABASE "{self.template}"')
        finally:
            await conn.close()
        await _migrate(_with_database(POSTGRES_URL, self.template))

    async def fresh(self) -> tuple[str, str]:
        name = f"{self.prefix}_{next(_counter)}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        finally:
            await conn.close()
        return _with_database(POSTGRES_URL, name), name

    async def drop(self, name: str) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def close(self) -> None:
        async def drop_template() -> None:
            await self.drop(self.template)

        run_blocking(drop_template())
