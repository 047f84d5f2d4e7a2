"""Finding PostgreSQL and Redis; a missing service is a skip locally and a failure in CI."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

POSTGRES_URL = os.environ.get("AGENTHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("AGENTHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
T = TypeVar("T")
REQUIRED = os.environ.get("AGENTHUB_REQUIRE_SERVICES", "") == "1"


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine to completion from sync code, even inside a running event loop (own thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def missing(what: str) -> None:
    """Skips the test, or fails it where the services are required (CI sets AGENTHUB_REQUIRE_SERVICES=1)."""
    if REQUIRED:
        pytest.fail(f"{what} is required here (AGENTHUB_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


@functools.cache
def postgres_available() -> bool:
    async def probe() -> bool:
        import asyncpg

        try:
            conn = await asyncio.wait_for(asyncpg.connect(_asyncpg_dsn(POSTGRES_URL)), timeout=3)
        except Exception:
            return False
        await conn.close()
        return True

    return run_blocking(probe())


@functools.cache
def redis_available() -> bool:
    async def probe() -> bool:
        from redis.asyncio import Redis

        client = Redis.from_url(REDIS_URL)
        try:
            return bool(await asyncio.wait_for(client.ping(), timeout=3))
        except Exception:
            return False
        finally:
            await client.aclose()

    return run_blocking(probe())


def require_postgres() -> str:
    if not postgres_available():
        missing("PostgreSQL")
    return POSTGRES_URL


def require_redis() -> str:
    if not redis_available():
        missing("Redis")
    return REDIS_URL


def require_executable(name: str, what: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(what)
    assert path is not None
    return path


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")
