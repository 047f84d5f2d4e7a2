"""Opens a runtime: database (migrated to every protocol's schema), bus, engine and the signing secret."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from agenthub.bus import Bus, MemoryBus, RedisBus
from agenthub.core.clock import Clock, SystemClock
from agenthub.core.engine import Engine
from agenthub.core.jobs import Backoff
from agenthub.protocols.registry import available
from agenthub.schema import project_schema
from agenthub.server.logs import EngineLog, Observers
from agenthub.server.metrics import Metrics
from agenthub.server.runtime import ConfigurationError, Runtime
from agenthub.server.settings import EngineSettings, Settings
from agenthub.storage import Database, SqlJobStore, SqlNodeStore
from agenthub.storage.migrate import migrate
from agenthub.storage.tables import server_values
from agenthub.storage.upsert import insert_for

log = logging.getLogger(__name__)


@asynccontextmanager
async def open_runtime(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    clock = clock or SystemClock()
    if settings.is_production:
        # Before anything is migrated: a production start without its secrets changes nothing.
        specs = available()
        selected = settings.server.selected_protocols(tuple(specs))
        problems = settings.production_problems({name: specs[name].settings for name in selected})
        if problems:
            raise ConfigurationError("; ".join(problems))
    db = Database(settings.storage.database_url, pool_size=settings.storage.db_pool_size)
    bus: Bus = (
        RedisBus(settings.storage.redis_url, prefix=bus_prefix(db))
        if settings.storage.redis_url
        else MemoryBus()
    )
    try:
        await migrate(db, project_schema())
        await db.warm()
        await bus.start()
        metrics = Metrics()
        engine = Engine(
            SqlJobStore(db),
            SqlNodeStore(db),
            clock=clock,
            sink=bus,
            default_silence=settings.engine.node_silence_seconds,
            backoff=default_backoff(settings.engine),
            backoff_by_kind={
                kind: Backoff(**b.model_dump()) for kind, b in settings.engine.retry_backoff.items()
            },
            observer=Observers(metrics, EngineLog()),
        )
        secret = await _jwt_secret(settings, db)
        yield Runtime(
            settings=settings, db=db, bus=bus, clock=clock, engine=engine, jwt_secret=secret, metrics=metrics
        )
    finally:
        await bus.close()
        await db.dispose()


def bus_prefix(db: Database) -> str:
    """The Redis channels of one deployment: the replicas of one database share them; another database's
    deployment on the same Redis (staging beside production, or two test runs) hears none of them. Redis
    pub/sub ignores the numbered databases, so the name is the only separation."""
    return f"agenthub:{make_url(db.url).database or 'default'}:"


def default_backoff(settings: EngineSettings) -> Backoff:
    return Backoff(
        base_seconds=settings.retry_base_seconds,
        factor=settings.retry_factor,
        max_seconds=settings.retry_max_seconds,
        jitter=settings.retry_jitter,
    )


async def _jwt_secret(settings: Settings, db: Database) -> str:
    configured = settings.auth.jwt_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    if settings.is_production:
        raise ConfigurationError("AGENTHUB_JWT_SECRET must be set when AGENTHUB_ENV=production")
    # Development: generate once and keep it in the database, so tokens survive restarts and replicas agree.
    stmt = insert_for(db.dialect, server_values).values(key="jwt_secret", value=secrets.token_urlsafe(48))
    async with db.write() as conn:
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
        value = (
            await conn.execute(sa.select(server_values.c.value).where(server_values.c.key == "jwt_secret"))
        ).scalar_one()
    return str(value)
