"""Fixtures shared by every test: a fresh database per backend, a manual clock, a runtime, servers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agenthub.core.clock import ManualClock
from agenthub.protocols.oas.settings import OasSettings
from agenthub.server.runtime import Runtime
from agenthub.server.settings import (
    AuthSettings,
    EngineSettings,
    ServerSettings,
    Settings,
    StorageSettings,
)
from agenthub.server.startup import open_runtime
from tests.support.databases import PostgresTemplate, SqliteTemplate
from tests.support.services import require_postgres

BACKENDS = ["sqlite", "postgresql"]
os.environ.setdefault("AGENTHUB_SCRYPT_N", "1024")  # fast password hashes in tests; production keeps 2**14


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate]:
    require_postgres()
    template = PostgresTemplate()
    yield template
    template.close()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh, migrated database; every test that uses it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_template").fresh()
        return
    template: PostgresTemplate = request.getfixturevalue("postgres_template")
    url, name = await template.fresh()
    try:
        yield url
    finally:
        await template.drop(name)


@pytest.fixture
def sqlite_url(sqlite_template: SqliteTemplate) -> str:
    """For tests that need a database but say nothing about dialects."""
    return sqlite_template.fresh()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 4, 0, tzinfo=UTC))  # 12:00 Beijing time, a Monday


def make_settings(database_url: str, **overrides: object) -> Settings:
    return Settings(
        server=ServerSettings(env="development", log_level="warning"),
        storage=StorageSettings(database_url=database_url, redis_url=overrides.get("redis_url")),  # type: ignore[arg-type]
        auth=AuthSettings(jwt_secret="test-secret-" + "x" * 32),  # type: ignore[arg-type]
        # Retries come back at once unless a test asks for a backoff (see test_retry_backoff.py).
        engine=EngineSettings(
            reaper_interval_seconds=0.05, presence_interval_seconds=0.05, retry_base_seconds=0
        ),
        # The scheduler loop stays off in tests: they call OasScheduler.step with the manual clock.
        protocols={
            "oas": OasSettings(super_username="root", super_password="rootpass123", scheduler_enabled=False),  # type: ignore[arg-type]
        },
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def runtime(settings: Settings, clock: ManualClock) -> AsyncIterator[Runtime]:
    async with open_runtime(settings, clock=clock) as rt:
        yield rt


@pytest.fixture
async def pg(postgres_template: PostgresTemplate, clock: ManualClock) -> AsyncIterator[Runtime]:
    """A runtime on a fresh PostgreSQL database, for tests of PostgreSQL's own paths."""
    url, name = await postgres_template.fresh()
    try:
        async with open_runtime(make_settings(url), clock=clock) as rt:
            yield rt
    finally:
        await postgres_template.drop(name)


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
