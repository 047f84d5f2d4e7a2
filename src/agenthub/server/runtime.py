"""The runtime every protocol app shares: settings, database, engine, bus, clock, and the signing secret."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from agenthub.bus import Bus, MemoryBus, RedisBus
from agenthub.core.clock import Clock, SystemClock
from agenthub.core.engine import Engine
from agenthub.server.settings import Settings
from agenthub.storage import Database, SqlJobStore, SqlNodeStore
from agenthub.storage.migrate import migrate
from agenthub.storage.tables import server_values
from agenthub.storage.upsert import insert_for

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """The settings do not allow a safe start."""


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    clock: Clock
    engine: Engine
    jobs: SqlJobStore
    nodes: SqlNodeStore
    jwt_secret: str
    extras: dict[str, Any] = field(default_factory=dict)  # per-protocol shared objects, by protocol name


@asynccontextmanager
async def open_runtime(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    clock = clock or SystemClock()
    db = Database(settings.storage.database_url, pool_size=settings.storage.db_pool_size)
    bus: Bus = RedisBus(settings.storage.redis_url) if settings.storage.redis_url else MemoryBus()
    try:
        await migrate(db)
        await bus.start()
        jobs, nodes = SqlJobStore(db), SqlNodeStore(db)
        engine = Engine(jobs, nodes, clock=clock, sink=bus)
        secret = await _jwt_secret(settings, db)
        yield Runtime(
            settings=settings,
            db=db,
            bus=bus,
            clock=clock,
            engine=engine,
            jobs=jobs,
            nodes=nodes,
            jwt_secret=secret,
        )
    finally:
        await bus.close()
        await db.dispose()


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
