"""The console's live stream: Server-Sent Events from the engine's announcements, across replicas through
Redis (two runtimes on one database, the job submitted on the replica that serves no console)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agenthub.core.clock import ManualClock
from agenthub.core.jobs import NewJob
from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from agenthub.server.startup import open_runtime
from tests.conftest import make_settings
from tests.support.services import require_redis


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, redis_url=require_redis())


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    name = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name is not None:
            yield name, json.loads(line[len("data: ") :])
            name = None


async def test_a_job_on_another_replica_reaches_the_stream(
    settings: Settings, operator: httpx.AsyncClient, clock: ManualClock
) -> None:
    async with (
        open_runtime(
            make_settings(settings.storage.database_url, redis_url=require_redis()), clock=clock
        ) as other,
        operator.stream("GET", "/api/stream") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        async with asyncio.timeout(10):
            assert (await anext(stream))[0] == "hello"
            job = await other.engine.submit(NewJob(kind="devices.task", type="delist"))
            assert job is not None
            async for name, data in stream:
                if name == "job" and data["job_id"] == job.id:
                    break
    assert data["event"] == "created" and data["status"] == "pending" and data["protocol"] == "devices"


async def test_the_stream_needs_a_session_and_ends_when_it_expires(
    runtime: Runtime, operator: httpx.AsyncClient, console_url: str, clock: ManualClock
) -> None:
    async with httpx.AsyncClient(base_url=console_url) as anonymous:
        assert (await anonymous.get("/api/stream")).status_code == 401
    async with operator.stream("GET", "/api/stream") as response:
        stream = events(response)
        async with asyncio.timeout(10):
            assert (await anext(stream))[0] == "hello"
            clock.advance(minutes=61)
            await runtime.engine.submit(NewJob(kind="oas.task", type="t"))  # wakes the stream up
            names = [name async for name, _data in stream]
    assert names[-1] == "logout"
